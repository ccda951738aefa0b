// `npm run demo`: the embedded default. Starts the FreeSWITCH simulator and the controller (embedded
// PGlite unless DATABASE_URL is set), places a handful of scripted calls, waits for every call to be
// released, and prints a per-call timeline read back from the database with the controller's latencies.
import type { CallEventRecord, CallWithEvents } from '../core/call.ts';
import { FreeSwitchSimulator, type PlaceCallOptions } from '../simulator/simulator.ts';
import type { CallSession, Pickup } from './call-session.ts';
import type { Config } from './config.ts';
import { Controller } from './controller.ts';
import { freePort } from './free-port.ts';
import { createLogger, maskPhoneNumber } from './logger.ts';

interface DemoCall {
  title: string;
  call: PlaceCallOptions;
  /** Simulated ms after the demo starts. */
  atMs: number;
}

// Numbers from dialplan/routing.yaml; where each call goes depends on the practice's hours right now.
const DEMO_CALLS: DemoCall[] = [
  { title: 'main line (AI first): greeting, hold, caller hangs up', atMs: 0, call: { from: '+19195550001', to: '+17045550100', callerHangsUpAfterMs: 3000 } },
  { title: 'caller hangs up early, during the greeting', atMs: 200, call: { from: '+19195550002', to: '+17045550100', callerHangsUpAfterMs: 400 } },
  { title: 'billing line (people first, AI message after hours)', atMs: 300, call: { from: '+19195550003', to: '+17045550102', callerHangsUpAfterMs: 3500 } },
  { title: 'blocked caller', atMs: 350, call: { from: '+13055550199', to: '+17045550100' } },
  { title: 'two at once (1 of 2): Dallas nurse line', atMs: 400, call: { from: '+19195550004', to: '+12145550103', callerHangsUpAfterMs: 6000 } },
  { title: 'two at once (2 of 2): Denver main line', atMs: 400, call: { from: '+19195550005', to: '+13035550100', callerHangsUpAfterMs: 2000 } },
];

const DEMO_DEADLINE_MS = 30_000;

export async function runDemo(config: Config): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const eslPort = await freePort();
  const sessions: CallSession[] = [];
  const pickups = new Map<CallSession, Pickup>();
  const controller = await Controller.start({
    config: {
      ...config,
      freeswitch: { ...config.freeswitch, eslPort, reconnectMinMs: 50, reconnectMaxMs: 200 },
      controllerSocket: { ...config.controllerSocket, port: 0 },
      http: { ...config.http, port: 0 },
    },
    logger,
    onSession: (session) => sessions.push(session),
    onPickup: (session, pickup) => pickups.set(session, pickup),
  });
  const simulator = new FreeSwitchSimulator({
    eslPort,
    password: config.freeswitch.eslPassword,
    socketTarget: controller.addresses.outboundSocket,
  });
  try {
    await simulator.start();
    await controller.waitForFreeSwitch({ timeoutMs: 5000 });
    print(`callbridge demo: FreeSWITCH simulator on 127.0.0.1:${eslPort}, controller socket on ` +
      `127.0.0.1:${controller.addresses.outboundSocket.port}, HTTP API on http://127.0.0.1:${controller.addresses.http.port} ` +
      `(database: ${config.database.url === undefined ? 'embedded PGlite' : 'Postgres'})`);
    if (config.http.apiTokenGenerated) print(`API token for this run: ${config.http.apiToken ?? ''}`);
    print('');

    const placed = DEMO_CALLS.map(
      (demo) =>
        new Promise<{ demo: DemoCall; cause: string }>((resolve) => {
          setTimeout(() => {
            const call = simulator.placeCall(demo.call);
            void call.ended.then((cause) => resolve({ demo, cause }));
          }, demo.atMs);
        }),
    );
    const results = await withDeadline(Promise.all(placed), DEMO_DEADLINE_MS, 'the demo calls did not finish');
    await withDeadline(Promise.all(sessions.map((s) => s.done)), DEMO_DEADLINE_MS, 'the controller did not release every call');

    let failures = 0;
    for (const [index, session] of sessions.entries()) {
      const stored = await controller.store.getCall(session.callId);
      const demo = results.find((r) => r.demo.call.from === session.record.fromNumber)?.demo;
      print(`call ${index + 1}: ${demo?.title ?? 'unscripted call'}`);
      if (stored === undefined) {
        print('  (not found in the database)');
        failures++;
        continue;
      }
      print(formatTimeline(stored, pickups.get(session)));
      if (stored.state !== 'ended') failures++;
    }
    const left = controller.registry.size;
    print(`\n${sessions.length} calls handled, ${left} still active, ${failures} problems`);
    return failures === 0 && left === 0 && sessions.length === DEMO_CALLS.length ? 0 : 1;
  } finally {
    await controller.close();
    await simulator.stop();
  }
}

function formatTimeline(call: CallWithEvents, pickup: Pickup | undefined): string {
  const latency =
    pickup === undefined
      ? 'no greeting (connected to people, or rejected)'
      : `greeting command sent ${pickup.sinceAcceptMs.toFixed(2)} ms after FreeSWITCH's connection, ${pickup.sinceChannelDataMs.toFixed(2)} ms of controller processing`;
  const lines = [
    `  ${maskPhoneNumber(call.fromNumber)} → ${maskPhoneNumber(call.toNumber)}  id ${call.id}`,
    `  ended: ${call.hangupCause ?? '-'}; ${latency}`,
  ];
  const first = call.events[0];
  for (const event of call.events) {
    const t = first === undefined ? 0 : event.monotonicMs - first.monotonicMs;
    lines.push(`  +${t.toFixed(1).padStart(7)} ms  ${describe(event)}`);
  }
  return lines.join('\n');
}

function describe(event: CallEventRecord): string {
  const change = event.fromState !== event.toState ? ` (${event.fromState ?? '-'} → ${event.toState ?? '-'})` : '';
  const cause = typeof event.data.cause === 'string' ? ` ${event.data.cause}` : '';
  const route = event.data.route as { target?: string; ringGroup?: string; rule?: string; reason?: string } | undefined;
  const routed = route === undefined ? '' : ` → ${route.target ?? '?'}${route.ringGroup ? ` "${route.ringGroup}"` : ''} by ${route.rule ?? '?'}: ${route.reason ?? ''}`;
  return `${event.type}${cause}${change}${routed}`;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
