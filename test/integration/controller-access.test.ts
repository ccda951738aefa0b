// Access control and the audit trail in the running controller: API tokens made in its database work over
// real HTTP, and what operators do (and what the system does on its own) ends up in one verifiable chain.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrizzleAuditStore, DrizzleTokenStore, type Database } from '../../src/db/index.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';

const pglite = driverFixtures().find((f) => f.kind === 'pglite')!;
const BOOTSTRAP = 'test-token-0123456789';

describe('controller access control', () => {
  let database: Database;
  let harness: Harness;

  beforeAll(async () => {
    database = await pglite.setup();
    harness = await startHarness({ database });
  });
  afterAll(async () => {
    await harness?.close();
    await pglite.teardown();
  });

  const call = (path: string, token: string, init: { method?: string; body?: unknown } = {}) =>
    fetch(`http://127.0.0.1:${harness.controller.addresses.http.port}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });

  it('serves database tokens by role, and audits operators and the system in one chain', async () => {
    const tokens = new DrizzleTokenStore({ db: database.db });
    const agent = (await tokens.create({ name: 'front desk', roles: ['agent'], expiresAt: new Date(Date.now() + 3_600_000) })).secret;
    expect((await call('/v1/calls', agent)).status).toBe(200);
    expect((await call('/v1/system/mode', agent, { method: 'POST', body: { mode: 'ai-down' } })).status).toBe(403);
    expect((await call('/v1/system/mode', BOOTSTRAP, { method: 'POST', body: { mode: 'ai-down', by: 'ops on call' } })).status).toBe(200);

    const audit = new DrizzleAuditStore({ db: database.db });
    await eventually(async () => (await audit.list({ limit: 10 })).length >= 3, 'the audit entries');
    const entries = await audit.list({ limit: 10 });
    const summary = entries.map((e) => [e.actor, e.action, e.targetId ?? null, (e.details as { status?: number }).status ?? null]);
    expect(summary).toContainEqual(['front desk', 'http.request', 'POST /v1/system/mode', 403]);
    expect(summary).toContainEqual(['bootstrap', 'http.request', 'POST /v1/system/mode', 200]);
    expect(entries.find((e) => e.action === 'system.mode_changed')).toMatchObject({ actor: 'system', targetType: 'system', details: { from: 'normal', to: 'ai-down' } });

    const verified = (await (await call('/v1/audit/verify', BOOTSTRAP)).json()) as { ok: boolean; checked: number };
    expect(verified.ok).toBe(true);
    expect(verified.checked).toBeGreaterThanOrEqual(entries.length);
  });
});
