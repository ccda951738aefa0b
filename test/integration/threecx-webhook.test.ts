// POST /v1/webhooks/3cx on the real controller (real Postgres): signed events are matched to our calls by
// SIP Call-ID, else by number and time, and stored once; unsigned, stale, malformed or repeated ones are
// refused with the right status, and no input at all makes it fail.
import { createHmac, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import type { Database } from '../../src/db/index.ts';
import { externalCallEvents } from '../../src/db/schema.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';
import { openSse } from '../support/live-clients.ts';

const SECRET = '3cx-secret-0123456789abcdef';
const postgres = driverFixtures().find((f) => f.kind === 'postgres')!;
const CALLER = '+15556660001';
const DID = '+15559870100';

interface Post {
  status: number;
  body: Record<string, unknown>;
}

describe('3CX call events', () => {
  let database: Database;
  let harness: Harness;
  const sessions: CallSession[] = [];

  beforeAll(async () => {
    database = await postgres.setup();
    harness = await startHarness({ database, env: { THREECX_WEBHOOK_SECRET: SECRET }, controller: { onSession: (s) => sessions.push(s) } });
  });
  afterAll(async () => {
    await harness?.close();
    await postgres.teardown();
  });
  afterEach(() => {
    sessions.length = 0;
  });

  const url = () => `http://127.0.0.1:${harness.controller.addresses.http.port}/v1/webhooks/3cx`;
  const sign = (timestamp: string, raw: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(`${timestamp}.${raw}`).digest('hex')}`;
  const post = async (raw: string, options: { timestamp?: string; signature?: string; secret?: string } = {}): Promise<Post> => {
    const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
    const response = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-3cx-timestamp': timestamp, 'x-3cx-signature': options.signature ?? sign(timestamp, raw, options.secret) },
      body: raw,
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  const event = (fields: Record<string, unknown>) => JSON.stringify({ eventId: randomUUID(), type: 'CALL_STARTED', occurredAt: new Date().toISOString(), ...fields });
  const storedRows = (eventId: string) => database.db.select().from(externalCallEvents).where(eq(externalCallEvents.eventId, eventId));

  const liveCall = async () => {
    const caller = harness.simulator.placeCall({ from: CALLER, to: DID });
    await eventually(() => sessions.length === 1 && sessions[0]!.state === 'in_conversation', 'the call in conversation');
    return { caller, session: sessions[0]! };
  };

  it('matches an event to our call by its SIP Call-ID, during the call and after it ended', async () => {
    const { caller, session } = await liveCall();
    const stream = (await openSse(`http://127.0.0.1:${harness.controller.addresses.http.port}/v1/events`, { authorization: 'Bearer test-token-0123456789' })).client!;
    const sipCallId = caller.getVariable('sip_call_id')!;
    const started = JSON.parse(event({ sipCallId, extension: '101' })) as { eventId: string };
    const answer = await post(JSON.stringify(started));
    expect(answer).toEqual({ status: 202, body: { callId: session.callId, correlation: 'sip_call_id' } });
    const [row] = await storedRows(started.eventId);
    expect(row).toMatchObject({ source: '3cx', eventType: 'CALL_STARTED', callId: session.callId, correlation: 'sip_call_id', data: { sipCallId, extension: '101' } });
    // The dashboard hears of it too.
    const heard = await stream.waitFor((m) => m.type === 'THREECX_CALL_EVENT', 'the 3CX event on the live stream');
    stream.close();
    expect(heard).toMatchObject({ callId: session.callId, data: { eventId: started.eventId, event: 'CALL_STARTED', correlation: 'sip_call_id', extension: '101' } });

    caller.hangup();
    await session.done;
    // 3CX reports the end after we let the call go.
    const ended = await post(event({ type: 'CALL_ENDED', sipCallId }));
    expect(ended).toEqual({ status: 202, body: { callId: session.callId, correlation: 'sip_call_id' } });
  });

  it('otherwise matches by the numbers within a minute of our call start, and keeps only their last digits', async () => {
    const { caller, session } = await liveCall();
    const eventId = randomUUID();
    // 3CX writes numbers its own way; an unknown Call-ID (another leg) does not stop the number match.
    const raw = event({ eventId, type: 'CALL_TRANSFERRED', sipCallId: 'unknown@3cx', from: '(555) 666-0001', to: '5559870100', occurredAt: new Date(Date.now() + 20_000).toISOString() });
    expect(await post(raw)).toEqual({ status: 202, body: { callId: session.callId, correlation: 'number_time' } });
    const [row] = await storedRows(eventId);
    expect(JSON.stringify(row!.data)).not.toContain('6660001');
    expect(row!.data).toMatchObject({ from: '…0001', to: '…0100' });

    // Too far from the call's start, or other numbers: kept, but not ours.
    const late = await post(event({ from: CALLER, to: DID, occurredAt: new Date(Date.now() + 120_000).toISOString() }));
    expect(late).toEqual({ status: 202, body: { callId: null, correlation: 'none' } });
    const other = await post(event({ from: '+15550001111', to: DID }));
    expect(other).toEqual({ status: 202, body: { callId: null, correlation: 'none' } });
    caller.hangup();
    await session.done;
  });

  it('refuses bad and missing signatures and stale timestamps (401), malformed bodies with the reason (400)', async () => {
    const raw = event({});
    expect((await post(raw, { secret: 'the-wrong-secret-0123456789' })).status).toBe(401);
    expect((await post(raw, { signature: 'sha256=abc' })).status).toBe(401);
    expect((await post(raw, { signature: '' })).status).toBe(401);
    expect((await post(`${raw} `, { signature: sign(String(Math.floor(Date.now() / 1000)), raw) })).status).toBe(401);
    const stale = String(Math.floor(Date.now() / 1000) - 301);
    expect(await post(raw, { timestamp: stale })).toMatchObject({ status: 401, body: { message: 'timestamp outside the accepted window' } });
    const future = String(Math.floor(Date.now() / 1000) + 301);
    expect((await post(raw, { timestamp: future })).status).toBe(401);

    expect(await post('{"eventId": ')).toMatchObject({ status: 400, body: { message: 'body is not valid JSON' } });
    const wrongType = await post(event({ type: 'CALL_EXPLODED', from: 'x'.repeat(65) }));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.message).toMatch(/^type: type must be one of CALL_STARTED, CALL_ENDED, CALL_TRANSFERRED, EMERGENCY_ALERT; from: from is too long$/);
    const noDate = await post(JSON.stringify({ eventId: 'e-1', type: 'CALL_ENDED', occurredAt: 'yesterday' }));
    expect(noDate).toMatchObject({ status: 400, body: { message: 'occurredAt: occurredAt must be an ISO 8601 date-time' } });
  });

  it('takes a repeated event id once (200, duplicate), across a restart too', async () => {
    const eventId = randomUUID();
    const raw = event({ eventId, from: '+15550002222' });
    expect((await post(raw)).status).toBe(202);
    expect(await post(raw)).toEqual({ status: 200, body: { duplicate: true } });
    await harness.close();
    harness = await startHarness({ database, env: { THREECX_WEBHOOK_SECRET: SECRET }, controller: { onSession: (s) => sessions.push(s) } });
    // A later delivery of the same event, freshly signed.
    expect(await post(raw)).toEqual({ status: 200, body: { duplicate: true } });
    expect(await storedRows(eventId)).toHaveLength(1);
  });

  it('never fails, whatever arrives', async () => {
    const json = fc.oneof(
      fc.json(),
      fc.record(
        {
          eventId: fc.oneof(fc.string(), fc.uuid(), fc.integer()),
          type: fc.oneof(fc.constantFrom('CALL_STARTED', 'CALL_ENDED', 'CALL_TRANSFERRED', 'EMERGENCY_ALERT'), fc.string()),
          occurredAt: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string(), fc.integer()),
          sipCallId: fc.oneof(fc.string(), fc.constant(null)),
          from: fc.oneof(fc.string(), fc.stringMatching(/^\+1\d{10}$/)),
          to: fc.string(),
          extension: fc.anything(),
        },
        { requiredKeys: [] },
      ).map((o) => JSON.stringify(o)),
      fc.string({ unit: 'binary' }),
    );
    await fc.assert(
      fc.asyncProperty(json, fc.boolean(), fc.oneof(fc.constant(undefined), fc.stringMatching(/^[0-9a-z-]{0,12}$/)), async (raw, signed, timestamp) => {
        const now = String(Math.floor(Date.now() / 1000));
        const answer = await post(raw, signed ? {} : { timestamp: timestamp ?? now, signature: sign(now, `${raw}x`) });
        expect([200, 202, 400, 401]).toContain(answer.status);
        if (!signed) expect(answer.status).toBe(401);
      }),
      { numRuns: 150 },
    );
    // Still serving.
    expect((await post(event({}))).status).toBe(202);
  });

  it('refuses everything (503) on a controller without the secret: nothing unsigned is taken', async () => {
    const unconfigured = await startHarness({ database });
    try {
      const response = await fetch(`http://127.0.0.1:${unconfigured.controller.addresses.http.port}/v1/webhooks/3cx`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: event({}),
      });
      expect(response.status).toBe(503);
    } finally {
      await unconfigured.close();
    }
  });
});
