// The whole controller against the FreeSWITCH simulator over real TCP, on both database drivers: what a
// caller experiences (answered, greeted, recorded, held), what the database keeps, and that nothing is
// left behind after each scenario.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import { DrizzleCallStore } from '../../src/db/index.ts';
import type { CallWithEvents } from '../../src/core/call.ts';
import {
  activeHandles,
  eventually,
  scenarioDatabases,
  startHarness,
  type DatabaseForHarness,
  type Harness,
} from '../support/controller-harness.ts';

describe.each(scenarioDatabases)('controller handling calls ($kind)', (driver) => {
  let database: DatabaseForHarness;
  let harness: Harness;
  let sessions: CallSession[];

  beforeAll(async () => {
    database = await driver.open();
  });
  afterAll(async () => {
    await database.close();
  });

  let baseline: Record<string, number>;

  async function start(): Promise<Harness> {
    sessions = [];
    baseline = activeHandles();
    // Calls are recorded only with a key to encrypt the recordings.
    const env = { ...database.harness.env, CALL_RECORDING_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };
    harness = await startHarness({ ...database.harness, env, controller: { onSession: (s) => sessions.push(s) } });
    return harness;
  }

  // After every scenario: no active calls, and once controller and simulator are closed, no sockets,
  // servers or timers beyond what the process had before.
  afterEach(async () => {
    expect(harness.controller.registry.size).toBe(0);
    await harness.close();
    await eventually(() => {
      const now = activeHandles();
      return ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'].every((kind) => (now[kind] ?? 0) <= (baseline[kind] ?? 0));
    }, `handles back to ${JSON.stringify(baseline)} (now ${JSON.stringify(activeHandles())})`, 3000);
  });

  async function storedCall(session: CallSession): Promise<CallWithEvents> {
    await session.done;
    const call = await harness.controller.store.getCall(session.callId);
    if (call === undefined) throw new Error('call not stored');
    return call;
  }

  it('answers, records, greets and holds a caller, then ends the call when the caller hangs up', async () => {
    const { simulator, controller } = await start();
    const caller = simulator.placeCall({ from: '+15551234567', to: '+15559870100', callerHangsUpAfterMs: 3000 });
    expect(await caller.ended).toBe('NORMAL_CLEARING');
    await eventually(() => sessions.length === 1, 'the session');
    const session = sessions[0] as CallSession;
    const call = await storedCall(session);

    expect(caller.applications.map((a) => a.app)).toEqual(['socket', 'answer', 'set', 'record_session', 'playback', 'park']);
    expect(caller.getVariable('RECORD_STEREO')).toBe('true');
    const recording = caller.applications.find((a) => a.app === 'record_session');
    expect(recording?.arg).toContain(call.id);

    expect(call).toMatchObject({
      fsUuid: caller.uuid,
      direction: 'inbound',
      fromNumber: '+15551234567',
      toNumber: '+15559870100',
      state: 'ended',
      hangupCause: 'NORMAL_CLEARING',
    });
    expect(call.answeredAt).not.toBeNull();
    expect(call.endedAt!.getTime()).toBeGreaterThanOrEqual(call.answeredAt!.getTime());
    const transitions = call.events.filter((e) => e.fromState !== e.toState).map((e) => `${e.fromState}>${e.toState}`);
    expect(transitions).toEqual(['ringing>answered', 'answered>in_conversation', 'in_conversation>ended']);
    expect(call.events.map((e) => e.type)).toContain('record_start');
    expect(call.events.map((e) => e.type)).not.toContain('command_failed');
    expect(call.events.some((e) => e.type.startsWith('illegal'))).toBe(false);
    // Ordered and monotonic.
    expect(call.events.map((e) => e.seq)).toEqual(call.events.map((_, i) => i + 1));
    for (let i = 1; i < call.events.length; i++) {
      expect(call.events[i]!.monotonicMs).toBeGreaterThanOrEqual(call.events[i - 1]!.monotonicMs);
    }
    expect(controller.registry.size).toBe(0);
  });

  it('ends cleanly when the caller hangs up during the greeting', async () => {
    const { simulator, controller } = await start();
    const caller = simulator.placeCall({ from: '+15551230002', to: '+15559870100', callerHangsUpAfterMs: 300 });
    await caller.ended;
    await eventually(() => sessions.length === 1, 'the session');
    const call = await storedCall(sessions[0] as CallSession);
    expect(call.state).toBe('ended');
    expect(call.events.map((e) => e.type)).not.toContain('greeting_finished');
    expect(call.events.some((e) => e.type.startsWith('illegal') || e.type === 'command_failed')).toBe(false);
    expect(caller.applications.map((a) => a.app)).not.toContain('park');
    expect(controller.registry.size).toBe(0);
  });

  it('survives a caller who hangs up the instant the call reaches us', async () => {
    const { simulator, controller } = await start();
    const caller = simulator.placeCall({ from: '+15551230003', to: '+15559870100', callerHangsUpAfterMs: 1 });
    await caller.ended;
    await eventually(() => controller.registry.size === 0 && sessions.length <= 1, 'release');
    for (const session of sessions) {
      const call = await storedCall(session);
      expect(call.state).toBe('ended');
    }
  });

  it('handles twenty simultaneous calls and releases every one of them', async () => {
    const { simulator, controller } = await start();
    const callers = Array.from({ length: 20 }, (_, i) =>
      simulator.placeCall({ from: `+1555100${String(i).padStart(4, '0')}`, to: '+15559870100' }),
    );
    // Every caller is greeted and held at the same time before anyone hangs up.
    await eventually(
      () => sessions.length === 20 && sessions.every((s) => s.state === 'in_conversation'),
      `twenty calls in conversation (have ${sessions.length})`,
      15_000,
    );
    for (const caller of callers) caller.hangup();
    await Promise.all(callers.map((c) => c.ended));
    await Promise.all(sessions.map((s) => s.done));
    const stored = await Promise.all(sessions.map((s) => storedCall(s)));
    expect(new Set(stored.map((c) => c.fsUuid))).toEqual(new Set(callers.map((c) => c.uuid)));
    expect(stored.every((c) => c.state === 'ended' && c.hangupCause === 'NORMAL_CLEARING')).toBe(true);
    expect(controller.registry.size).toBe(0);
    expect(simulator.activeChannels).toBe(0);
    const metrics = await controller.metrics.registry.getSingleMetricAsString('callbridge_calls_total');
    expect(metrics).toContain('outcome="completed"} 20');
  });

  it('ends the call with a recorded cause when FreeSWITCH goes away mid-call', async () => {
    const { simulator, controller } = await start();
    simulator.placeCall({ from: '+15551230004', to: '+15559870100' });
    await eventually(() => sessions[0]?.state === 'in_conversation', 'the call in conversation');
    await simulator.stop();
    const call = await storedCall(sessions[0] as CallSession);
    expect(call.state).toBe('ended');
    expect(call.hangupCause).not.toBeNull();
    expect(controller.registry.size).toBe(0);
  });

  it("keeps the caller's audio quality in the call record and flags a poor line", async () => {
    const { simulator, controller } = await start();
    const good = simulator.placeCall({ from: '+15551230011', to: '+15559870100', callerHangsUpAfterMs: 3000 });
    const poor = simulator.placeCall({ from: '+15551230012', to: '+15559870100', callerHangsUpAfterMs: 3000, line: { mos: 2.8, lossPercent: 30 } });
    await Promise.all([good.ended, poor.ended]);
    await eventually(() => sessions.length === 2, 'two sessions');
    const stored = await Promise.all(sessions.map((s) => storedCall(s)));
    const byFs = new Map(stored.map((c) => [c.fsUuid, c]));
    expect(byFs.get(good.uuid)?.voiceQuality).toMatchObject({ mos: 4.5, packetLossPercent: 0, poor: false });
    expect(byFs.get(poor.uuid)?.voiceQuality).toMatchObject({ mos: 2.8, poor: true });
    // The simulated call is short (time runs 20× faster), so the loss is only roughly the line's 30 %.
    expect(byFs.get(poor.uuid)?.voiceQuality?.packetLossPercent).toBeGreaterThan(10);
    expect(byFs.get(poor.uuid)?.events.map((e) => e.type)).toContain('voice_quality');
    const metric = await controller.metrics.registry.getSingleMetricAsString('callbridge_poor_quality_calls_total');
    expect(metric).toMatch(/callbridge_poor_quality_calls_total 1/);
  });

  it('releases every listener of a call on its connection when the call ends', async () => {
    const { simulator } = await start();
    const callers = [1, 2, 3].map((i) =>
      simulator.placeCall({ from: `+1555200000${i}`, to: '+15559870100', callerHangsUpAfterMs: 400 * i }),
    );
    await Promise.all(callers.map((c) => c.ended));
    await eventually(() => sessions.length === 3, 'three sessions');
    await Promise.all(sessions.map((s) => s.done));
    for (const session of sessions) {
      expect(session.state).toBe('ended');
      expect(session.connectionListeners()).toBe(0);
    }
  });
});

