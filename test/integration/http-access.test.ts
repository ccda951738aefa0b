// Access control on the real HTTP API: API tokens from the database, per-route permissions for every role,
// 401/403 that say nothing more, and the audit trail of mutating requests (and its verification) over HTTP.
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/app/audit.ts';
import { createRoutingApi } from '../../src/app/call-routing.ts';
import { createLogger } from '../../src/app/logger.ts';
import { OutboundDialer } from '../../src/app/outbound-dialer.ts';
import { RoutingService } from '../../src/app/routing-service.ts';
import type { Role } from '../../src/core/access.ts';
import type { SystemMode } from '../../src/core/routing/types.ts';
import {
  DrizzleAuditStore,
  DrizzleCallStore,
  DrizzleOutboundStore,
  DrizzleTokenStore,
  DrizzleTransferStore,
  FieldCipher,
  type Database,
} from '../../src/db/index.ts';
import { buildHttpServer, createMetrics, type CallCommands, type SystemModeApi } from '../../src/http/index.ts';
import { driverFixtures } from './db-fixture.ts';

const BOOTSTRAP = 'bootstrap-token-0123456789abcdef';
const HOUR = 3_600_000;
const CALL = randomUUID();

/** The system mode as operators see it (the failover monitor's port): enough to see whether a write happened. */
function systemMode(): SystemModeApi & { mode: SystemMode; by: string | null } {
  return {
    mode: 'normal',
    by: null,
    status() {
      return { mode: this.mode, detected: 'normal', override: null, history: [] };
    },
    override(mode, by) {
      this.mode = mode ?? 'normal';
      this.by = by;
    },
  };
}

/** No live calls here: every command answers "no such call". */
const noLiveCalls: CallCommands = {
  transfer: async () => 'not_found',
  takeover: async () => 'not_found',
  hangup: async () => 'not_found',
};

interface RouteCase {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  payload?: object;
  /** The status when allowed. */
  ok: number;
}

const ROUTES: RouteCase[] = [
  { name: 'list calls', method: 'GET', url: '/v1/calls', ok: 200 },
  { name: 'one call', method: 'GET', url: `/v1/calls/${CALL}`, ok: 404 },
  { name: 'transfer context', method: 'GET', url: `/v1/calls/${CALL}/context`, ok: 404 },
  { name: 'transfer a call', method: 'POST', url: `/v1/calls/${CALL}/transfer`, payload: { target: 'operator', mode: 'blind', reason: 'caller asked' }, ok: 404 },
  { name: 'hang up a call', method: 'POST', url: `/v1/calls/${CALL}/hangup`, payload: {}, ok: 404 },
  { name: 'routing status', method: 'GET', url: '/v1/routing', ok: 200 },
  { name: 'routing dry run', method: 'POST', url: '/v1/routing/test', payload: { to: '+15550001000', from: '+15550002000', at: '2026-06-02T10:00:00-04:00' }, ok: 200 },
  { name: 'system mode', method: 'GET', url: '/v1/system/mode', ok: 200 },
  { name: 'force system mode', method: 'POST', url: '/v1/system/mode', payload: { mode: null }, ok: 200 },
  { name: 'one outbound call', method: 'GET', url: `/v1/calls/outbound/${CALL}`, ok: 404 },
  { name: 'add to do-not-call', method: 'POST', url: '/v1/do-not-call', payload: { number: '+15557770000' }, ok: 201 },
  { name: 'audit list', method: 'GET', url: '/v1/audit', ok: 200 },
  { name: 'audit verify', method: 'GET', url: '/v1/audit/verify', ok: 200 },
  { name: 'who am I', method: 'GET', url: '/v1/me', ok: 200 },
];

