// The real HTTP client against a local engine speaking the contract over real sockets.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiEngineBadReplyError, AiEngineUnavailableError } from '../../src/core/errors.ts';
import type { ConversationStart } from '../../src/core/voice-ports.ts';
import { HttpConversationEngine } from '../../src/agent/http-engine.ts';
import type { AgentLogger } from '../../src/agent/logger.ts';
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';

const CALLER = '+17045550123';
const start: ConversationStart = {
  callId: 'call-1',
  caller: CALLER,
  did: '+17045550100',
  location: 'uptown',
  language: 'en-US',
  routing: { rule: 'ai-line', reason: 'number has AI on', messageOnly: false },
};

function capturingLogger(): AgentLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (fields, message) => lines.push(JSON.stringify({ ...fields, message })),
    warn: (fields, message) => lines.push(JSON.stringify({ ...fields, message })),
  };
}

let peer: AiEnginePeer;
let engine: HttpConversationEngine;
let logger: ReturnType<typeof capturingLogger>;

function makeEngine(overrides: Partial<ConstructorParameters<typeof HttpConversationEngine>[0]> = {}): HttpConversationEngine {
  return new HttpConversationEngine({
    baseUrl: peer.url,
    token: 'secret-token',
    turn: { attemptTimeoutMs: 150, budgetMs: 1000 },
    start: { attemptTimeoutMs: 150, budgetMs: 1000 },
    backoffMs: 10,
    logger,
    ...overrides,
  });
}

beforeEach(async () => {
  peer = await AiEnginePeer.start({
    token: 'secret-token',
    onTurn: (_callId, turn, seq) => ({
      say: `Turn ${seq}: you want billing.`,
      actions: turn.text.includes('bill')
        ? [{ type: 'transfer', target: 'billing', reason: 'billing question', summary: 'Billing question' }]
        : [],
    }),
  });
  logger = capturingLogger();
  engine = makeEngine();
});

afterEach(async () => {
  await engine.close();
  await peer.close();
});

