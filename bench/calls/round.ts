// One round of the call benchmark: N calls placed at once on the simulator, all greeted and held by the
// controller, (optionally) the controller's memory measured while they are held, then every caller hangs
// up and we check that every call was released and stored as it should be.
import { performance } from 'node:perf_hooks';
import type { CallSession, Pickup } from '../../src/call/call-session.ts';
import type { Controller } from '../../src/app/controller.ts';
import { summarize, round, type Summary } from '../stats.ts';
import type { SimulatorChild } from './simulator-protocol.ts';
import { verifyStoredCalls, type StoredCheck } from './verify.ts';

/** Milliseconds since the epoch with sub-millisecond resolution (comparable across local processes). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

interface Tracked {
  session: CallSession;
  sessionAtMs: number;
  pickupMs?: number;
  acceptToGreetingMs?: number;
  pickupAtMs?: number;
  released: boolean;
}

/** Follows the controller's sessions through its onSession/onPickup hooks, keyed by FreeSWITCH uuid. */
export class CallTracker {
  readonly calls = new Map<string, Tracked>();

  readonly onSession = (session: CallSession): void => {
    const tracked: Tracked = { session, sessionAtMs: wallMs(), released: false };
    this.calls.set(session.fsUuid, tracked);
    void session.done.then(() => (tracked.released = true));
  };

  readonly onPickup = (session: CallSession, pickup: Pickup): void => {
    const tracked = this.calls.get(session.fsUuid);
    if (tracked === undefined) return;
    tracked.pickupMs = pickup.sinceChannelDataMs;
    tracked.acceptToGreetingMs = pickup.sinceAcceptMs;
    tracked.pickupAtMs = wallMs();
  };
}

export interface MemorySample {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

export interface RoundResult {
  calls: number;
  /** Sessions the controller created for this round's calls. */
  handled: number;
  pickedUp: number;
  /** Calls that reached in_conversation (greeting played, caller held) before the hang-up. */
  greetedAndHeld: number;
  /** Controller time: channel data received → greeting playback command written (onPickup). */
  pickupMs: Summary;
  /** FreeSWITCH's socket accepted → greeting command written: adds FreeSWITCH's connect reply and queueing. */
  acceptToGreetingMs: Summary;
  /** End to end across processes: simulator placed the call → controller created its session. */
  placedToSessionMs: Summary;
  /** End to end: simulator placed the call → controller wrote the greeting playback command. */
  placedToPickupMs: Summary;
  /** First call placed → last call greeted and held (includes the ~0.9 s greeting itself). */
  allHeldAfterMs: number;
  /** Controller process CPU (user + system) per call, from placing to all held. */
  setupCpuMsPerCall: number;
  memory?: { sample: MemorySample; perCallBytes: number; perCallHeapBytes: number };
  hangup: {
    simulatorCauses: Record<string, number>;
    /** Channels that ran exactly socket, answer, record_session, playback, park. */
    channelsWithExpectedApps: number;
    unexpectedApps: string[];
    released: number;
    registryAfter: number;
    /** Every caller hangs up → every session released (ms). */
    releaseMs: number;
  };
  stored: StoredCheck;
}

export interface RoundContext {
  controller: Controller;
  simulator: SimulatorChild;
  tracker: CallTracker;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the call benchmark needs --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function memorySample(): MemorySample {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

export async function runRound(
  context: RoundContext,
  options: { calls: number; baseline?: MemorySample; timeoutMs: number; settleMs: number },
): Promise<RoundResult> {
  const { controller, simulator, tracker } = context;
  tracker.calls.clear();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { calls: placed } = await simulator.request({ type: 'place', count: options.calls }, 'placed', options.timeoutMs);
  const ours = (): Tracked[] => placed.map((p) => tracker.calls.get(p.uuid)).filter((t): t is Tracked => t !== undefined);
  await waitFor(() => {
    const seen = ours();
    return seen.length === placed.length && seen.every((t) => t.session.state === 'in_conversation');
  }, options.timeoutMs);
  const allHeldAfterMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const held = ours();
  const greetedAndHeld = held.filter((t) => t.session.state === 'in_conversation').length;

  let memory: RoundResult['memory'];
  if (options.baseline !== undefined) {
    // Let the journal's database writes for the greeting catch up: we want the steady held-call state.
    await sleep(options.settleMs);
    await collectGarbage();
    const sample = memorySample();
    const base = options.baseline;
    memory = {
      sample,
      perCallBytes: Math.round((sample.heapUsed + sample.external - base.heapUsed - base.external) / options.calls),
      perCallHeapBytes: Math.round((sample.heapUsed - base.heapUsed) / options.calls),
    };
  }

  const placedAt = new Map(placed.map((p) => [p.uuid, p.placedAtMs]));
  const pickups = held.filter((t) => t.pickupMs !== undefined);
  const hangupStarted = performance.now();
  const hung = await simulator.request({ type: 'hangupAll', timeoutMs: options.timeoutMs }, 'hungUp', options.timeoutMs + 5000);
  await waitFor(() => held.every((t) => t.released) && controller.registry.size === 0, options.timeoutMs);
  const releaseMs = performance.now() - hangupStarted;
  const stored = await verifyStoredCalls(controller.store, held.map((t) => t.session.callId));
  if (held.length < placed.length) {
    stored.problemCounts['never reached the controller'] = placed.length - held.length;
  }

  return {
    calls: options.calls,
    handled: held.length,
    pickedUp: pickups.length,
    greetedAndHeld,
    pickupMs: summarize(pickups.map((t) => t.pickupMs as number)),
    acceptToGreetingMs: summarize(pickups.map((t) => t.acceptToGreetingMs as number)),
    placedToSessionMs: summarize(held.map((t) => t.sessionAtMs - (placedAt.get(t.session.fsUuid) as number))),
    placedToPickupMs: summarize(pickups.map((t) => (t.pickupAtMs as number) - (placedAt.get(t.session.fsUuid) as number))),
    allHeldAfterMs: round(allHeldAfterMs, 1),
    setupCpuMsPerCall: round((cpu.user + cpu.system) / 1000 / options.calls),
    ...(memory === undefined ? {} : { memory }),
    hangup: {
      simulatorCauses: hung.causes,
      channelsWithExpectedApps: hung.appsAsExpected,
      unexpectedApps: hung.unexpectedApps,
      released: held.filter((t) => t.released).length,
      registryAfter: controller.registry.size,
      releaseMs: round(releaseMs, 1),
    },
    stored,
  };
}
