// The outbound-call and do-not-call API inside the authenticated /v1 scope, as the controller registers it,
// with the real outbound store on Postgres and PGlite behind the OutboundDialer's service side (no ESL
// connection: nothing is placed, so what the API answers is what the policy and the store decided).
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.ts';
import { OutboundDialer } from '../../src/app/outbound-dialer.ts';
import { DrizzleCallStore, DrizzleOutboundStore, FieldCipher, type Database } from '../../src/db/index.ts';
import { buildHttpServer, createMetrics, outboundRoutes } from '../../src/http/index.ts';
import { driverFixtures } from './db-fixture.ts';

const TOKEN = 'test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
// Tue 2 Jun 2026, 10:00 in New York.
let now = new Date('2026-06-02T14:00:00.000Z');

describe.each(driverFixtures())('outbound API on $kind', (fixture) => {
  let database: Database;
  let store: DrizzleOutboundStore;
  let dialer: OutboundDialer;
  let app: FastifyInstance;
  const logger = createLogger({ level: 'silent', format: 'json' });

  beforeAll(async () => {
    database = await fixture.setup();
    store = new DrizzleOutboundStore({ db: database.db, cipher: FieldCipher.fromBase64(randomBytes(32).toString('base64')) });
    dialer = new OutboundDialer({
      store,
      connection: () => undefined,
      clock: { now: () => now },
      logger,
      callerIdNumber: '+15550000000',
      gateway: () => 'threecx',
      socketTarget: { host: '127.0.0.1', port: 1 },
      defaultTimeZone: 'America/New_York',
    });
    app = buildHttpServer({
      logger,
      callStore: new DrizzleCallStore({ db: database.db }),
      readinessChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      apiToken: TOKEN,
    });
    void app.register(
      async (v1) => {
        await v1.register(outboundRoutes, { outbound: dialer });
      },
      { prefix: '/v1' },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await dialer.stop();
    await fixture.teardown();
  });
  beforeEach(async () => {
    now = new Date('2026-06-02T14:00:00.000Z');
    await database.db.execute('truncate table outbound_calls, do_not_call');
  });

  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/calls/outbound', headers: AUTH, payload: payload as object });

  it('accepts a request inside calling hours for now, and shows it', async () => {
    const res = await post({ to: '+15551230001', purpose: 'appointment_reminder', context: { appointmentAt: '2026-06-03T15:00:00Z' } });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({ id: expect.any(String), status: 'scheduled', scheduledAt: '2026-06-02T14:00:00.000Z' });

    const shown = await app.inject({ method: 'GET', url: `/v1/calls/outbound/${body.id}`, headers: AUTH });
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({
      id: body.id,
      to: '+15551230001',
      purpose: 'appointment_reminder',
      status: 'scheduled',
      attempts: 0,
      timeZone: 'America/New_York',
    });
    // The context may be clinical: it is kept (encrypted) for the call, never shown here.
    expect(shown.json()).not.toHaveProperty('context');
    expect((await store.get(body.id))?.context).toEqual({ appointmentAt: '2026-06-03T15:00:00Z' });
  });

  it('schedules a late-evening request for 08:00 in the patient’s zone', async () => {
    now = new Date('2026-06-03T03:30:00Z'); // 20:30 in Los Angeles
    const res = await post({ to: '+15551230001', purpose: 'follow_up', timeZone: 'America/Los_Angeles' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: 'scheduled', scheduledAt: '2026-06-03T15:00:00.000Z' });
  });

  it('refuses a number on the do-not-call list with 422 and the reason, and records the refusal', async () => {
    const added = await app.inject({ method: 'POST', url: '/v1/do-not-call', headers: AUTH, payload: { number: '+15551230001', reason: 'asked' } });
    expect(added.statusCode).toBe(201);
    const res = await post({ to: '+15551230001', purpose: 'results_ready' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'refused', reason: 'do_not_call' });
    expect(await store.get(res.json().id)).toMatchObject({ status: 'refused', result: 'do_not_call' });

    const removed = await app.inject({ method: 'DELETE', url: '/v1/do-not-call', headers: AUTH, payload: { number: '+15551230001' } });
    expect(removed.statusCode).toBe(204);
    expect((await post({ to: '+15551230001', purpose: 'results_ready' })).statusCode).toBe(202);
    const again = await app.inject({ method: 'DELETE', url: '/v1/do-not-call', headers: AUTH, payload: { number: '+15551230001' } });
    expect(again.statusCode).toBe(404);
  });

  it('refuses a request whose window has passed with 422', async () => {
    const res = await post({ to: '+15551230001', purpose: 'reschedule', notAfter: '2026-06-02T13:00:00Z' });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ reason: 'expired' });
  });

  it.each([
    [{ to: '5551230001', purpose: 'follow_up' }, 'to: must be an E.164 number'],
    [{ to: '+15551230001', purpose: 'marketing' }, 'purpose: must be one of'],
    [{ to: '+15551230001', purpose: 'follow_up', context: 'x' }, 'context: must be an object'],
    [{ to: '+15551230001', purpose: 'follow_up', context: { notes: 'x'.repeat(5000) } }, 'context: must be at most 4096 bytes'],
    [{ to: '+15551230001', purpose: 'follow_up', notBefore: 'tomorrow' }, 'notBefore: must be an ISO 8601'],
    [{ to: '+15551230001', purpose: 'follow_up', notBefore: '2026-06-03T00:00:00Z', notAfter: '2026-06-02T00:00:00Z' }, 'notAfter: notBefore must be before notAfter'],
    [{ to: '+15551230001', purpose: 'follow_up', timeZone: 'Mars/Olympus' }, 'timeZone: must be an IANA time zone'],
    [{ to: '+15551230001', purpose: 'follow_up', extra: 1 }, 'Unrecognized key'],
  ])('answers 400 for %j', async (payload, message) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain(message);
    expect(await store.due(new Date('2030-01-01T00:00:00Z'))).toEqual([]);
  });

  it('answers 404 for an unknown request, 400 for a malformed id, 401 without the token', async () => {
    expect((await app.inject({ method: 'GET', url: `/v1/calls/outbound/${randomUUID()}`, headers: AUTH })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/calls/outbound/nope', headers: AUTH })).statusCode).toBe(400);
    expect((await post({ to: '+15551230001', purpose: 'follow_up' })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/v1/calls/outbound', payload: { to: '+15551230001', purpose: 'follow_up' } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/do-not-call', payload: { number: '+15551230001' } })).statusCode).toBe(401);
  });
});