describe('HttpConversationEngine against a contract peer', () => {
  it('starts, takes turns and ends a conversation with bearer auth and per-turn idempotency keys', async () => {
    const greeting = await engine.start(start);
    expect(greeting).toEqual({ say: 'Hello, this is the practice assistant.', actions: [] });

    const reply = await engine.turn('call-1', { text: 'question about my bill', confidence: 0.93, partial: false });
    expect(reply.actions).toEqual([
      { type: 'transfer', target: 'billing', reason: 'billing question', summary: 'Billing question' },
    ]);
    await engine.turn('call-1', { text: '', confidence: 0, partial: false, dtmf: '5' });
    await engine.end('call-1', 'caller hung up');

    expect(peer.requests.map((r) => r.path)).toEqual([
      '/v1/conversations',
      '/v1/conversations/call-1/turns',
      '/v1/conversations/call-1/turns',
      '/v1/conversations/call-1/end',
    ]);
    expect(peer.requests.every((r) => r.authorization === 'Bearer secret-token')).toBe(true);
    expect(peer.requests.map((r) => r.idempotencyKey)).toEqual([
      'call-1:start',
      'call-1:turn:1',
      'call-1:turn:2',
      'call-1:end',
    ]);
    expect(peer.requests[0]?.body).toEqual(start);
    expect(peer.requests[3]?.body).toEqual({ reason: 'caller hung up' });
  });

  it('retries a timed-out turn with the same Idempotency-Key and the engine processes it once', async () => {
    await engine.start(start);
    peer.queue.push({ kind: 'slow', ms: 600 });
    const reply = await engine.turn('call-1', { text: 'my bill', confidence: 0.9, partial: false });

    expect(reply.say).toBe('Turn 1: you want billing.');
    const turns = peer.requests.filter((r) => r.path.endsWith('/turns'));
    expect(turns).toHaveLength(2);
    expect(turns[0]?.idempotencyKey).toBe('call-1:turn:1');
    expect(turns[1]?.idempotencyKey).toBe('call-1:turn:1');
    expect(peer.processed.turn).toBe(1);
    // The next turn gets a new key.
    await engine.turn('call-1', { text: 'hello', confidence: 0.9, partial: false });
    expect(peer.requests.at(-1)?.idempotencyKey).toBe('call-1:turn:2');
  });

  it('treats a malformed reply as a failure without acting on it or retrying', async () => {
    await engine.start(start);
    peer.queue.push({ kind: 'malformed', body: '{"say": "Transferring", "actions": [{"type": "transfer"}]}' });
    await expect(engine.turn('call-1', { text: 'hi', confidence: 1, partial: false })).rejects.toBeInstanceOf(
      AiEngineBadReplyError,
    );
    peer.queue.push({ kind: 'malformed', body: JSON.stringify({ say: 'x'.repeat(70_000), actions: [] }) });
    await expect(engine.turn('call-1', { text: 'hi', confidence: 1, partial: false })).rejects.toBeInstanceOf(
      AiEngineBadReplyError,
    );
    peer.queue.push({ kind: 'malformed', body: 'not json at all' });
    await expect(engine.turn('call-1', { text: 'hi', confidence: 1, partial: false })).rejects.toMatchObject({
      code: 'AI_ENGINE_BAD_REPLY',
    });
    expect(peer.requests.filter((r) => r.path.endsWith('/turns'))).toHaveLength(3);
  });

  it('retries 500s within the budget and succeeds when the engine comes back', async () => {
    await engine.start(start);
    peer.queue.push({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
    const reply = await engine.turn('call-1', { text: 'hello', confidence: 0.8, partial: false });
    expect(reply.say).toBe('Turn 1: you want billing.');
    expect(peer.requests.filter((r) => r.path.endsWith('/turns'))).toHaveLength(3);
  });

  it('gives up with AiEngineUnavailableError when the engine keeps failing, within its budget', async () => {
    // Attempts get time enough to hear the 500 even on a busy machine (a timed-out attempt has no status).
    engine = makeEngine({ turn: { attemptTimeoutMs: 500, budgetMs: 1200 } });
    await engine.start(start);
    peer.behaviour = { kind: 'status', status: 500 };
    const error = await engine.turn('call-1', { text: 'hello', confidence: 0.8, partial: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AiEngineUnavailableError);
    expect((error as AiEngineUnavailableError).status).toBe(500);
    expect(peer.requests.filter((r) => r.path.endsWith('/turns')).length).toBeGreaterThan(1);
  });

  it('does not retry a refused request (4xx): a wrong token is a configuration error', async () => {
    engine = makeEngine({ token: 'wrong' });
    const error = await engine.start(start).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AiEngineBadReplyError);
    expect((error as AiEngineBadReplyError).status).toBe(401);
    expect(peer.requests).toHaveLength(1);
  });

  it('reports an engine that is down (connection refused or dropped) as unavailable', async () => {
    engine = makeEngine({ start: { attemptTimeoutMs: 100, budgetMs: 300 } });
    peer.behaviour = { kind: 'drop' };
    await expect(engine.start(start)).rejects.toBeInstanceOf(AiEngineUnavailableError);
    const url = peer.url;
    await peer.close();
    peer = await AiEnginePeer.start();
    const down = makeEngine({ baseUrl: url, start: { attemptTimeoutMs: 100, budgetMs: 300 } });
    await expect(down.start(start)).rejects.toBeInstanceOf(AiEngineUnavailableError);
    await down.close();
  });

  it('keeps phone numbers and transcripts out of its logs', async () => {
    await engine.start(start);
    peer.queue.push({ kind: 'status', status: 500 }, { kind: 'malformed', body: `{"say": "${CALLER}"}` });
    await engine.turn('call-1', { text: 'my chest hurts and my number is 7045550123', confidence: 1, partial: false }).catch(
      () => undefined,
    );
    expect(logger.lines.length).toBeGreaterThan(0);
    const all = logger.lines.join('\n');
    expect(all).not.toContain('7045550123');
    expect(all).not.toContain('chest');
    expect(all).toContain('call-1');
  });

  it('close() aborts a request in flight and can be called twice', async () => {
    engine = makeEngine({ start: { attemptTimeoutMs: 5000, budgetMs: 5000 } });
    peer.queue.push({ kind: 'slow', ms: 3000 });
    const pending = engine.start(start);
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([engine.close(), engine.close()]);
    await expect(pending).rejects.toBeInstanceOf(AiEngineUnavailableError);
  });

  it('leaves no sockets or timers behind after retries, timeouts and close()', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    await engine.start(start);
    peer.queue.push({ kind: 'slow', ms: 400 }, { kind: 'status', status: 500 }, { kind: 'drop' });
    await engine.turn('call-1', { text: 'hello', confidence: 1, partial: false });
    await engine.end('call-1', 'caller hung up');
    await engine.close();
    await peer.close();
    // Sockets finish closing a few event-loop turns after close(); wait for that, boundedly.
    const sockets = (): string[] => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP'));
    for (let i = 0; i < 200 && sockets().length > 0; i++) await new Promise((r) => setImmediate(r));
    expect(sockets()).toEqual([]);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });
});
