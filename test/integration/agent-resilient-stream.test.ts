// The resilient engine's streamed turns over the real v2 HTTP client and the AI engine stand-in, with the
// built-in agent behind it: sentences pass on as they arrive, actions only after the engine's done, and a
// stream that fails (late, cut, malformed) ends with what was said plus the holding phrase or the built-in
// agent's reply, counting for the hand-over and the breaker.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpConversationEngine } from '../../src/agent/http-engine.ts';
import type { ResilientConversationEngine } from '../../src/agent/resilient-engine.ts';
import type { ScriptedAgent } from '../../src/agent/scripted-agent.ts';
import { reportingEngine } from '../../src/app/service-health.ts';
import type { AgentReplyChunk, ConversationEngine } from '../../src/core/voice-ports.ts';
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import { makeAgent, resilientEngine, said, startOf, type ResilientOptions } from '../unit/agent/helpers.ts';

const REPLY = 'Of course. Let me find a time for you.';
const TRANSFER = { type: 'transfer', target: 'billing', reason: 'billing question', summary: 'Billing question' } as const;
const HOLDING = { type: 'sentence', text: 'One moment please.' };
/** The built-in agent's answer to "I want to book an appointment", sentence by sentence. */
const BOOKING = [
  { type: 'sentence', text: "I'd be happy to help you book an appointment." },
  { type: 'sentence', text: 'What day and time work best for you?' },
];

let peer: AiEnginePeer;
let http: HttpConversationEngine;
let scripted: ScriptedAgent;
let clock: number;

function resilient(overrides: Partial<ResilientOptions> = {}): ResilientConversationEngine {
  return resilientEngine(http, scripted, () => clock, overrides);
}

