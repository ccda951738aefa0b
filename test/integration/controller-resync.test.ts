// Resynchronisation with FreeSWITCH: what the controller does with calls it did not see start, calls that
// vanished while it could not see FreeSWITCH, and an inbound connection that drops and comes back.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.ts';
import { DrizzleCallStore, outbox } from '../../src/db/index.ts';
import { eq } from 'drizzle-orm';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';

const [postgres] = driverFixtures();

describe('controller resync with FreeSWITCH (postgres)', () => {
  let database: Database;
  let harness: Harness | undefined;
  let restarted: FreeSwitchSimulator | undefined;

  beforeAll(async () => {
    database = await postgres!.setup();
  });
  afterAll(async () => {
    await postgres!.teardown();
  });
  afterEach(async () => {
    await harness?.close();
    await restarted?.stop();
    harness = undefined;
    restarted = undefined;
  });

  it('adopts a live call it did not see start, and ends it when FreeSWITCH reports the hangup (announced as ended)', async () => {
    let parked: ReturnType<FreeSwitchSimulator['placeCall']> | undefined;
    harness = await startHarness({
      database,
      // Webhooks configured: the call's end goes to the outbox like any other call's.
      env: { WEBHOOK_URLS: 'https://hooks.practice.example/calls', WEBHOOK_SECRET: 'resync-webhook-secret-0123' },
      // Extension 4000 answers and parks without involving the controller (as after a controller outage,
      // when FreeSWITCH's dialplan sent the caller straight to a human).
      beforeController: (simulator) => {
        parked = simulator.placeCall({ from: '+15557770001', to: '4000' });
      },
    });
    const caller = parked!;
    const { controller } = harness;
    const adopted = controller.registry.getByFsUuid(caller.uuid);
    expect(adopted).toBeDefined();
    const stored = await controller.store.getCall(adopted!.callId);
    expect(stored).toMatchObject({ fsUuid: caller.uuid, state: 'answered', fromNumber: '+15557770001' });
    expect(stored!.events.map((e) => e.type)).toEqual(['adopted']);

    caller.hangup('NORMAL_CLEARING');
    await eventually(() => controller.registry.size === 0, 'the adopted call to end');
    await eventually(async () => (await controller.store.getCall(adopted!.callId))?.state === 'ended', 'the row to be ended');
    const ended = await controller.store.getCall(adopted!.callId);
    expect(ended!.hangupCause).toBe('NORMAL_CLEARING');
    const announced = async () =>
      (await database.db.select().from(outbox).where(eq(outbox.queue, 'webhooks'))).find((row) => (row.payload.body as string).includes(adopted!.callId));
    await eventually(async () => (await announced()) !== undefined, 'the CALL_ENDED webhook row');
    const body = JSON.parse((await announced())!.payload.body as string) as { type: string; data: Record<string, unknown> };
    expect(body).toMatchObject({ type: 'CALL_ENDED', data: { outcome: 'completed', hangupCause: 'NORMAL_CLEARING', direction: 'inbound' } });
  });

  it('ends calls the database thinks are live but FreeSWITCH no longer has', async () => {
    const store = new DrizzleCallStore({ db: database.db });
    const ghostId = randomUUID();
    await store.createCall({
      id: ghostId,
      fsUuid: randomUUID(),
      direction: 'inbound',
      fromNumber: '+15557770002',
      toNumber: '+15559870100',
      location: null,
      state: 'in_conversation',
      startedAt: new Date(Date.now() - 60_000),
      answeredAt: new Date(Date.now() - 59_000),
      endedAt: null,
      hangupCause: null,
      voiceQuality: null,
    });
    harness = await startHarness({ database });
    const ghost = await harness.controller.store.getCall(ghostId);
    expect(ghost).toMatchObject({ state: 'ended', hangupCause: 'LOST_DURING_ESL_OUTAGE' });
    expect(ghost!.events.at(-1)).toMatchObject({ type: 'hung_up', toState: 'ended' });
  });

  it('reconnects after FreeSWITCH restarts, counts the reconnect, and ends the adopted calls that died with it', async () => {
    let parked: ReturnType<FreeSwitchSimulator['placeCall']> | undefined;
    harness = await startHarness({
      database,
      beforeController: (simulator) => {
        parked = simulator.placeCall({ from: '+15557770003', to: '4000' });
      },
    });
    const { controller, simulator, eslPort } = harness;
    const adopted = controller.registry.getByFsUuid(parked!.uuid);
    expect(adopted).toBeDefined();

    // FreeSWITCH restarts: every channel is gone and the inbound connection drops without a hangup event
    // reaching us (the simulator tears sockets down before its channels report anything).
    await simulator.stop();
    restarted = new FreeSwitchSimulator({ eslPort, password: 'ClueCon', timeScale: 0.05 });
    await restarted.start();

    // Generous limits: a loaded CI machine can take a while to notice the drop and reconnect.
    await eventually(async () => (await controller.store.getCall(adopted!.callId))?.state === 'ended', 'the adopted call to be ended', 15_000);
    await eventually(() => controller.registry.size === 0, 'the registry to empty', 15_000);
    const ended = await controller.store.getCall(adopted!.callId);
    expect(ended).toMatchObject({ state: 'ended', hangupCause: 'LOST_DURING_ESL_OUTAGE' });
    expect(ended!.events.map((e) => e.type)).toEqual(['adopted', 'hung_up']);
    const reconnects = await controller.metrics.registry.getSingleMetricAsString('callbridge_esl_reconnects_total');
    // At least the one reconnect: a FreeSWITCH going down can still accept a connection and drop it at once,
    // which is a second (real) reconnect.
    expect(Number(/callbridge_esl_reconnects_total (\d+)/.exec(reconnects)?.[1])).toBeGreaterThanOrEqual(1);
    await controller.waitForFreeSwitch({ timeoutMs: 5000 });
  });
});