describe('controller shutdown with a call in progress', () => {
  it('hands the caller back to the FreeSWITCH dialplan (its fallback to humans) instead of hanging up', async () => {
    const database = await scenarioDatabases[1]!.open();
    const sessions: CallSession[] = [];
    const harness = await startHarness({ ...database.harness, controller: { onSession: (s) => sessions.push(s) } });
    try {
      const caller = harness.simulator.placeCall({ from: '+15551230009', to: '+15559870100' });
      await eventually(() => sessions[0]?.state === 'in_conversation', 'the call in conversation');
      const callId = sessions[0]!.callId;
      await harness.controller.close();

      // The dialplan went on after the socket application: the caller is being bridged to the ring group.
      await eventually(() => caller.applications.some((a) => a.app === 'bridge'), 'the fallback bridge');
      const bridge = caller.applications.find((a) => a.app === 'bridge');
      expect(bridge?.arg).toContain('threecx');
      let ended = false;
      void caller.ended.then(() => (ended = true));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(ended).toBe(false);

      // The call row stays open for the next resync, with the hand-over on record.
      const stored = await new DrizzleCallStore({ db: database.harness.database!.db }).getCall(callId);
      expect(stored?.state).toBe('in_conversation');
      expect(stored?.events.map((e) => e.type)).toContain('handed_to_dialplan');
    } finally {
      await harness.close();
      await database.close();
    }
  });
});