const ALL = ROUTES.map((r) => r.name);
// Written out rather than derived from the matrix, so a change to either shows up here.
const ALLOWED: Record<Role, readonly string[]> = {
  admin: ALL,
  manager: ALL.filter((n) => !n.startsWith('audit')),
  agent: ['list calls', 'one call', 'transfer context', 'transfer a call', 'hang up a call', 'one outbound call', 'who am I'],
  auditor: ['list calls', 'one call', 'transfer context', 'system mode', 'audit list', 'audit verify', 'who am I'],
  service: ['list calls', 'one call', 'transfer context', 'one outbound call', 'add to do-not-call', 'who am I'],
};

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

describe.each(driverFixtures())('access control over HTTP on $kind', (fixture) => {
  let database: Database;
  let app: FastifyInstance;
  let tokens: DrizzleTokenStore;
  let audit: AuditTrail;
  let dialer: OutboundDialer;
  let routing: RoutingService;
  let system: ReturnType<typeof systemMode>;
  let logs: ReturnType<typeof logSink>;
  const secrets = {} as Record<Role, string>;
  const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

  beforeAll(async () => {
    database = await fixture.setup();
    logs = logSink();
    const logger = logs.logger;
    const cipher = FieldCipher.fromBase64(randomBytes(32).toString('base64'));
    const callStore = new DrizzleCallStore({ db: database.db });
    tokens = new DrizzleTokenStore({ db: database.db });
    audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock: { now: () => new Date() }, logger });
    dialer = new OutboundDialer({
      store: new DrizzleOutboundStore({ db: database.db, cipher }),
      connection: () => undefined,
      clock: { now: () => new Date() },
      logger,
      callerIdNumber: '+15550000000',
      gateway: () => 'threecx',
      socketTarget: { host: '127.0.0.1', port: 1 },
      defaultTimeZone: 'America/New_York',
    });
    routing = await RoutingService.load({ file: 'dialplan/routing.yaml', logger });
    system = systemMode();
    app = buildHttpServer({
      logger,
      callStore,
      readinessChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      apiToken: BOOTSTRAP,
      tokens,
      audit,
      routing: createRoutingApi(routing),
      system,
      outbound: dialer,
      transfers: new DrizzleTransferStore({ db: database.db, cipher }),
      commands: noLiveCalls,
    });
    // Routes a later feature might add: one that forgot to declare a permission, and a stream for browsers.
    void app.register(
      async (v1) => {
        v1.get('/forgotten', async () => ({ secret: 'should never be served' }));
        v1.get('/stream', { config: { permission: 'events:read', queryToken: true } }, async () => ({ streaming: true }));
      },
      { prefix: '/v1' },
    );
    await app.ready();
    for (const role of ['admin', 'manager', 'agent', 'auditor', 'service'] as const) {
      secrets[role] = (await tokens.create({ name: `${role}-token`, roles: [role], expiresAt: new Date(Date.now() + HOUR) })).secret;
    }
  });
  afterAll(async () => {
    await app.close();
    await dialer.stop();
    routing.close();
    await audit.settled();
    await fixture.teardown();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate table do_not_call`);
    system.mode = 'normal';
  });

  describe.each(['admin', 'manager', 'agent', 'auditor', 'service'] as const)('the %s role', (role) => {
    it.each(ROUTES)('$method $name', async (route) => {
      const res = await app.inject({ method: route.method, url: route.url, headers: bearer(secrets[role]), ...(route.payload ? { payload: route.payload } : {}) });
      const allowed = ALLOWED[role].includes(route.name);
      expect(res.statusCode).toBe(allowed ? route.ok : 403);
      if (!allowed) expect(res.json()).toEqual({ error: 'forbidden', message: 'Not allowed' });
    });
  });

  it('the bootstrap token acts as an admin', async () => {
    const me = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(BOOTSTRAP) });
    expect(me.json()).toMatchObject({ name: 'bootstrap', kind: 'bootstrap', roles: ['admin'] });
    expect(me.json().permissions).toContain('tokens:manage');
    expect(me.json().permissions).not.toContain('recordings:play');
    expect((await app.inject({ method: 'GET', url: '/v1/audit', headers: bearer(BOOTSTRAP) })).statusCode).toBe(200);
  });

  it('GET /v1/me tells a token its roles and permissions, and nothing secret', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/me', headers: bearer(secrets.agent) });
    expect(res.json()).toEqual({ name: 'agent-token', kind: 'token', roles: ['agent'], permissions: ['calls:read', 'calls:control', 'events:read', 'outbound:read'] });
  });

  describe('401', () => {
    it('without a token, with a challenge, before any route or 404 is revealed', async () => {
      for (const url of ['/v1/calls', '/v1/audit', '/v1/nothing-here', '/v1/forgotten']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="callbridge"');
        expect(res.json()).toEqual({ error: 'unauthorized', message: 'A valid bearer token is required' });
      }
    });

    it('for an unknown, an expired and a revoked token alike', async () => {
      const expired = await tokens.create({ name: 'expired', roles: ['admin'], expiresAt: new Date(Date.now() - 1000) });
      const revoked = await tokens.create({ name: 'revoked', roles: ['admin'], expiresAt: new Date(Date.now() + HOUR) });
      expect((await app.inject({ method: 'GET', url: '/v1/calls', headers: bearer(revoked.secret) })).statusCode).toBe(200);
      await tokens.revoke(revoked.token.id);
      const unknown = `cbt_${randomBytes(32).toString('base64url')}`;
      const answers = await Promise.all(
        [expired.secret, revoked.secret, unknown, 'garbage-token'].map((t) => app.inject({ method: 'GET', url: '/v1/calls', headers: bearer(t) })),
      );
      for (const res of answers) {
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="callbridge", error="invalid_token"');
        expect(res.json()).toEqual({ error: 'unauthorized', message: 'A valid bearer token is required' });
      }
      expect(logs.text()).not.toContain(expired.secret);
      expect(logs.text()).not.toContain(revoked.secret);
    });

    it('a token in the query string counts only on routes that allow it (streams)', async () => {
      expect((await app.inject({ method: 'GET', url: `/v1/stream?access_token=${secrets.agent}` })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: `/v1/stream?access_token=${secrets.admin.slice(0, -2)}xx` })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: `/v1/calls?access_token=${secrets.agent}` })).statusCode).toBe(401);
      expect((await app.inject({ method: 'GET', url: `/v1/stream?access_token=${secrets.auditor}` })).statusCode).toBe(403);
    });
  });

  describe('403', () => {
    it('a route that declares no permission is refused, even to the bootstrap admin', async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/forgotten', headers: bearer(BOOTSTRAP) });
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain('should never be served');
      expect(logs.text()).toContain('route declares no permission');
    });

    it('a forbidden request changes nothing and tells nothing (same body whether the target exists or not)', async () => {
      const dnc = await app.inject({ method: 'POST', url: '/v1/do-not-call', headers: bearer(secrets.agent), payload: { number: '+15557770001' } });
      const mode = await app.inject({ method: 'POST', url: '/v1/system/mode', headers: bearer(secrets.agent), payload: { mode: 'ai-down' } });
      const badBody = await app.inject({ method: 'POST', url: '/v1/system/mode', headers: bearer(secrets.agent), payload: { mode: 'nonsense' } });
      for (const res of [dnc, mode, badBody]) {
        expect(res.statusCode).toBe(403);
        expect(res.json()).toEqual({ error: 'forbidden', message: 'Not allowed' });
      }
      const rows = await database.db.execute(sql`select count(*)::int as n from do_not_call`);
      expect((rows as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(0);
      expect(system.mode).toBe('normal');
    });
  });

  describe('audit trail', () => {
    it('records every mutating request a token made with who, the route pattern (never the URL) and the status, refusals too', async () => {
      const hangupId = randomUUID();
      await app.inject({ method: 'POST', url: '/v1/system/mode', headers: bearer(secrets.manager), payload: { mode: 'ai-down' } });
      await app.inject({ method: 'POST', url: `/v1/calls/${hangupId}/hangup`, headers: bearer(secrets.auditor), payload: {} });
      await app.inject({ method: 'POST', url: '/v1/do-not-call', payload: { number: '+15557770002' } });
      await app.inject({ method: 'GET', url: '/v1/calls', headers: bearer(secrets.manager) });
      await audit.settled();
      // Forced without saying who: the token's name stands in.
      expect(system.by).toBe('manager-token');

      const res = await app.inject({ method: 'GET', url: '/v1/audit?action=http.request&limit=2', headers: bearer(secrets.auditor) });
      expect(res.statusCode).toBe(200);
      const { entries } = res.json() as { entries: { actor: string; targetId: string; details: Record<string, unknown> }[] };
      expect(entries.map((e) => [e.actor, e.targetId, e.details.status])).toEqual([
        ['auditor-token', 'POST /v1/calls/:id/hangup', 403],
        ['manager-token', 'POST /v1/system/mode', 200],
      ]);
      // A request without a token leaves nothing: strangers cannot fill the chain.
      const all = (await app.inject({ method: 'GET', url: '/v1/audit?limit=500', headers: bearer(secrets.auditor) })).json() as { entries: { actor: string }[] };
      expect(all.entries.some((e) => e.actor === 'anonymous')).toBe(false);
      expect(res.body).not.toContain(hangupId);
      expect(res.body).not.toContain('+15557770002');
      // Reads are not audited as requests (the GET above left no entry).
      expect(entries.some((e) => e.targetId.startsWith('GET'))).toBe(false);
    });

    it('pages newest first with nextBefore', async () => {
      for (let i = 0; i < 3; i++) await app.inject({ method: 'POST', url: '/v1/system/mode', headers: bearer(BOOTSTRAP), payload: { mode: null } });
      await audit.settled();
      const first = (await app.inject({ method: 'GET', url: '/v1/audit?limit=2', headers: bearer(BOOTSTRAP) })).json();
      expect(first.entries).toHaveLength(2);
      expect(first.nextBefore).toBe(first.entries[1].seq);
      const second = (await app.inject({ method: 'GET', url: `/v1/audit?limit=2&before=${first.nextBefore}`, headers: bearer(BOOTSTRAP) })).json();
      expect(second.entries[0].seq).toBe(first.nextBefore - 1);
      expect((await app.inject({ method: 'GET', url: '/v1/audit?limit=0', headers: bearer(BOOTSTRAP) })).statusCode).toBe(400);
    });

    it('verifies the chain over HTTP, and names the entry someone edited', async () => {
      await audit.settled();
      const good = (await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: bearer(secrets.auditor) })).json();
      expect(good.ok).toBe(true);
      expect(good.checked).toBeGreaterThanOrEqual(5);
      expect(good.head.seq).toBe(good.checked);

      await database.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_or_delete`);
      await database.db.execute(sql`update audit_log set actor = 'someone-else' where seq = 2`);
      const bad = (await app.inject({ method: 'GET', url: '/v1/audit/verify', headers: bearer(secrets.auditor) })).json();
      expect(bad).toMatchObject({ ok: false, firstBadSeq: 2, problem: 'altered' });
    });
  });
});

describe('access control when the database is gone', () => {
  it('answers 503 to an API token (not 401: the token may be fine), while the bootstrap token still works', async () => {
    const [fixture] = driverFixtures().filter((f) => f.kind === 'pglite');
    const database = await fixture!.setup();
    const tokens = new DrizzleTokenStore({ db: database.db });
    const { secret } = await tokens.create({ name: 'ops', roles: ['admin'], expiresAt: new Date(Date.now() + HOUR) });
    const app = buildHttpServer({
      logger: createLogger({ level: 'silent', format: 'json' }),
      callStore: new DrizzleCallStore({ db: database.db }),
      readinessChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      apiToken: BOOTSTRAP,
      tokens,
    });
    try {
      await database.close();
      const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${secret}` } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: 'service_unavailable', message: 'The database is unavailable' });
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${BOOTSTRAP}` } })).statusCode).toBe(200);
    } finally {
      await app.close();
      await fixture!.teardown();
    }
  });
});
