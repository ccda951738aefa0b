// Trace replay against the simulator, shared by the conformance tests: sends the recorded client commands
// one by one (paced by the replies, and optionally by channel events, as the recorded client was), maps the
// trace's uuids to the simulator's as they appear, and returns both sides described (simulator-helpers.ts).
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { CommandReader } from '../../src/simulator/command-reader.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { TRACE_DIR, describe, frames, perChannel, readTrace, type Described } from './simulator-helpers.ts';

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: FreeSwitchSimulator | undefined;

/** Stops the simulator the last replay started (call from afterEach). */
export async function stopReplaySimulator(): Promise<void> {
  await sim?.stop();
  sim = undefined;
}

export interface Hooks {
  /** Simulated-time factor; traces whose client paced commands against call timing need real time. */
  timeScale?: number;
  heartbeat?: boolean;
  /** Rewrites a command before it is sent (addresses of local peers). */
  rewrite?: (raw: string) => string;
  /** Also wait, after each command, for as many events as the recorded client saw before its next one. */
  paceByEvents?: boolean;
  /** Runs before command `index` (0-based, in the order the client sent them) is sent. */
  before?: (index: number, line: string, s: FreeSwitchSimulator, uuidMap: Map<string, string>) => Promise<void>;
}

/** Non-event frames FreeSWITCH sent after each client command (from the trace's summary). */
function perCommand(name: string): { replies: number[]; events: number[] } {
  const summary = JSON.parse(readFileSync(join(TRACE_DIR, `${name}.summary.json`), 'utf8')) as {
    sequence: Array<{ dir: string; event_name?: string; unique_id?: string | null; outer_headers?: Array<[string, string]> }>;
  };
  const counts: number[] = [];
  const events: number[] = [];
  let first = true;
  for (const e of summary.sequence) {
    if (e.dir === 'C->S') {
      counts.push(0);
      events.push(0);
      first = false;
    } else if (e.event_name !== undefined && !first) {
      // Only channel events pace the client: API / HEARTBEAT events come at their own times (rule 15).
      if (e.unique_id !== undefined && e.unique_id !== null) events[events.length - 1] = (events.at(-1) ?? 0) + 1;
    } else if (e.event_name === undefined && e.outer_headers !== undefined && e.outer_headers !== null && !first) {
      const ct = e.outer_headers?.find(([k]) => k === 'Content-Type')?.[1] ?? '';
      if (!ct.startsWith('text/event-') && ct !== 'log/data') counts[counts.length - 1] = (counts.at(-1) ?? 0) + 1;
    }
  }
  return { replies: counts, events };
}

export async function replay(name: string, hooks: Hooks = {}): Promise<{ got: Described[]; want: Described[]; raw: string }> {
  // Heartbeats only where the trace is about them: elsewhere they would only add noise to the pacing.
  // The traces record to FreeSWITCH's own paths (/var/lib/freeswitch/…): the events are what is compared here.
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: hooks.timeScale ?? 0.01, heartbeatMs: hooks.heartbeat === true ? 20_000 : 0, writeRecordings: false });
  const { eslPort } = await sim.start();
  const trace = readTrace(name);
  const commands = new CommandReader().push(trace.client);
  const { replies: expected, events: expectedEvents } = perCommand(name);
  const want = frames(trace.fs).map(describe);
  const wantOther = frames(trace.fs).filter((f) => !describe(f).key.startsWith('event'));
  const sock: Socket = connect(eslPort, '127.0.0.1');
  let received = Buffer.alloc(0);
  let lastData = Date.now();
  sock.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
    lastData = Date.now();
  });
  const others = () => frames(received).filter((f) => !describe(f).key.startsWith('event'));
  const eventCount = () => frames(received).filter((f) => describe(f).uniqueId !== undefined).length;
  let wantEvents = 0;
  const waitFor = async (pred: () => boolean, rounds = 400) => {
    for (let i = 0; i < rounds && !pred(); i++) await sleep(5);
  };
  await waitFor(() => others().length >= 1); // auth/request banner
  const uuidMap = new Map<string, string>();
  let want_n = 1;
  for (const [i, cmd] of commands.entries()) {
    await hooks.before?.(i, cmd.line, sim, uuidMap);
    let raw = cmd.raw + (cmd.body ?? '');
    if (hooks.rewrite !== undefined) raw = hooks.rewrite(raw);
    for (const [t, s] of uuidMap) raw = raw.split(t).join(s);
    sock.write(raw);
    want_n += expected[i] ?? 1;
    await waitFor(() => others().length >= want_n);
    wantEvents += expectedEvents[i] ?? 0;
    // API events are not in step with replies (rule 15), so this wait is bounded and short.
    if (hooks.paceByEvents === true) {
      // Wait for the recorded number of channel events, or until the simulator has gone quiet (where it
      // sends fewer events than the capture — documented differences — or a hook placed the call late).
      await waitFor(() => eventCount() >= wantEvents || Date.now() - lastData > 100, 200);
    }
    // Learn uuid mappings from the matching replies (originate results, show rows …).
    const got = others();
    for (let k = 0; k < Math.min(got.length, wantOther.length); k++) {
      const a = JSON.stringify(wantOther[k]).match(UUID) ?? [];
      const b = JSON.stringify(got[k]).match(UUID) ?? [];
      a.forEach((u, j) => b[j] !== undefined && !uuidMap.has(u) && uuidMap.set(u, b[j] ?? u));
    }
  }
  await sleep(30);
  sock.destroy();
  return { got: frames(received).map(describe), want, raw: received.toString('utf8') };
}

export function compare(got: Described[], want: Described[]): void {
  expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
  const g = perChannel(got).filter((c) => c.uuid !== '');
  const w = perChannel(want).filter((c) => c.uuid !== '');
  expect(g.map((c) => c.events.map((e) => e.eventName))).toEqual(w.map((c) => c.events.map((e) => e.eventName)));
  g.forEach((c, ci) =>
    c.events.forEach((e, ei) => expect(e.names, `channel ${ci} event ${ei} ${e.eventName}`).toEqual(w[ci]?.events[ei]?.names)),
  );
}

