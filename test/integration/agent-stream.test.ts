// Contract v2 through the real HTTP client (fetch) against the AI engine stand-in over real sockets: turn
// replies streamed as NDJSON and as server-sent events, chunk by chunk; malformed, cut, stalled and late
// streams; the interrupted-reply context on v2 and never on v1; v1 unchanged.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AiEngineBadReplyError, AiEngineUnavailableError } from '../../src/core/errors.ts';
import type { AgentReplyChunk, ConversationStart, ConversationTurn, InterruptedReply } from '../../src/core/voice-ports.ts';
import { HttpConversationEngine, type HttpConversationEngineOptions } from '../../src/agent/http-engine.ts';
import { AiEnginePeer, type StreamFormat } from '../../src/peers/ai-engine-peer.ts';

const start: ConversationStart = {
  callId: 'call-1',
  caller: '+17045550123',
  did: '+17045550100',
  location: 'uptown',
  language: 'en-US',
  routing: { rule: 'ai-line', reason: 'number has AI on', messageOnly: false },
};
const REPLY = 'Of course. Let me look that up. Your bill is with our billing team.';
const TRANSFER = { type: 'transfer', target: 'billing', reason: 'billing question', summary: 'Billing question' } as const;
const said = (text: string, interrupted?: InterruptedReply): ConversationTurn => ({
  text,
  confidence: 0.9,
  partial: false,
  ...(interrupted === undefined ? {} : { interrupted }),
});
const heard: InterruptedReply = { played: ['Of course.'], cut: { text: 'Let me look that up.', playedMs: 640 }, unplayed: 1 };

let peer: AiEnginePeer;
let engine: HttpConversationEngine;

function makeEngine(overrides: Partial<HttpConversationEngineOptions> = {}): HttpConversationEngine {
  return new HttpConversationEngine({
    baseUrl: peer.url,
    token: 'secret-token',
    contract: 'v2',
    turn: { attemptTimeoutMs: 400, budgetMs: 1500 },
    start: { attemptTimeoutMs: 400, budgetMs: 1500 },
    backoffMs: 10,
    ...overrides,
  });
}

