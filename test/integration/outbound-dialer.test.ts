// The outbound dialer over real ESL against the FreeSWITCH simulator, with the real store (PGlite): a due
// request is originated through the gateway of the moment, and once the patient answers the simulator's leg
// runs the socket application and connects to our outbound-socket listener like an inbound call, carrying the
// request's id and purpose; do-not-call and out-of-hours requests are not placed; unanswered calls are retried
// with backoff and then given up.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.ts';
import { OutboundDialer, originateCommand, type OutboundDialerOptions } from '../../src/app/outbound-dialer.ts';
import { DrizzleOutboundStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { InboundEslClient, OutboundSocketServer, type EslConnection, type EslEvent } from '../../src/esl/index.ts';
import { FreeSwitchSimulator, type EndpointBehaviour } from '../../src/simulator/simulator.ts';

const PATIENT = '+15551230001';
// Tue 2 Jun 2026, 10:00 in New York.
const T0 = new Date('2026-06-02T14:00:00.000Z');

let sim: FreeSwitchSimulator | undefined;
let esl: InboundEslClient | undefined;
let listener: OutboundSocketServer | undefined;
let database: Database;
let dialer: OutboundDialer | undefined;

afterEach(async () => {
  await dialer?.stop();
  await listener?.close();
  await esl?.stop();
  await sim?.stop();
  dialer = undefined;
  listener = undefined;
  esl = undefined;
  sim = undefined;
});

// One embedded database for the file (migrating takes seconds), emptied for each test.
beforeAll(async () => {
  database = await openDatabase({ pgliteDataDir: 'memory://' });
  await migrate(database);
});
afterAll(async () => {
  await database.close();
});

interface Rig {
  dialer: OutboundDialer;
  store: DrizzleOutboundStore;
  arrived: Array<{ connection: EslConnection; channelData: EslEvent }>;
  originates: EslEvent[];
  clock: { now: Date };
  gateway: { name: string };
}

async function rig(endpoints: Record<string, EndpointBehaviour>, extra: Partial<OutboundDialerOptions> = {}): Promise<Rig> {
  listener = new OutboundSocketServer();
  const arrived: Rig['arrived'] = [];
  listener.on('call', (connection, channelData) => arrived.push({ connection, channelData }));
  const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
  // 1/50 time: 30 s of ringing last 600 ms.
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.02, heartbeatMs: 0, endpoints });
  const { eslPort } = await sim.start();
  esl = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password: 'ClueCon', events: ['BACKGROUND_JOB', 'CHANNEL_ORIGINATE'] });
  await esl.start();
  const connection = await esl.waitConnected({ timeoutMs: 5_000 });
  const originates: EslEvent[] = [];
  connection.on('event', (event) => {
    if (event.name === 'CHANNEL_ORIGINATE') originates.push(event);
  });
  await database.db.execute('truncate table outbound_calls, do_not_call');
  const store = new DrizzleOutboundStore({ db: database.db });
  const clock = { now: T0 };
  const gateway = { name: 'threecx' };
  dialer = new OutboundDialer({
    store,
    connection: () => esl?.current(),
    clock: { now: () => clock.now },
    logger: createLogger({ level: 'silent', format: 'json' }),
    callerIdNumber: '+15550000000',
    gateway: () => gateway.name,
    socketTarget: { host: '127.0.0.1', port },
    defaultTimeZone: 'America/New_York',
    ...extra,
  });
  return { dialer, store, arrived, originates, clock, gateway };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

const ask = (d: OutboundDialer, overrides: Partial<Parameters<OutboundDialer['request']>[0]> = {}) =>
  d.request({ to: PATIENT, purpose: 'appointment_reminder', context: null, notBefore: null, notAfter: null, ...overrides });

