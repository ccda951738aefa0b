// The FreeSWITCH simulator in a process of its own, driven over IPC by the controller benchmark, so the
// controller's CPU time and memory are measured without the simulator's. It places calls on request (with
// the wall-clock time each was placed, for end-to-end figures), hangs them all up, and reports what each
// channel saw: the applications the controller made it run and its hangup cause.
import { performance } from 'node:perf_hooks';
import { FreeSwitchSimulator, type SimulatedCall } from '../../src/simulator/simulator.ts';
import type { SimulatorReply, SimulatorRequest } from './simulator-protocol.ts';

/** What the controller is expected to run on every call it picks up (and holds after the greeting). */
const EXPECTED_APPS = ['socket', 'answer', 'record_session', 'playback', 'park'];

let simulator: FreeSwitchSimulator | undefined;
const live = new Map<string, SimulatedCall>();
let sequence = 0;

/** Milliseconds since the epoch with sub-millisecond resolution (comparable across local processes). */
const wallMs = (): number => performance.timeOrigin + performance.now();

function reply(message: SimulatorReply): void {
  process.send?.(message);
}

async function handle(request: SimulatorRequest): Promise<void> {
  switch (request.type) {
    case 'start': {
      simulator = new FreeSwitchSimulator({ eslPort: 0, password: request.password, socketTarget: request.socketTarget });
      const { eslPort } = await simulator.start();
      reply({ type: 'started', eslPort });
      return;
    }
    case 'place': {
      const sim = simulator as FreeSwitchSimulator;
      const placed: { uuid: string; placedAtMs: number }[] = [];
      for (let i = 0; i < request.count; i++) {
        sequence++;
        const placedAtMs = wallMs();
        const call = sim.placeCall({ from: `+1555${String(1_000_000 + sequence).slice(-7)}`, to: '+15559870100' });
        live.set(call.uuid, call);
        placed.push({ uuid: call.uuid, placedAtMs });
      }
      reply({ type: 'placed', calls: placed });
      return;
    }
    case 'hangupAll': {
      const calls = [...live.values()];
      live.clear();
      const started = performance.now();
      for (const call of calls) call.hangup('NORMAL_CLEARING');
      const causes: Record<string, number> = {};
      let appsAsExpected = 0;
      const unexpected: string[] = [];
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, request.timeoutMs, 'timeout').unref());
      const results = await Promise.all(calls.map((call) => Promise.race([call.ended, timeout])));
      results.forEach((cause, i) => {
        causes[cause] = (causes[cause] ?? 0) + 1;
        const apps = (calls[i] as SimulatedCall).applications.map((a) => a.app);
        if (apps.join(',') === EXPECTED_APPS.join(',')) appsAsExpected++;
        else if (unexpected.length < 5) unexpected.push(apps.join(','));
      });
      reply({
        type: 'hungUp',
        count: calls.length,
        causes,
        appsAsExpected,
        unexpectedApps: unexpected,
        ms: performance.now() - started,
        activeChannels: (simulator as FreeSwitchSimulator).activeChannels,
      });
      return;
    }
    case 'stop': {
      await simulator?.stop();
      reply({ type: 'stopped' });
      process.disconnect();
      return;
    }
  }
}

process.on('message', (request: SimulatorRequest) => {
  handle(request).catch((error: unknown) => reply({ type: 'error', message: String((error as Error).stack ?? error) }));
});