async function collect(chunks: AsyncIterable<AgentReplyChunk>): Promise<AgentReplyChunk[]> {
  const out: AgentReplyChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

beforeEach(async () => {
  peer = await AiEnginePeer.start({
    onTurn: (_callId, turn) => ({ say: REPLY, actions: turn.text.includes('bill') ? [TRANSFER] : [] }),
  });
  http = new HttpConversationEngine({
    baseUrl: peer.url,
    contract: 'v2',
    turn: { attemptTimeoutMs: 300, budgetMs: 600 },
    start: { attemptTimeoutMs: 300, budgetMs: 600 },
    end: { attemptTimeoutMs: 300, budgetMs: 600 },
    stream: { gapMs: 300 },
    backoffMs: 5,
  });
  scripted = makeAgent();
  clock = 0;
});

afterEach(async () => {
  await http.close();
  await peer.close();
});

describe('ResilientConversationEngine.turnStream', () => {
  it("passes the engine's sentences on as they arrive, then its actions and done", async () => {
    peer.sentenceGapMs = 100;
    const engine = resilient();
    await engine.start(startOf('ok-1'));
    const chunks: AgentReplyChunk[] = [];
    let sentWhenFirstArrived = -1;
    for await (const chunk of engine.turnStream('ok-1', said('a question about my bill'))) {
      if (chunks.length === 0) sentWhenFirstArrived = peer.sent.length;
      chunks.push(chunk);
    }
    expect(chunks).toEqual([
      { type: 'sentence', text: 'Of course.' },
      { type: 'sentence', text: 'Let me find a time for you.' },
      { type: 'actions', actions: [TRANSFER] },
      { type: 'done' },
    ]);
    expect(sentWhenFirstArrived).toBe(1);
    expect(engine.modeOf('ok-1')).toBe('primary');
    await engine.end('ok-1', 'caller hung up');
  });

  it('a stream cut before done keeps what was said, drops the actions, holds, then hands the call over', async () => {
    const engine = resilient();
    await engine.start(startOf('cut-1'));
    // Sentence 1, sentence 2 and the actions arrive; done never does.
    peer.queue.push({ kind: 'cut', after: 3, how: 'end' });
    const first = await collect(engine.turnStream('cut-1', said('a question about my bill')));
    expect(first).toEqual([
      { type: 'sentence', text: 'Of course.' },
      { type: 'sentence', text: 'Let me find a time for you.' },
      HOLDING,
      { type: 'done' },
    ]);
    expect(engine.modeOf('cut-1')).toBe('primary');

    // The second failure in this call: after what the engine said, the built-in agent answers the same words.
    peer.queue.push({ kind: 'cut', after: 1, how: 'reset' });
    const second = await collect(engine.turnStream('cut-1', said('I want to book an appointment')));
    expect(second).toEqual([{ type: 'sentence', text: 'Of course.' }, ...BOOKING, { type: 'done' }]);
    expect(engine.modeOf('cut-1')).toBe('fallback');
    expect(peer.requests.filter((r) => r.path.endsWith('/turns'))).toHaveLength(2);
    await engine.end('cut-1', 'test over');
  });

  it('a malformed chunk midway is a failure like a cut: what was said stands, then the holding phrase', async () => {
    const engine = resilient();
    await engine.start(startOf('bad-1'));
    peer.queue.push({ kind: 'malformed', body: '{"type":"sentence","text":"Sure."}\n{"type":"actions","actions":[{"type":"dance"}]}\n{"type":"done"}\n' });
    expect(await collect(engine.turnStream('bad-1', said('hello')))).toEqual([{ type: 'sentence', text: 'Sure.' }, HOLDING, { type: 'done' }]);
    await engine.end('bad-1', 'test over');
  });

  it('a first sentence later than the deadline gets the holding phrase, in the call language', async () => {
    http = new HttpConversationEngine({ baseUrl: peer.url, contract: 'v2', turn: { attemptTimeoutMs: 10_000, budgetMs: 10_000 } });
    const engine = resilient({ deadlineMs: 200 });
    await engine.start(startOf('slow-1', { language: 'es-US' }));
    peer.queue.push({ kind: 'slow', ms: 5000 });
    expect(await collect(engine.turnStream('slow-1', said('hola')))).toEqual([{ type: 'sentence', text: 'Un momento, por favor.' }, { type: 'done' }]);
    await engine.end('slow-1', 'test over');
  });

  it('failed streams open the breaker; calls then stream from the built-in agent without asking the engine', async () => {
    const engine = resilient();
    for (const id of ['b-1', 'b-2', 'b-3']) await engine.start(startOf(id));
    peer.behaviour = { kind: 'cut', after: 1, how: 'end' };
    for (const id of ['b-1', 'b-2', 'b-3']) await collect(engine.turnStream(id, said('hello')));
    expect(engine.breakerState).toBe('open');

    const before = peer.requests.length;
    expect(await collect(engine.turnStream('b-1', said('I want to book an appointment')))).toEqual([...BOOKING, { type: 'done' }]);
    expect(engine.modeOf('b-1')).toBe('fallback');
    expect(peer.requests.length).toBe(before);
    for (const id of ['b-1', 'b-2', 'b-3']) await engine.end(id, 'test over');
  });

  it('a reply the caller interrupts settles the half-open probe as a success and cancels the request', async () => {
    const engine = resilient();
    await engine.start(startOf('probe-1'));
    peer.behaviour = { kind: 'status', status: 500 };
    for (const id of ['x-1', 'x-2', 'x-3']) await engine.start(startOf(id));
    expect(engine.breakerState).toBe('open');

    peer.behaviour = { kind: 'ok' };
    peer.sentenceGapMs = 200;
    clock += 30_000;
    // probe-1 is still on the engine: its next turn is the probe, and the caller speaks over sentence 1.
    for await (const chunk of engine.turnStream('probe-1', said('hello'))) {
      expect(chunk).toEqual({ type: 'sentence', text: 'Of course.' });
      break;
    }
    expect(engine.breakerState).toBe('closed');
    for (let i = 0; i < 200 && peer.abandoned.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(peer.abandoned).toHaveLength(1);
    for (const id of ['probe-1', 'x-1', 'x-2', 'x-3']) await engine.end(id, 'test over');
  });

  it("streams through the controller's health wrapper, which reports each stream's outcome", async () => {
    const reports: [string, boolean][] = [];
    const engine = resilient({ primary: reportingEngine(http, (source, healthy) => void reports.push([source, healthy])) });
    await engine.start(startOf('h-1'));
    peer.sentenceGapMs = 100;
    let sentWhenFirstArrived = -1;
    const chunks: AgentReplyChunk[] = [];
    for await (const chunk of engine.turnStream('h-1', said('hello'))) {
      if (chunks.length === 0) sentWhenFirstArrived = peer.sent.length;
      chunks.push(chunk);
    }
    expect(chunks.map((c) => c.type)).toEqual(['sentence', 'sentence', 'done']);
    expect(sentWhenFirstArrived).toBe(1);
    peer.queue.push({ kind: 'cut', after: 1, how: 'end' });
    await collect(engine.turnStream('h-1', said('hello again')));
    expect(reports).toEqual([
      ['ai_engine', true],
      ['ai_engine', true],
      ['ai_engine', false],
    ]);
    await engine.end('h-1', 'test over');
  });

  it('streams a primary without turnStream as its whole reply: one sentence, actions, done', async () => {
    const v1Only: ConversationEngine = {
      start: (start) => http.start(start),
      turn: (callId, turn) => http.turn(callId, turn),
      end: (callId, reason) => http.end(callId, reason),
    };
    const engine = resilient({ primary: v1Only });
    await engine.start(startOf('whole-1'));
    expect(await collect(engine.turnStream('whole-1', said('my bill')))).toEqual([
      { type: 'sentence', text: REPLY },
      { type: 'actions', actions: [TRANSFER] },
      { type: 'done' },
    ]);
    await engine.end('whole-1', 'test over');
  });
});
