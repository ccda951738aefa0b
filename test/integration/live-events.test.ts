// The dashboard's live stream against the real controller and the FreeSWITCH simulator: what SSE and
// WebSocket clients see of a call and an emergency, resuming after a disconnect, who may listen, and what
// happens to a client that stops reading.
import { connect } from 'node:net';
import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import { EventBus } from '../../src/app/event-bus.ts';
import { LiveEvents } from '../../src/app/live-events.ts';
import { createLogger } from '../../src/app/logger.ts';
import { systemClock } from '../../src/app/clock.ts';
import type { Database } from '../../src/db/index.ts';
import { DrizzleTokenStore } from '../../src/db/token-store.ts';
import { liveEventsRoutes } from '../../src/http/events.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';
import { openSse, openWs, type LiveClient } from '../support/live-clients.ts';

const pglite = driverFixtures().find((f) => f.kind === 'pglite')!;
const TOKEN = 'test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const CALLER = '+15556660001';
const AI_NUMBER = '+15559870100';

describe('live events', () => {
  let database: Database;
  let harness: Harness;
  const sessions: CallSession[] = [];
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    database = await pglite.setup();
  });
  afterAll(async () => {
    await pglite.teardown();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    sessions.length = 0;
    await harness?.close();
  });

  const http = (path: string) => `http://127.0.0.1:${harness.controller.addresses.http.port}${path}`;
  const ws = (query: string) => `ws://127.0.0.1:${harness.controller.addresses.http.port}/v1/events/ws?${query}`;
  const start = async () => {
    harness = await startHarness({ database, controller: { onSession: (s) => sessions.push(s) } });
  };
  const sse = async (headers: Record<string, string> = AUTH, query = '') => {
    const opened = await openSse(http(`/v1/events${query}`), headers);
    expect(opened.status).toBe(200);
    clients.push(opened.client!);
    return opened.client!;
  };
  const socket = async (query: string) => {
    const opened = await openWs(ws(query));
    expect(opened.status).toBe(101);
    clients.push(opened.client!);
    return opened.client!;
  };
  const ofCall = (client: LiveClient, callId: string) => client.messages.filter((m) => m.callId === callId);

  it('SSE and WebSocket clients see a call start, change state, escalate and end, in the same order', async () => {
    await start();
    const viaSse = await sse();
    const viaWs = await socket(`access_token=${TOKEN}`);
    // A fresh connection starts from what is live now.
    expect(viaSse.messages[0]).toMatchObject({ type: 'reset', data: { calls: [] } });
    expect(viaWs.messages[0]).toMatchObject({ type: 'reset', data: { calls: [] } });

    const caller = harness.simulator.placeCall({ from: CALLER, to: AI_NUMBER });
    await eventually(() => sessions[0]?.state === 'in_conversation', 'the call in conversation');
    const callId = sessions[0]!.callId;
    const takeover = await fetch(http(`/v1/calls/${callId}/takeover`), { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: '{}' });
    expect(takeover.status).toBe(202);
    await viaSse.waitFor((m) => m.type === 'EMERGENCY_ALERT', 'the emergency on SSE');
    caller.hangup();
    await viaSse.waitFor((m) => m.type === 'CALL_ENDED', 'the end on SSE');
    await viaWs.waitFor((m) => m.type === 'CALL_ENDED', 'the end on the WebSocket');

    const seen = ofCall(viaSse, callId);
    const states = seen.filter((m) => m.type === 'CALL_STATE_CHANGED').map((m) => `${String(m.data.from)}>${String(m.data.to)}`);
    expect(states.slice(0, 3)).toEqual(['ringing>answered', 'answered>in_conversation', 'in_conversation>transferring']);
    expect(states.at(-1)).toMatch(/>ended$/);
    const types = seen.map((m) => m.type);
    expect(types[0]).toBe('CALL_STARTED');
    expect(types.indexOf('EMERGENCY_ALERT')).toBeGreaterThan(types.indexOf('CALL_STARTED'));
    expect(types.at(-1)).toBe('CALL_ENDED');
    expect(seen[0]).toMatchObject({ data: { direction: 'inbound', location: 'clinic', target: 'ai_agent' } });
    expect(seen.at(-1)).toMatchObject({ data: { outcome: 'completed', direction: 'inbound', location: 'clinic' } });
    expect(seen.find((m) => m.type === 'EMERGENCY_ALERT')).toMatchObject({ data: { trigger: 'staff' } });
    // The WebSocket got the very same events, ids and all.
    expect(ofCall(viaWs, callId)).toEqual(seen);
    // Ids only grow.
    const numbers = viaSse.messages.slice(1).map((m) => Number(m.id.split('-').at(-1)));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    // Nothing a caller said or dialled: neither number appears anywhere.
    const wire = JSON.stringify(viaSse.messages);
    expect(wire).not.toContain('6660001');
    expect(wire).not.toContain('9870100');
    // Nor where the emergency was sent (the dial string holds the on-call number).
    expect(wire).not.toContain('0000911');
  });

  it('a client resuming from its last event id gets exactly the events it missed; an unknown id gets a reset', async () => {
    await start();
    const reference = await socket(`access_token=${TOKEN}`);
    const first = await sse();
    const a = harness.simulator.placeCall({ from: CALLER, to: AI_NUMBER, callerHangsUpAfterMs: 2000 });
    await a.ended;
    await first.waitFor((m) => m.type === 'CALL_ENDED', 'the first call ended');
    const lastSeen = first.ids.at(-1)!;
    first.close();

    const b = harness.simulator.placeCall({ from: CALLER, to: AI_NUMBER, callerHangsUpAfterMs: 2000 });
    await b.ended;
    await reference.waitFor((m) => m.type === 'CALL_ENDED' && m.callId === sessions[1]?.callId, 'the second call ended');

    const missed = reference.messages.slice(reference.messages.findIndex((m) => m.id === lastSeen) + 1);
    expect(missed.length).toBeGreaterThan(3);
    const resumed = await sse({ ...AUTH, 'last-event-id': lastSeen });
    await eventually(() => resumed.messages.length >= missed.length, 'the missed events');
    expect(resumed.messages).toEqual(missed);

    const resumedWs = await socket(`access_token=${TOKEN}&lastEventId=${encodeURIComponent(lastSeen)}`);
    await eventually(() => resumedWs.messages.length >= missed.length, 'the missed events on the WebSocket');
    expect(resumedWs.messages).toEqual(missed);

    // An id from an earlier run of the controller: the client must start over.
    const stale = await sse(AUTH, `?lastEventId=${encodeURIComponent('zzzzzz-17')}`);
    await eventually(() => stale.messages.length > 0, 'the reset');
    expect(stale.messages[0]).toMatchObject({ type: 'reset', id: reference.messages.at(-1)!.id, data: { calls: [] } });
  });

  it('refuses listeners without a token (401) and tokens without events:read (403)', async () => {
    await start();
    expect((await openSse(http('/v1/events'))).status).toBe(401);
    expect((await openSse(http('/v1/events'), { authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await openWs(ws(''))).status).toBe(401);
    expect((await openWs(ws('access_token=not-a-token'))).status).toBe(401);

    const tokens = new DrizzleTokenStore({ db: database.db });
    const auditor = await tokens.create({ name: 'auditor', roles: ['auditor'], expiresAt: new Date(Date.now() + 3600_000) });
    expect((await openSse(http('/v1/events'), { authorization: `Bearer ${auditor.secret}` })).status).toBe(403);
    expect((await openWs(ws(`access_token=${auditor.secret}`))).status).toBe(403);
    const agent = await tokens.create({ name: 'agent', roles: ['agent'], expiresAt: new Date(Date.now() + 3600_000) });
    await sse({}, `?access_token=${agent.secret}`);
  });

  it('ends every stream when the controller shuts down', async () => {
    await start();
    const viaSse = await sse();
    const opened = await openWs(ws(`access_token=${TOKEN}`));
    clients.push(opened.client!);
    await harness.close();
    await viaSse.ended;
    expect(await opened.closeCode).toBe(1001);
  });
});

