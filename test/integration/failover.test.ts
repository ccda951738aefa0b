// Failover through the whole controller: failures are injected where they happen — the 3CX gateway goes
// down in the simulator, the AI engine answers 500 at the wire — and the test checks where calls go, what
// operators see, and who is told.
import { describe, expect, it } from 'vitest';
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import { eventually, type Harness } from '../support/controller-harness.ts';
import { STAFF_NUMBERS, useVoiceHarness } from '../support/voice-peers.ts';

const AI_LINE = '+15559870100';
const PEOPLE_LINE = '+15559870200';
const CALLER = '+15557770199';
const TOKEN = 'test-token-0123456789';
// Detection within 3 s (polls every 200 ms): the tests wait seconds, not minutes.
const FAST_FAILOVER = { FAILOVER_TIMEOUT_SECONDS: '3', GATEWAY_POLL_INTERVAL_MS: '200' };

const suite = useVoiceHarness({ env: FAST_FAILOVER });
const sessions = suite.sessions;
const start = (env: Record<string, string> = {}): Promise<Harness> => suite.start({ env });

interface Ready {
  details: { system: { mode: string; changes: { at: number; from: string; to: string; reason: string; cause: string }[] } };
}

async function ready(h: Harness): Promise<Ready> {
  const response = await fetch(`http://127.0.0.1:${h.controller.addresses.http.port}/ready`);
  return (await response.json()) as Ready;
}

describe('failover', () => {
  it('routes new calls over the backup trunk within the limit when the 3CX gateway goes down, and texts staff', async () => {
    const h = await start();
    expect((await ready(h)).details.system.mode).toBe('normal');
    // The controller runs on the system clock: its timestamps compare with this one.
    const downAt = Date.now();
    h.simulator.setGateway('threecx', { up: false });
    await eventually(async () => (await ready(h)).details.system.mode === '3cx-down', '3cx-down', 8000);
    const change = (await ready(h)).details.system.changes.at(-1)!;
    expect(change).toMatchObject({ from: 'normal', to: '3cx-down', cause: 'detected' });
    expect(change.at).toBeGreaterThanOrEqual(downAt);
    // The controller's own account of the switch: the gateway had been failing for the detection window
    // (FAILOVER_TIMEOUT_SECONDS less two polls, so a failure between polls is caught in time), not less,
    // and within the configured 3 s.
    const failingFor = Number(/threecx_gateway failing for (\d+\.\d) s/.exec(change.reason)?.[1]);
    expect(failingFor).toBeGreaterThanOrEqual(3 - 2 * 0.2);
    expect(failingFor).toBeLessThanOrEqual(3);
    await eventually(() => STAFF_NUMBERS.every((n) => suite.peers.twilio.messages.some((m) => m.to === n && /3CX unreachable/.test(m.body))), 'the staff notices');

    const call = h.simulator.placeCall({ from: CALLER, to: PEOPLE_LINE, callerHangsUpAfterMs: 2000 });
    await eventually(() => call.applications.some((a) => a.app === 'bridge'), 'the bridge');
    expect(call.applications.find((a) => a.app === 'bridge')?.arg).toBe('sofia/gateway/twilio/+15550000180');
    await call.ended;
    const metrics = await h.controller.metrics.registry.getSingleMetricAsString('callbridge_system_mode');
    expect(metrics).toMatch(/mode="3cx-down"} 1/);
  });

  it('hands calls with the agent to people and sends new AI calls to people when the AI engine keeps failing', async () => {
    const engine = await AiEnginePeer.start();
    try {
      engine.behaviour = { kind: 'status', status: 500 };
      const h = await start({ AI_ENGINE_URL: engine.url, AI_ENGINE_DEADLINE_MS: '800' });
      // The first caller still talks with the built-in agent while the engine fails.
      const first = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
      await eventually(() => first.playbacks.length >= 1, 'the built-in greeting', 10_000);
      await eventually(async () => (await ready(h)).details.system.mode === 'ai-down', 'ai-down', 10_000);
      // In ai-down the call still with the agent is told and handed over.
      await eventually(() => sessions[0]?.state === 'bridged', 'the first caller handed to people', 10_000);
      const handed = (await h.controller.store.getCall(sessions[0]!.callId))?.events.find((e) => e.type === 'hand_off');
      expect(handed?.data).toMatchObject({ to: 'operator', reason: 'the AI side is failing' });

      const second = h.simulator.placeCall({ from: '+15557770200', to: AI_LINE, say: [] });
      await eventually(() => second.applications.some((a) => a.app === 'bridge'), 'the second call to people');
      expect(second.applications.map((a) => a.app)).not.toContain('playback');
      first.hangup();
      second.hangup();
      await Promise.all(sessions.map((s) => s.done));
    } finally {
      await engine.close();
    }
  });

  it('lets operators force a mode and clear it', async () => {
    const h = await start();
    const post = async (body: unknown): Promise<Response> =>
      fetch(`http://127.0.0.1:${h.controller.addresses.http.port}/v1/system/mode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post({ mode: 'ai-down', by: 'ops on call' })).status).toBe(200);
    expect((await ready(h)).details.system.mode).toBe('ai-down');
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [], callerHangsUpAfterMs: 1500 });
    await eventually(() => call.applications.some((a) => a.app === 'bridge'), 'the AI line going to people');
    await call.ended;
    expect((await post({ mode: null })).status).toBe(200);
    expect((await ready(h)).details.system.mode).toBe('normal');
    expect((await post({ mode: 'sideways' })).status).toBe(400);
    const unauthenticated = await fetch(`http://127.0.0.1:${h.controller.addresses.http.port}/v1/system/mode`, { method: 'POST' });
    expect(unauthenticated.status).toBe(401);
  });
});