describe('outbound dialer against the simulator', () => {
  it('places a due request; the answered leg connects to our socket listener with the request’s variables', async () => {
    const { dialer, store, arrived, originates } = await rig({ [`gateway/threecx/${PATIENT}`]: { kind: 'answer', answerAfterMs: 1000 } });
    const asked = await ask(dialer);
    expect(asked.kind).toBe('accepted');
    if (asked.kind !== 'accepted') return;
    await dialer.runDue();
    await dialer.settled();

    await until(() => arrived.length === 1);
    const data = arrived[0]?.channelData.headers;
    expect(data?.get('variable_callbridge_outbound_id')).toBe(asked.call.id);
    expect(data?.get('variable_callbridge_purpose')).toBe('appointment_reminder');
    expect(data?.get('Channel-Name')).toBe(`sofia/gateway/threecx/${PATIENT}`);
    expect(data?.get('Answer-State')).toBe('answered');
    // The leg is the one the dialer named, shows the practice's number, and went out through 3CX.
    expect(originates).toHaveLength(1);
    expect(originates[0]?.headers.get('variable_origination_caller_id_number')).toBe('+15550000000');
    expect(data?.get('Unique-ID')).toBe(originates[0]?.headers.get('Unique-ID'));
    expect(await store.get(asked.call.id)).toMatchObject({ status: 'answered', attempts: 1 });

    // The session that took the leg reports our call id and that a machine answered.
    const callId = '0b6c7f0e-3c53-4a43-9a4e-9e4a3c5f1d20';
    expect(await dialer.noteAnswered(asked.call.id, { callId, machine: true })).toBe(true);
    expect(await store.get(asked.call.id)).toMatchObject({ status: 'machine', callId });
  });

  it('goes out through the Twilio trunk while 3CX is down', async () => {
    const { dialer, arrived, gateway } = await rig({ [`gateway/twilio/${PATIENT}`]: { kind: 'answer', answerAfterMs: 500 } });
    gateway.name = 'twilio';
    await ask(dialer);
    await dialer.runDue();
    await dialer.settled();
    await until(() => arrived.length === 1);
    expect(arrived[0]?.channelData.headers.get('Channel-Name')).toBe(`sofia/gateway/twilio/${PATIENT}`);
  });

  it('does not place a number that went on the do-not-call list after the request, nor one outside calling hours', async () => {
    const { dialer, store, arrived, originates, clock } = await rig({});
    // Accepted earlier (straight into the store, so no placing starts before the number is listed).
    const listed = await store.create({
      to: PATIENT,
      purpose: 'follow_up',
      context: null,
      notBefore: null,
      notAfter: null,
      timeZone: 'America/New_York',
      status: 'scheduled',
      scheduledAt: T0,
    });
    await dialer.addDoNotCall(PATIENT, 'asked on another call');
    clock.now = new Date('2026-06-03T01:00:00Z'); // 21:00 in New York
    const late = await ask(dialer, { to: '+15551230002' });
    expect(late).toMatchObject({ kind: 'accepted', call: { scheduledAt: new Date('2026-06-03T12:00:00Z') } });
    await dialer.runDue();
    await dialer.settled();
    expect(originates).toEqual([]);
    expect(arrived).toEqual([]);
    if (late.kind !== 'accepted') return;
    expect(await store.get(listed.id)).toMatchObject({ status: 'refused', result: 'do_not_call', attempts: 0 });
    expect(await store.get(late.call.id)).toMatchObject({ status: 'scheduled', attempts: 0 });
  });

  it('retries an unanswered call after the backoff, then gives up as no_answer', async () => {
    const { dialer, store, originates, clock } = await rig(
      { [`gateway/threecx/${PATIENT}`]: { kind: 'no_answer' } },
      { retry: { maxAttempts: 2, backoffMs: [15 * 60_000] } },
    );
    const asked = await ask(dialer);
    if (asked.kind !== 'accepted') throw new Error('not accepted');
    await dialer.runDue();
    await dialer.settled();
    expect(await store.get(asked.call.id)).toMatchObject({ status: 'scheduled', attempts: 1, result: 'NO_ANSWER', scheduledAt: new Date(T0.getTime() + 15 * 60_000) });

    // Not before the backoff…
    clock.now = new Date(T0.getTime() + 14 * 60_000);
    await dialer.runDue();
    await dialer.settled();
    expect(originates).toHaveLength(1);
    // …then once more, and that was the last attempt.
    clock.now = new Date(T0.getTime() + 15 * 60_000);
    await dialer.runDue();
    await dialer.settled();
    expect(originates).toHaveLength(2);
    expect(await store.get(asked.call.id)).toMatchObject({ status: 'no_answer', attempts: 2, result: 'NO_ANSWER' });
  });

  it('fails at once on a cause not worth retrying, and never places more than the global rate', async () => {
    const { dialer, store, originates } = await rig(
      { [`gateway/threecx/${PATIENT}`]: { kind: 'reject', cause: 'UNALLOCATED_NUMBER' } },
      { limits: { perNumberIntervalMs: 10 * 60_000, maxPerMinute: 2 } },
    );
    const wrong = await ask(dialer);
    await ask(dialer, { to: '+15551230002' });
    await ask(dialer, { to: '+15551230003' });
    await dialer.runDue();
    await dialer.settled();
    expect(originates).toHaveLength(2);
    if (wrong.kind !== 'accepted') return;
    expect(await store.get(wrong.call.id)).toMatchObject({ status: 'failed', result: 'UNALLOCATED_NUMBER', attempts: 1 });
    const waiting = await store.due(new Date(T0.getTime() + 60_000));
    expect(waiting.map((r) => [r.to, r.result])).toEqual([['+15551230003', 'global_rate_limit']]);
  });

  it('builds the originate FreeSWITCH splits into dial string and one quoted &socket(...) argument', () => {
    expect(
      originateCommand({
        legUuid: '11111111-2222-4333-8444-555555555555',
        outboundId: '66666666-7777-4888-9999-000000000000',
        purpose: 'follow_up',
        callerIdNumber: '+1 (555) 000-0000',
        gateway: 'twilio',
        to: '+15551230001;evil=1',
        ringSeconds: 30,
        socketTarget: { host: '10.0.0.5', port: 8084 },
      }),
    ).toBe(
      'originate {origination_uuid=11111111-2222-4333-8444-555555555555,origination_caller_id_number=+15550000000,originate_timeout=30,' +
        'callbridge_outbound_id=66666666-7777-4888-9999-000000000000,callbridge_purpose=follow_up,ignore_early_media=true}' +
        "sofia/gateway/twilio/+155512300011 '&socket(10.0.0.5:8084 async full)'",
    );
  });
});
