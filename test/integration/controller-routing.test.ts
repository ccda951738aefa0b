// Routing as callers live it: the routing file decides whether a call is rejected, answered by the
// controller, or connected to people (in order, with a fallback), and an admin's edit takes effect for new
// calls without a restart while a broken edit never takes routing down.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import type { CallWithEvents } from '../../src/core/call.ts';
import {
  eventually,
  scenarioDatabases,
  startHarness,
  TEST_ROUTING_FILE,
  type DatabaseForHarness,
  type Harness,
} from '../support/controller-harness.ts';

const TOKEN = 'test-token-0123456789';

describe('calls routed by the routing file', () => {
  let database: DatabaseForHarness;
  let harness: Harness | undefined;
  let sessions: CallSession[];
  let dir: string;

  beforeAll(async () => {
    database = await scenarioDatabases[1]!.open();
    dir = await mkdtemp(join(tmpdir(), 'callbridge-routing-'));
  });
  afterAll(async () => {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
    sessions = [];
    harness = await startHarness({
      ...database.harness,
      ...options,
      env: { ...options.env },
      controller: { onSession: (s) => sessions.push(s) },
    });
    return harness;
  }

  async function stored(session: CallSession): Promise<CallWithEvents> {
    await session.done;
    const call = await harness!.controller.store.getCall(session.callId);
    if (call === undefined) throw new Error('call not stored');
    return call;
  }

  const transitions = (call: CallWithEvents) =>
    call.events.filter((e) => e.fromState !== e.toState).map((e) => `${e.fromState}>${e.toState}`);

  it('connects a humans-first number to its ring group, agents in priority order, without recording', async () => {
    const { simulator } = await start();
    const caller = simulator.placeCall({ from: '+15551234567', to: '+15559870200' });
    await eventually(() => sessions[0]?.state === 'bridged', 'the caller bridged to an agent');
    caller.hangup();
    const call = await stored(sessions[0]!);

    const apps = caller.applications.map((a) => a.app);
    expect(apps).toEqual(['socket', 'answer', 'bridge']);
    expect(caller.applications[2]!.arg).toBe('[leg_timeout=5]sofia/gateway/threecx/101|[leg_timeout=5]sofia/gateway/threecx/102');
    expect(transitions(call)).toEqual(['ringing>transferring', 'transferring>bridged', 'bridged>ended']);
    expect(call.location).toBe('clinic');
    const offered = call.events.find((e) => e.type === 'offered');
    expect(offered?.data.route).toMatchObject({ target: 'ring_group', ringGroup: 'front', agents: ['101', '102'], rule: 'numbers.+15559870200.mode' });
  });

  it('rejects a blocked caller without answering', async () => {
    const { simulator } = await start();
    const caller = simulator.placeCall({ from: '+15550000666', to: '+15559870100' });
    expect(await caller.ended).toBe('CALL_REJECTED');
    expect(caller.answered).toBe(false);
    await eventually(() => sessions.length === 1, 'the session');
    const call = await stored(sessions[0]!);
    expect(call).toMatchObject({ state: 'ended', answeredAt: null });
    expect(call.events.find((e) => e.type === 'offered')?.data.route).toMatchObject({ target: 'reject', rule: 'callers.blocked[0]' });
  });

  it('rings the fallback when no agent answers, never leaving the caller at a dead end', async () => {
    const { simulator } = await start({
      simulator: { endpoints: { 'gateway/threecx/101': { kind: 'no_answer' }, 'gateway/threecx/102': { kind: 'busy' } } },
    });
    const caller = simulator.placeCall({ from: '+15551234568', to: '+15559870200' });
    await eventually(() => sessions[0]?.state === 'bridged', 'the caller bridged to voicemail', 15_000);
    const bridges = caller.applications.filter((a) => a.app === 'bridge').map((a) => a.arg);
    expect(bridges).toEqual([
      '[leg_timeout=5]sofia/gateway/threecx/101|[leg_timeout=5]sofia/gateway/threecx/102',
      'sofia/gateway/threecx/800',
    ]);
    caller.hangup();
    const call = await stored(sessions[0]!);
    expect(transitions(call)).toEqual([
      'ringing>transferring',
      'transferring>bridged',
      'bridged>ended',
    ]);
    expect(call.events.some((e) => e.type === 'transfer_failed')).toBe(true);
  });

  it('applies a valid edit to new calls at once, keeps calls in progress as they were, and survives a broken edit', async () => {
    const file = join(dir, 'routing.yaml');
    await copyFile(TEST_ROUTING_FILE, file);
    const { simulator, controller } = await start({ env: { ROUTING_FILE: file } });
    const url = (path: string) => `http://127.0.0.1:${controller.addresses.http.port}${path}`;
    const auth = { authorization: `Bearer ${TOKEN}` };

    // A call on the first version: the AI number keeps the caller with the controller.
    const before = simulator.placeCall({ from: '+15551230001', to: '+15559870100' });
    await eventually(() => sessions[0]?.state === 'in_conversation', 'the first call held');

    // The admin switches the AI number to people.
    const original = await readFile(file, 'utf8');
    const edited = original.replace(/("\+15559870100":\n\s+location: clinic\n\s+mode:) ai_first/, '$1 humans_first');
    expect(edited).not.toBe(original);
    await writeFile(file, edited);
    await eventually(() => controller.routing.status().version === 2, 'routing version 2');

    const after = simulator.placeCall({ from: '+15551230002', to: '+15559870100' });
    await eventually(() => sessions[1]?.state === 'bridged', 'the new call connected to people');
    expect(sessions[0]!.state).toBe('in_conversation');
    expect(before.applications.map((a) => a.app)).not.toContain('bridge');

    // A broken edit: rejected with positions, the live version unchanged, readiness unaffected.
    await writeFile(file, `${edited}\nnot_a_key: true\n`);
    await eventually(() => controller.routing.status().lastError !== null, 'the edit to be rejected');
    expect(controller.routing.status().version).toBe(2);

    const routing = (await (await fetch(url('/v1/routing'), { headers: auth })).json()) as {
      version: number;
      lastError: { errors: string[] } | null;
    };
    expect(routing.version).toBe(2);
    expect(routing.lastError?.errors).toEqual([expect.stringMatching(/routing\.yaml:\d+:1: .*not_a_key/)]);
    const ready = await fetch(url('/ready'));
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { details: unknown }).details).toMatchObject({
      routing: { version: 2, lastEditRejected: true, errors: 1 },
    });
    const metrics = await (await fetch(url('/metrics'))).text();
    expect(metrics).toMatch(/callbridge_routing_reload_failures_total 1/);
    expect(metrics).toMatch(/callbridge_routing_file_valid 0/);

    const third = simulator.placeCall({ from: '+15551230003', to: '+15559870100' });
    await eventually(() => sessions[2]?.state === 'bridged', 'the third call routed by the last good version');

    for (const caller of [before, after, third]) caller.hangup();
    await Promise.all(sessions.map((s) => s.done));
  });

  it('answers a dry run over HTTP with the decision and its explanation, and refuses bad input', async () => {
    const { controller } = await start();
    const url = `http://127.0.0.1:${controller.addresses.http.port}/v1/routing/test`;
    const post = (body: unknown) =>
      fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

    const ok = await post({ to: '+15559870200', from: '+15551234567', at: '2026-12-24T17:45:00-05:00' });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { decision: { target: { kind: string } }; explanation: string };
    expect(body.decision.target.kind).toBe('ring_group');
    expect(body.explanation).toContain('ring group "front"');
    expect(body.explanation).not.toContain('+15551234567');

    const bad = await post({ to: 'x', from: '+15551234567', at: 'tomorrow', mode: 'panic' });
    expect(bad.status).toBe(400);
    const message = ((await bad.json()) as { message: string }).message;
    expect(message).toMatch(/to: /);
    expect(message).toMatch(/at: expected an ISO 8601/);
    expect(message).toMatch(/mode: /);
    expect((await fetch(url, { method: 'POST' })).status).toBe(401);
  });
});
