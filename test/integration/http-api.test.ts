// The HTTP API wired to the real DrizzleCallStore on Postgres and PGlite, exercised with inject().
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.ts';
import type { CallRecord } from '../../src/core/call.ts';
import { DrizzleCallStore, type Database } from '../../src/db/index.ts';
import { buildHttpServer, createMetrics, ReadinessProblem, type ReadinessCheck } from '../../src/http/index.ts';
import { driverFixtures, truncateCalls } from './db-fixture.ts';

const TOKEN = 'test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const FROM = '+15551234567';
const TO = '+15559876543';

function logSink() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', format: 'json', destination }), text: () => chunks.join('') };
}

function makeCall(i: number, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    id: randomUUID(),
    fsUuid: randomUUID(),
    direction: 'inbound',
    fromNumber: FROM,
    toNumber: TO,
    location: 'north',
    state: 'ended',
    startedAt: new Date(Date.UTC(2026, 4, 1, 9, i)),
    answeredAt: new Date(Date.UTC(2026, 4, 1, 9, i, 2)),
    endedAt: new Date(Date.UTC(2026, 4, 1, 9, i, 50)),
    hangupCause: 'NORMAL_CLEARING',
    voiceQuality: null,
    ...overrides,
  };
}

describe.each(driverFixtures())('HTTP API on $kind', (fixture) => {
  let database: Database;
  let store: DrizzleCallStore;
  let app: FastifyInstance;
  let logs: ReturnType<typeof logSink>;
  const metrics = createMetrics({ defaultMetrics: false });
  let extraChecks: ReadinessCheck[] = [];

  beforeAll(async () => {
    database = await fixture.setup();
    store = new DrizzleCallStore({ db: database.db });
    logs = logSink();
    const readinessChecks: ReadinessCheck[] = [
      { name: 'database', check: () => store.ping() },
      // Delegates to whatever the current test sets, so one server serves every readiness case.
      { name: 'esl', check: async (signal) => Promise.all(extraChecks.map((c) => c.check(signal))).then(() => undefined), timeoutMs: 100 },
    ];
    app = buildHttpServer({ logger: logs.logger, callStore: store, readinessChecks, metrics, apiToken: TOKEN });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await fixture.teardown();
  });
  beforeEach(async () => {
    extraChecks = [];
    await truncateCalls(database);
  });

  it('GET /health answers without a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready is 200 when every check passes', async () => {
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      failing: [],
      checks: { database: { status: 'ok' }, esl: { status: 'ok' } },
    });
  });

  it('GET /ready is 503 naming the failing part, without leaking its error', async () => {
    extraChecks = [{ name: 'x', check: async () => Promise.reject(new Error('secret host fs1.internal refused')) }];
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'not_ready',
      failing: ['esl'],
      checks: { database: { status: 'ok' }, esl: { status: 'fail', reason: 'error' } },
    });
    expect(res.body).not.toContain('fs1.internal');
    expect(logs.text()).toContain('fs1.internal');
  });

  it('GET /ready shows a known problem in words for operators, and leaves logging it to its owner', async () => {
    extraChecks = [{ name: 'x', check: async () => Promise.reject(new ReadinessProblem('FreeSWITCH refused the event socket password')) }];
    const before = logs.text().length;
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks.esl).toEqual({ status: 'fail', reason: 'error', detail: 'FreeSWITCH refused the event socket password' });
    expect(logs.text().slice(before)).not.toContain('readiness check failed');
  });

  it('GET /ready reports a check that never answers as timed out, and tells it to stop', async () => {
    let aborted = false;
    extraChecks = [
      {
        name: 'x',
        check: (signal) =>
          new Promise<void>(() => {
            signal.addEventListener('abort', () => {
              aborted = true;
            });
          }),
      },
    ];
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks.esl).toEqual({ status: 'fail', reason: 'timeout' });
    expect(aborted).toBe(true);
  });

  it('GET /metrics serves the Prometheus text format with every callbridge metric', async () => {
    metrics.callsTotal.inc({ outcome: 'transferred' });
    metrics.activeCalls.set(3);
    metrics.eslCommandDuration.observe({ command: 'uuid_break' }, 0.004);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of [
      'callbridge_active_calls 3',
      'callbridge_calls_total{outcome="transferred"} 1',
      'callbridge_esl_reconnects_total',
      'callbridge_esl_command_duration_seconds_bucket{le="0.005",command="uuid_break"} 1',
      'callbridge_event_lag_seconds',
    ]) {
      expect(res.body).toContain(name);
    }
  });

  describe('authentication on /v1', () => {
    it('401 without a token, with a challenge', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/calls' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="callbridge"');
      expect(res.json()).toEqual({ error: 'unauthorized', message: 'A valid bearer token is required' });
    });

    it.each([
      ['a wrong token', `Bearer ${TOKEN}x`],
      ['a shorter token', `Bearer ${TOKEN.slice(0, -1)}`],
      ['another scheme', `Basic ${TOKEN}`],
      ['an empty bearer', 'Bearer '],
    ])('401 with %s', async (_label, authorization) => {
      const res = await app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization } });
      expect(res.statusCode).toBe(401);
    });

    it('accepts the scheme in any case', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: `bearer ${TOKEN}` } });
      expect(res.statusCode).toBe(200);
    });

    it('hides unknown /v1 paths behind the token', async () => {
      expect((await app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode).toBe(401);
      const res = await app.inject({ method: 'GET', url: '/v1/nothing', headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(res.json().error).toBe('not_found');
    });

    it('never logs the token', async () => {
      await app.inject({ method: 'GET', url: '/v1/calls', headers: AUTH });
      await app.inject({ method: 'GET', url: '/v1/calls', headers: { authorization: 'Bearer wrong-token-value' } });
      expect(logs.text()).not.toContain(TOKEN);
      expect(logs.text()).not.toContain('wrong-token-value');
    });
  });

  describe('GET /v1/calls', () => {
    it('lists newest first with numbers as stored and ISO dates', async () => {
      const calls = [makeCall(1), makeCall(2), makeCall(3, { state: 'bridged', endedAt: null, hangupCause: null })];
      for (const call of calls) await store.createCall(call);
      const res = await app.inject({ method: 'GET', url: '/v1/calls', headers: AUTH });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.limit).toBe(50);
      expect(body.offset).toBe(0);
      expect(body.calls.map((c: { id: string }) => c.id)).toEqual([calls[2]!.id, calls[1]!.id, calls[0]!.id]);
      expect(body.calls[2]).toEqual(JSON.parse(JSON.stringify(calls[0])));
      expect(body.calls[0]).toMatchObject({ fromNumber: FROM, toNumber: TO, endedAt: null });
    });

    it('pages with limit and offset and filters by state', async () => {
      const calls = Array.from({ length: 5 }, (_, i) => makeCall(i, { state: i % 2 === 0 ? 'ended' : 'answered' }));
      for (const call of calls) await store.createCall(call);
      const page = await app.inject({ method: 'GET', url: '/v1/calls?limit=2&offset=1', headers: AUTH });
      expect(page.json().calls.map((c: { id: string }) => c.id)).toEqual([calls[3]!.id, calls[2]!.id]);
      expect(page.json()).toMatchObject({ limit: 2, offset: 1 });
      const answered = await app.inject({ method: 'GET', url: '/v1/calls?state=answered', headers: AUTH });
      expect(answered.json().calls.map((c: { id: string }) => c.id)).toEqual([calls[3]!.id, calls[1]!.id]);
    });

    it.each([
      ['limit=0', 'limit must be an integer between 1 and 200'],
      ['limit=201', 'limit must be an integer between 1 and 200'],
      ['limit=ten', 'limit must be an integer between 1 and 200'],
      ['limit=1&limit=2', 'limit must be given once, as an integer'],
      ['offset=-1', 'offset must be an integer between 0 and 1000000'],
      ['state=lost', 'state must be one of ringing, answered, in_conversation, transferring, bridged, ended'],
      ['status=ended', 'unknown query parameter(s): status'],
    ])('400 for %s with a clear message', async (query, message) => {
      const res = await app.inject({ method: 'GET', url: `/v1/calls?${query}`, headers: AUTH });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'bad_request', message });
    });
  });

  describe('GET /v1/calls/:id', () => {
    it('returns the call with its events in order', async () => {
      const call = makeCall(1);
      await store.createCall(call);
      for (const seq of [2, 1, 3]) {
        await store.appendEvent({
          callId: call.id,
          seq,
          type: `step-${seq}`,
          fromState: null,
          toState: null,
          at: new Date(Date.UTC(2026, 4, 1, 9, 1, seq)),
          monotonicMs: seq * 10.5,
          data: { seq },
        });
      }
      const res = await app.inject({ method: 'GET', url: `/v1/calls/${call.id}`, headers: AUTH });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ id: call.id, fromNumber: FROM, startedAt: call.startedAt.toISOString() });
      expect(body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
      expect(body.events[0]).toEqual({
        callId: call.id,
        seq: 1,
        type: 'step-1',
        fromState: null,
        toState: null,
        at: '2026-05-01T09:01:01.000Z',
        monotonicMs: 10.5,
        data: { seq: 1 },
      });
    });

    it('404 for an unknown call', async () => {
      const id = randomUUID();
      const res = await app.inject({ method: 'GET', url: `/v1/calls/${id}`, headers: AUTH });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: 'not_found', message: `call ${id} not found` });
    });

    it('400 for an id that is not a UUID', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/calls/12345', headers: AUTH });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: 'bad_request', message: 'id must be a UUID' });
    });
  });

  it('logs each request by route pattern and never a phone number', async () => {
    const call = makeCall(1);
    await store.createCall(call);
    await app.inject({ method: 'GET', url: `/v1/calls?to=${encodeURIComponent(TO)}`, headers: AUTH });
    await app.inject({ method: 'GET', url: `/v1/calls/${call.id}`, headers: AUTH });
    await app.inject({ method: 'GET', url: `/nowhere/${FROM.slice(1)}` });
    const text = logs.text();
    expect(text).toContain('"route":"/v1/calls/:id"');
    expect(text).toContain('"route":"(unmatched)"');
    for (const n of [FROM, TO]) {
      expect(text).not.toContain(n);
      expect(text).not.toContain(n.slice(1));
    }
  });
});

describe.each(driverFixtures())('HTTP API on $kind when the database is gone', (fixture) => {
  let app: FastifyInstance;

  beforeAll(async () => {
    const database = await fixture.setup();
    const store = new DrizzleCallStore({ db: database.db });
    app = buildHttpServer({
      logger: logSink().logger,
      callStore: store,
      readinessChecks: [{ name: 'database', check: () => store.ping() }],
      metrics: createMetrics({ defaultMetrics: false }),
      apiToken: undefined,
    });
    await database.close();
  });
  afterAll(async () => {
    await app.close();
    await fixture.teardown();
  });

  it('503 on the API and on /ready, naming the database; /health still 200', async () => {
    const list = await app.inject({ method: 'GET', url: '/v1/calls' });
    expect(list.statusCode).toBe(503);
    expect(list.json()).toEqual({ error: 'service_unavailable', message: 'The database is unavailable' });
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().failing).toEqual(['database']);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});
