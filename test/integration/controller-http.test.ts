// The controller's HTTP API as the dashboard and orchestrators see it, over real HTTP, while calls happen.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import type { Database } from '../../src/db/index.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';

const pglite = driverFixtures().find((f) => f.kind === 'pglite')!;
const TOKEN = 'test-token-0123456789';

describe('controller HTTP API', () => {
  let database: Database;
  let harness: Harness;
  const sessions: CallSession[] = [];

  beforeAll(async () => {
    database = await pglite.setup();
  });
  afterAll(async () => {
    await pglite.teardown();
  });
  afterEach(async () => {
    await harness?.close();
  });

  const url = (path: string) => `http://127.0.0.1:${harness.controller.addresses.http.port}${path}`;

  it('lists a finished call with its events, only with the token', async () => {
    harness = await startHarness({ database, controller: { onSession: (s) => sessions.push(s) } });
    const caller = harness.simulator.placeCall({ from: '+15556660001', to: '+15559870100', callerHangsUpAfterMs: 2000 });
    await caller.ended;
    await eventually(() => sessions.length === 1, 'the session');
    await sessions[0]!.done;

    expect((await fetch(url('/v1/calls'))).status).toBe(401);
    const list = await fetch(url('/v1/calls?limit=5'), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { calls: { id: string; fsUuid: string; state: string }[] };
    const listed = body.calls.find((c) => c.fsUuid === caller.uuid);
    expect(listed?.state).toBe('ended');

    const one = await fetch(url(`/v1/calls/${listed!.id}`), { headers: { authorization: `Bearer ${TOKEN}` } });
    const detail = (await one.json()) as { events: { type: string }[] };
    expect(detail.events.map((e) => e.type)).toContain('answered');

    expect((await fetch(url('/health'))).status).toBe(200);
    const ready = await fetch(url('/ready'));
    expect(ready.status).toBe(200);
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/callbridge_calls_total\{outcome="completed"\} 1/);
    expect(metrics).toMatch(/callbridge_esl_command_duration_seconds_count\{command="sendmsg"\} \d+/);
    expect(metrics).toMatch(/callbridge_event_lag_seconds_count [1-9]\d*/);
    expect(metrics).toMatch(/callbridge_active_calls 0/);
  });

  it('reports not ready, naming ESL, while FreeSWITCH is unreachable', async () => {
    harness = await startHarness({ database });
    await harness.simulator.stop();
    await eventually(async () => (await fetch(url('/ready'))).status === 503, '/ready to turn 503');
    const body = (await (await fetch(url('/ready'))).json()) as { failing: string[] };
    expect(body.failing).toEqual(['esl']);
  });

  it('checks Redis when it is configured, and names it when it does not answer', async () => {
    harness = await startHarness({ database, env: { REDIS_URL: 'redis://127.0.0.1:6379' } });
    const ready = (await (await fetch(url('/ready'))).json()) as { checks: Record<string, { status: string }> };
    expect(ready.checks.redis).toEqual({ status: 'ok' });
    await harness.close();

    harness = await startHarness({ database, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    const response = await fetch(url('/ready'));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { failing: string[] }).failing).toEqual(['redis']);
  });
});