describe('a live events client that stops reading', () => {
  it('is dropped once its backlog passes the limit, so it stops costing memory', async () => {
    const bus = new EventBus(createLogger({ level: 'silent', format: 'json' }));
    const live = new LiveEvents({ subscribe: (l) => bus.subscribe(l), calls: () => [], clock: systemClock });
    const app = Fastify();
    await app.register(liveEventsRoutes, { source: live, maxBacklogBytes: 64 * 1024 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    try {
      await new Promise((resolve) => client.once('connect', resolve));
      // Sends its request, then never reads a byte: the kernel's buffers fill, then the server's backlog.
      client.pause();
      client.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
      await eventually(() => live.subscribers === 1, 'the stream to subscribe');
      const padding = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 4000 && live.subscribers === 1; i++) {
        bus.publish({ type: 'CALL_STATE_CHANGED', at: new Date(), callId: 'c', data: { padding, i } });
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(live.subscribers).toBe(0);
      // A reading client is unaffected.
      const reader = await openSse(`http://127.0.0.1:${port}/events`);
      expect(reader.status).toBe(200);
      bus.publish({ type: 'SYSTEM_MODE_CHANGED', at: new Date(), data: { from: 'normal', to: 'ai-down' } });
      await reader.client!.waitFor((m) => m.type === 'SYSTEM_MODE_CHANGED', 'the event on a reading client');
      reader.client!.close();
    } finally {
      client.destroy();
      await app.close();
      live.close();
    }
  });
});
