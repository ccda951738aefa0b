// The transfers plugin inside the authenticated /v1 scope, as the controller registers it, with the real
// transfer store on Postgres and PGlite and a recording stand-in for the controller's CallCommands port.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.ts';
import { DrizzleCallStore, DrizzleTransferStore, FieldCipher, type Database } from '../../src/db/index.ts';
import {
  buildHttpServer,
  createMetrics,
  transfersRoutes,
  type CallCommandResult,
  type CallCommands,
} from '../../src/http/index.ts';
import { driverFixtures, truncateCalls } from './db-fixture.ts';

const TOKEN = 'test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** The controller's port: records what it was asked and answers what the test says. */
class RecordingCommands implements CallCommands {
  readonly received: Array<{ command: string; callId: string; body: unknown }> = [];
  result: CallCommandResult = 'accepted';
  async transfer(callId: string, body: unknown) {
    this.received.push({ command: 'transfer', callId, body });
    return this.result;
  }
  async takeover(callId: string, body: unknown) {
    this.received.push({ command: 'takeover', callId, body });
    return this.result;
  }
  async hangup(callId: string, body: unknown) {
    this.received.push({ command: 'hangup', callId, body });
    return this.result === 'not_transferable' ? 'accepted' : this.result;
  }
}

describe.each(driverFixtures())('transfers API on $kind', (fixture) => {
  let database: Database;
  let calls: DrizzleCallStore;
  let transfers: DrizzleTransferStore;
  let app: FastifyInstance;
  const commands = new RecordingCommands();

  beforeAll(async () => {
    database = await fixture.setup();
    calls = new DrizzleCallStore({ db: database.db });
    transfers = new DrizzleTransferStore({ db: database.db, cipher: FieldCipher.fromBase64(randomBytes(32).toString('base64')) });
    app = buildHttpServer({
      logger: createLogger({ level: 'silent', format: 'json' }),
      callStore: calls,
      readinessChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      apiToken: TOKEN,
    });
    // Exactly how the composition root adds it: under /v1, where the server's access check covers it.
    void app.register(
      async (v1) => {
        await v1.register(transfersRoutes, { callStore: calls, transfers, commands });
      },
      { prefix: '/v1' },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await fixture.teardown();
  });
  beforeEach(async () => {
    await truncateCalls(database);
    commands.received.length = 0;
    commands.result = 'accepted';
  });

  async function liveCall(): Promise<string> {
    const id = randomUUID();
    await calls.createCall({
      id,
      fsUuid: randomUUID(),
      direction: 'inbound',
      fromNumber: '+15551234567',
      toNumber: '+15557654321',
      location: 'north',
      state: 'transferring',
      startedAt: new Date('2026-05-01T09:00:00Z'),
      answeredAt: new Date('2026-05-01T09:00:01Z'),
      endedAt: null,
      hangupCause: null,
      voiceQuality: null,
    });
    return id;
  }

  it('serves the latest transfer with its decrypted transcript to the agent screen', async () => {
    const callId = await liveCall();
    await transfers.create({
      callId,
      requestedAt: new Date('2026-05-01T09:02:00Z'),
      targetKind: 'ring_group',
      targetName: 'billing',
      reason: 'caller asked about a bill',
      summary: 'Invoice question',
      intent: 'billing_question',
      urgency: 'urgent',
      callerNumber: '+15551234567',
      transcript: [{ speaker: 'caller', text: 'My bill looks wrong.' }],
    });
    const res = await app.inject({ method: 'GET', url: `/v1/calls/${callId}/context`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      callId,
      targetName: 'billing',
      reason: 'caller asked about a bill',
      summary: 'Invoice question',
      urgency: 'urgent',
      callerNumber: '+15551234567',
      transcript: [{ speaker: 'caller', text: 'My bill looks wrong.' }],
      transcriptStatus: 'available',
      outcome: null,
      requestedAt: '2026-05-01T09:02:00.000Z',
    });
  });

  it('requires the bearer token for the context and the commands', async () => {
    const callId = await liveCall();
    for (const [method, path] of [['GET', 'context'], ['POST', 'transfer'], ['POST', 'takeover'], ['POST', 'hangup']] as const) {
      const res = await app.inject({ method, url: `/v1/calls/${callId}/${path}`, payload: method === 'POST' ? {} : undefined });
      expect(res.statusCode, path).toBe(401);
    }
    expect(commands.received).toEqual([]);
  });

  it('answers 404 for an unknown call or a call without transfer, 400 for a bad id', async () => {
    const unknown = await app.inject({ method: 'GET', url: `/v1/calls/${randomUUID()}/context`, headers: AUTH });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/not found/);
    const none = await app.inject({ method: 'GET', url: `/v1/calls/${await liveCall()}/context`, headers: AUTH });
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toMatch(/no transfer/);
    const bad = await app.inject({ method: 'GET', url: '/v1/calls/not-a-uuid/context', headers: AUTH });
    expect(bad.statusCode).toBe(400);
  });

  it('passes a valid transfer command on (warm by default) and answers 202', async () => {
    const callId = await liveCall();
    const res = await app.inject({ method: 'POST', url: `/v1/calls/${callId}/transfer`, headers: AUTH, payload: { target: 'billing', reason: '  wants a person ' } });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', callId });
    expect(commands.received).toEqual([{ command: 'transfer', callId, body: { target: 'billing', mode: 'warm', reason: 'wants a person' } }]);
  });

  it('maps the port’s answers: not a live call → 404, not transferable now → 409', async () => {
    const callId = await liveCall();
    commands.result = 'not_found';
    const gone = await app.inject({ method: 'POST', url: `/v1/calls/${callId}/transfer`, headers: AUTH, payload: { target: '101', mode: 'blind', reason: 'x' } });
    expect(gone.statusCode).toBe(404);
    commands.result = 'not_transferable';
    const busy = await app.inject({ method: 'POST', url: `/v1/calls/${callId}/takeover`, headers: AUTH, payload: {} });
    expect(busy.statusCode).toBe(409);
  });

  it('refuses bad command bodies at the edge, without asking the controller', async () => {
    const callId = await liveCall();
    const cases: Array<[string, unknown]> = [
      ['transfer', {}],
      ['transfer', { target: 'billing' }],
      ['transfer', { target: 'billing]sofia/gateway/twilio/1900', reason: 'x' }],
      ['transfer', { target: 'billing', reason: 'x', mode: 'sideways' }],
      ['transfer', { target: 'billing', reason: 'x', extra: true }],
      ['takeover', { extension: '1,2' }],
      ['hangup', { reason: '' }],
    ];
    for (const [path, payload] of cases) {
      const res = await app.inject({ method: 'POST', url: `/v1/calls/${callId}/${path}`, headers: AUTH, payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const badId = await app.inject({ method: 'POST', url: '/v1/calls/nope/hangup', headers: AUTH, payload: {} });
    expect(badId.statusCode).toBe(400);
    expect(commands.received).toEqual([]);
  });

  it('takes over and hangs up with or without a body', async () => {
    const callId = await liveCall();
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${callId}/takeover`, headers: AUTH, payload: { extension: '200' } })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${callId}/takeover`, headers: AUTH })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: `/v1/calls/${callId}/hangup`, headers: AUTH, payload: { reason: 'prank call' } })).statusCode).toBe(202);
    expect(commands.received).toEqual([
      { command: 'takeover', callId, body: { extension: '200' } },
      { command: 'takeover', callId, body: {} },
      { command: 'hangup', callId, body: { reason: 'prank call' } },
    ]);
  });
});
