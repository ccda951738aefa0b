// The resilient engine over the real HTTP client and a contract peer, with the built-in agent behind it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpConversationEngine } from '../../src/agent/http-engine.ts';
import type { ResilientConversationEngine } from '../../src/agent/resilient-engine.ts';
import type { ScriptedAgent } from '../../src/agent/scripted-agent.ts';
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import { makeAgent, resilientEngine, said, startOf, type ResilientOptions } from '../unit/agent/helpers.ts';

const ENGINE_GREETING = 'Hello, this is the practice assistant.';
const SCRIPTED_GREETING = /virtual assistant. How can I help you today/;

let peer: AiEnginePeer;
let http: HttpConversationEngine;
let scripted: ScriptedAgent;
let clock: number;

function resilient(overrides: Partial<ResilientOptions> = {}): ResilientConversationEngine {
  return resilientEngine(http, scripted, () => clock, { deadlineMs: 2000, ...overrides });
}

beforeEach(async () => {
  peer = await AiEnginePeer.start();
  http = new HttpConversationEngine({
    baseUrl: peer.url,
    turn: { attemptTimeoutMs: 100, budgetMs: 250 },
    start: { attemptTimeoutMs: 100, budgetMs: 250 },
    end: { attemptTimeoutMs: 100, budgetMs: 250 },
    backoffMs: 5,
  });
  scripted = makeAgent();
  clock = 0;
});

afterEach(async () => {
  await http.close();
  await peer.close();
});

describe('ResilientConversationEngine', () => {
  it('uses the external engine while it is healthy and ends the conversation on both sides', async () => {
    const engine = resilient();
    expect((await engine.start(startOf('ok-1'))).say).toBe(ENGINE_GREETING);
    expect((await engine.turn('ok-1', said('hello'))).say).toBe('Engine turn 1.');
    expect(engine.modeOf('ok-1')).toBe('primary');
    await engine.end('ok-1', 'caller hung up');
    expect(peer.processed.end).toBe(1);
    expect(scripted.activeCalls).toBe(0);
    expect(engine.modeOf('ok-1')).toBeUndefined();
  });

  it('on 500s says a holding phrase, then hands the call to the built-in agent, opens the breaker and recovers', async () => {
    const engine = resilient();
    await engine.start(startOf('call-a'));
    peer.behaviour = { kind: 'status', status: 500 };

    const holding = await engine.turn('call-a', said('I have a question'));
    expect(holding).toEqual({ say: 'One moment please.', actions: [] });
    expect(engine.modeOf('call-a')).toBe('primary');

    // Second failure in this call: the built-in agent answers the same words the engine failed on.
    const takeover = await engine.turn('call-a', said('a question about my bill'));
    expect(takeover.actions[0]).toMatchObject({ type: 'transfer', target: 'billing' });
    expect(engine.modeOf('call-a')).toBe('fallback');

    // A new call while the engine still fails: third failure in a row opens the breaker; greeting is local.
    const greetingB = await engine.start(startOf('call-b'));
    expect(greetingB.say).toMatch(SCRIPTED_GREETING);
    expect(engine.breakerState).toBe('open');

    // While open, calls do not wait on the engine at all.
    const before = peer.requests.length;
    const greetingC = await engine.start(startOf('call-c'));
    expect(greetingC.say).toMatch(SCRIPTED_GREETING);
    expect((await engine.turn('call-c', said('book an appointment'))).say).toMatch(/What day and time/);
    expect(peer.requests.length).toBe(before);

    // The engine comes back; after the recovery time one new call probes it and closes the breaker.
    peer.behaviour = { kind: 'ok' };
    clock += 30_000;
    expect((await engine.start(startOf('call-d'))).say).toBe(ENGINE_GREETING);
    expect(engine.breakerState).toBe('closed');
    expect(engine.modeOf('call-d')).toBe('primary');
    // A call that moved to the built-in agent stays there (its conversation lives there now).
    expect((await engine.turn('call-c', said('Friday morning'))).say).toContain('Friday morning');

    for (const id of ['call-a', 'call-b', 'call-c', 'call-d']) await engine.end(id, 'test over');
    expect(scripted.activeCalls).toBe(0);
  });

  it('answers with the holding phrase when the engine misses the deadline, without waiting for it', async () => {
    http = new HttpConversationEngine({ baseUrl: peer.url, turn: { attemptTimeoutMs: 10_000, budgetMs: 10_000 } });
    const engine = resilient({ deadlineMs: 200 });
    await engine.start(startOf('slow-1', { language: 'es-US' }));
    peer.queue.push({ kind: 'slow', ms: 8000 });
    const reply = await engine.turn('slow-1', said('hola'));
    expect(reply).toEqual({ say: 'Un momento, por favor.', actions: [] });
    expect(peer.processed.turn).toBe(1);
    await engine.end('slow-1', 'test over');
  });

  it('treats a malformed reply as a failure: the caller hears the holding phrase, never the bad reply', async () => {
    const engine = resilient();
    await engine.start(startOf('bad-1'));
    peer.queue.push({ kind: 'malformed', body: '{"say": 42}' });
    expect(await engine.turn('bad-1', said('hello'))).toEqual({ say: 'One moment please.', actions: [] });
    await engine.end('bad-1', 'test over');
  });

  it('starts on the built-in agent when the engine is down, and a fallback failure still reaches a person', async () => {
    const url = peer.url;
    await peer.close();
    http = new HttpConversationEngine({ baseUrl: url, start: { attemptTimeoutMs: 100, budgetMs: 200 } });
    const broken = {
      start: () => Promise.reject(new Error('script bug')),
      turn: () => Promise.reject(new Error('script bug')),
      end: () => Promise.resolve(),
    };
    const engine = resilient({ fallback: broken });
    const reply = await engine.start(startOf('down-1'));
    expect(reply.actions).toEqual([
      { type: 'transfer', target: 'operator', reason: 'the built-in agent failed at start', summary: 'The automated assistant could not continue.' },
    ]);
    const healthyFallback = resilient();
    expect((await healthyFallback.start(startOf('down-2'))).say).toMatch(SCRIPTED_GREETING);
    await healthyFallback.end('down-2', 'test over');
    peer = await AiEnginePeer.start();
  });
});