async function collect(chunks: AsyncIterable<AgentReplyChunk>): Promise<AgentReplyChunk[]> {
  const out: AgentReplyChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** Reads a stream until it fails; returns what arrived first and the error. */
async function failing(chunks: AsyncIterable<AgentReplyChunk>): Promise<{ got: AgentReplyChunk[]; error: unknown }> {
  const got: AgentReplyChunk[] = [];
  try {
    for await (const chunk of chunks) got.push(chunk);
  } catch (error) {
    return { got, error };
  }
  throw new Error(`the stream did not fail (got ${got.length} chunks)`);
}

const turnRequests = (): typeof peer.requests => peer.requests.filter((r) => r.path.endsWith('/turns'));

beforeEach(async () => {
  peer = await AiEnginePeer.start({
    token: 'secret-token',
    onTurn: (_callId, turn) => ({ say: REPLY, actions: turn.text.includes('bill') ? [TRANSFER] : [] }),
  });
  engine = makeEngine();
  await engine.start(start);
});

afterEach(async () => {
  await engine.close();
  await peer.close();
});

describe.each<StreamFormat>(['ndjson', 'sse'])('a v2 turn streamed as %s', (format) => {
  beforeEach(() => {
    peer.streamFormat = format;
  });

  it('arrives sentence by sentence: the first is read before the engine has sent the last', async () => {
    peer.sentenceGapMs = 150;
    const sentAtFirst: number[] = [];
    const chunks: AgentReplyChunk[] = [];
    for await (const chunk of engine.turnStream('call-1', said('a question about my bill'))) {
      if (chunks.length === 0) sentAtFirst.push(peer.sent.filter((s) => s.chunk.type === 'sentence').length);
      chunks.push(chunk);
    }
    expect(chunks).toEqual([
      { type: 'sentence', text: 'Of course.' },
      { type: 'sentence', text: 'Let me look that up.' },
      { type: 'sentence', text: 'Your bill is with our billing team.' },
      { type: 'actions', actions: [TRANSFER] },
      { type: 'done' },
    ]);
    // When sentence 1 reached us the engine had not written sentence 3 yet (it waits 150 ms per sentence).
    expect(sentAtFirst[0]).toBeLessThan(3);
    const request = turnRequests()[0];
    expect(request?.path).toBe('/v2/conversations/call-1/turns');
    expect(request?.accept).toBe('application/x-ndjson, text/event-stream');
    expect(request?.idempotencyKey).toBe('call-1:turn:1');
  });

  it('ends as a malformed reply at an invalid chunk, after the valid ones, without a retry', async () => {
    const line = (chunk: unknown): string => (format === 'sse' ? `data: ${JSON.stringify(chunk)}\n\n` : `${JSON.stringify(chunk)}\n`);
    peer.queue.push({ kind: 'malformed', body: line({ type: 'sentence', text: 'Hello.' }) + line({ type: 'dance' }) + line({ type: 'done' }) });
    const { got, error } = await failing(engine.turnStream('call-1', said('hi')));
    expect(got).toEqual([{ type: 'sentence', text: 'Hello.' }]);
    expect(error).toBeInstanceOf(AiEngineBadReplyError);
    expect((error as AiEngineBadReplyError).status).toBe(200);
    expect(turnRequests()).toHaveLength(1);
  });

  it('fails a stream that ends before done, keeping what was said and dropping the actions', async () => {
    peer.queue.push({ kind: 'cut', after: 4, how: 'end' });
    const { got, error } = await failing(engine.turnStream('call-1', said('my bill')));
    expect(got.map((c) => c.type)).toEqual(['sentence', 'sentence', 'sentence', 'actions']);
    expect(error).toBeInstanceOf(AiEngineUnavailableError);
    expect(turnRequests()).toHaveLength(1);
  });
});

describe('HttpConversationEngine on contract v2', () => {
  it('answers in the format the engine chose from Accept (NDJSON, listed first)', async () => {
    const chunks = await collect(engine.turnStream('call-1', said('hello')));
    expect(chunks.at(-1)).toEqual({ type: 'done' });
    expect(peer.sent.length).toBe(chunks.length);
  });

  it('fails on a chunk out of order (a sentence after the actions) as a malformed reply', async () => {
    const body = [
      { type: 'sentence', text: 'One.' },
      { type: 'actions', actions: [] },
      { type: 'sentence', text: 'Two.' },
      { type: 'done' },
    ].map((c) => `${JSON.stringify(c)}\n`).join('');
    peer.queue.push({ kind: 'malformed', body });
    const { got, error } = await failing(engine.turnStream('call-1', said('hi')));
    expect(got.map((c) => c.type)).toEqual(['sentence', 'actions']);
    expect(error).toBeInstanceOf(AiEngineBadReplyError);
  });

  it('refuses a first chunk that does not match the contract at once (no retry)', async () => {
    peer.queue.push({ kind: 'malformed', body: '{"type": "sentence", "text": ""}\n' });
    const { got, error } = await failing(engine.turnStream('call-1', said('hi')));
    expect(got).toEqual([]);
    expect(error).toBeInstanceOf(AiEngineBadReplyError);
    expect(turnRequests()).toHaveLength(1);
  });

  it('refuses a stream larger than the size limit', async () => {
    engine = makeEngine({ maxReplyBytes: 200 });
    await engine.start(start);
    peer.queue.push({ kind: 'malformed', body: `${JSON.stringify({ type: 'sentence', text: 'x'.repeat(300) })}\n` });
    await expect(collect(engine.turnStream('call-1', said('hi')))).rejects.toBeInstanceOf(AiEngineBadReplyError);
  });

  it('retries a stream cut before its first chunk with the same key, and the engine processes the turn once', async () => {
    peer.queue.push({ kind: 'cut', after: 0, how: 'reset' }, { kind: 'cut', after: 0, how: 'end' });
    const chunks = await collect(engine.turnStream('call-1', said('hello')));
    expect(chunks.map((c) => c.type)).toEqual(['sentence', 'sentence', 'sentence', 'done']);
    expect(turnRequests().map((r) => r.idempotencyKey)).toEqual(['call-1:turn:1', 'call-1:turn:1', 'call-1:turn:1']);
    expect(peer.processed.turn).toBe(1);
  });

  it('retries a stream whose first chunk misses the attempt timeout; the retry replays the same chunks', async () => {
    peer.queue.push({ kind: 'slow', ms: 1200 });
    const chunks = await collect(engine.turnStream('call-1', said('my bill')));
    expect(chunks.at(-2)).toEqual({ type: 'actions', actions: [TRANSFER] });
    expect(turnRequests()).toHaveLength(2);
    expect(peer.processed.turn).toBe(1);
    expect(peer.abandoned).toEqual(['call-1:turn:1']);
  });

  it('never retries once a chunk was handed on: a reset midway fails the stream', async () => {
    peer.queue.push({ kind: 'cut', after: 1, how: 'reset' });
    const { got, error } = await failing(engine.turnStream('call-1', said('hello')));
    expect(got).toEqual([{ type: 'sentence', text: 'Of course.' }]);
    expect(error).toBeInstanceOf(AiEngineUnavailableError);
    expect(turnRequests()).toHaveLength(1);
  });

  it('fails a stream that stalls after its first chunk once the gap limit passes', async () => {
    engine = makeEngine({ stream: { gapMs: 150 } });
    await engine.start(start);
    peer.queue.push({ kind: 'cut', after: 1, how: 'stall' });
    const { got, error } = await failing(engine.turnStream('call-1', said('hello')));
    expect(got).toHaveLength(1);
    expect(error).toBeInstanceOf(AiEngineUnavailableError);
    expect((error as Error).message).toContain('no chunk for 150 ms');
    expect(turnRequests()).toHaveLength(1);
  });

  it('closes the request when its reader stops early (the caller spoke over the reply)', async () => {
    peer.sentenceGapMs = 200;
    for await (const chunk of engine.turnStream('call-1', said('hello'))) {
      expect(chunk).toEqual({ type: 'sentence', text: 'Of course.' });
      break;
    }
    for (let i = 0; i < 200 && peer.abandoned.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(peer.abandoned).toEqual(['call-1:turn:1']);
    expect(peer.sent).toHaveLength(1);
  });

  it('tells the engine what the caller heard of an interrupted reply', async () => {
    await collect(engine.turnStream('call-1', said('hello')));
    await collect(engine.turnStream('call-1', said('actually, my bill', heard)));
    expect(peer.turns.map((t) => [t.contract, t.seq, t.interrupted])).toEqual([
      ['v2', 1, undefined],
      ['v2', 2, heard],
    ]);
    expect(turnRequests()[1]?.body).toEqual({ text: 'actually, my bill', confidence: 0.9, partial: false, interrupted: heard });
  });

  it('joins the stream for a whole-reply turn()', async () => {
    const reply = await engine.turn('call-1', said('my bill'));
    expect(reply).toEqual({ say: REPLY, actions: [TRANSFER] });
    expect(turnRequests()[0]?.path).toBe('/v2/conversations/call-1/turns');
  });

  it('starts and ends conversations under /v2 as v1 does', async () => {
    await engine.end('call-1', 'caller hung up');
    expect(peer.requests.map((r) => [r.path, r.accept])).toEqual([
      ['/v2/conversations', 'application/json'],
      ['/v2/conversations/call-1/end', 'application/json'],
    ]);
  });

  it('close() ends a stream in flight, and nothing is left behind', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const timersBefore = timers();
    peer.sentenceGapMs = 2000;
    const iterator = engine.turnStream('call-1', said('hello'))[Symbol.asyncIterator]();
    expect((await iterator.next()).value).toEqual({ type: 'sentence', text: 'Of course.' });
    const pending = iterator.next();
    await Promise.all([engine.close(), engine.close()]);
    await expect(pending).rejects.toBeInstanceOf(AiEngineUnavailableError);
    await peer.close();
    const sockets = (): string[] => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP'));
    for (let i = 0; i < 200 && sockets().length > 0; i++) await new Promise((r) => setImmediate(r));
    expect(sockets()).toEqual([]);
    expect(timers()).toBeLessThanOrEqual(timersBefore);
    peer = await AiEnginePeer.start();
  });
});

describe('HttpConversationEngine on contract v1, beside v2', () => {
  it('keeps the v1 wire: whole replies under /v1, and never sends what the caller heard', async () => {
    const v1 = makeEngine({ contract: 'v1' });
    await v1.start({ ...start, callId: 'call-v1' });
    const chunks = await collect(v1.turnStream('call-v1', said('my bill', heard)));
    expect(chunks).toEqual([{ type: 'sentence', text: REPLY }, { type: 'actions', actions: [TRANSFER] }, { type: 'done' }]);
    expect(await v1.turn('call-v1', said('and another thing', heard))).toEqual({ say: REPLY, actions: [] });
    await v1.end('call-v1', 'caller hung up');
    await v1.close();
    const v1Requests = peer.requests.filter((r) => r.path.includes('call-v1') || r.path === '/v1/conversations');
    expect(v1Requests.map((r) => [r.path, r.accept])).toEqual([
      ['/v1/conversations', 'application/json'],
      ['/v1/conversations/call-v1/turns', 'application/json'],
      ['/v1/conversations/call-v1/turns', 'application/json'],
      ['/v1/conversations/call-v1/end', 'application/json'],
    ]);
    expect(v1Requests[1]?.body).toEqual({ text: 'my bill', confidence: 0.9, partial: false });
    expect(peer.turns.filter((t) => t.callId === 'call-v1').map((t) => [t.contract, t.interrupted])).toEqual([
      ['v1', undefined],
      ['v1', undefined],
    ]);
  });
});
