// A local AI engine speaking docs/ai-engine-contract.md over real HTTP, for tests and the demo. It keeps the
// contract's promises (bearer auth, one processing per Idempotency-Key, JSON replies, v2 turn replies
// streamed as NDJSON or server-sent events by the request's Accept) and can misbehave on purpose: answer
// slowly, fail with 500, send a malformed reply, drop the connection, or cut a stream short. A local
// stand-in for tests, the demo and the bench; never used in production.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
// The published wire contract (pure zod schemas): the peer refuses what the contract does not allow.
import {
  type agentReplyChunkSchema,
  type agentReplySchema,
  conversationEndSchema,
  conversationStartSchema,
  conversationTurnSchema,
  conversationTurnV2Schema,
  type interruptedReplySchema,
} from '../agent/contract.ts';

type AgentReply = z.infer<typeof agentReplySchema>;
type AgentReplyChunk = z.infer<typeof agentReplyChunkSchema>;
type ConversationStart = z.infer<typeof conversationStartSchema>;
type ConversationTurn = z.infer<typeof conversationTurnV2Schema>;
type InterruptedReply = z.infer<typeof interruptedReplySchema>;
type Version = 'v1' | 'v2';
export type StreamFormat = 'ndjson' | 'sse';

export type PeerBehaviour =
  | { kind: 'ok' }
  /** Processes the request at once but answers only after `ms` (v2 turns: headers at once, the first chunk after `ms`). */
  | { kind: 'slow'; ms: number }
  | { kind: 'status'; status: number }
  /** This body instead of the reply (v2 turns: as the stream's body, in the negotiated format's content type). */
  | { kind: 'malformed'; body: string }
  /** Closes the socket without an answer. */
  | { kind: 'drop' }
  /**
   * v2 turns: streams the first `after` chunks, then ends the response without done (`end`), resets the
   * connection (`reset`), or sends nothing more and keeps the connection open (`stall`).
   */
  | { kind: 'cut'; after: number; how: 'end' | 'reset' | 'stall' };

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  accept: string | undefined;
  body: unknown;
}

/** A turn the engine processed (retries with a known key are not counted), with what it was told. */
export interface ReceivedTurn {
  contract: Version;
  callId: string;
  seq: number;
  /** The v2 turn's account of the reply the caller interrupted; undefined when it carried none. */
  interrupted: InterruptedReply | undefined;
}

/** One chunk written to a v2 turn's response, in the order written (retries write theirs again). */
export interface SentChunk {
  idempotencyKey: string;
  chunk: AgentReplyChunk;
  /** performance.now() once it was handed to the socket: the clock of an in-process controller's journal. */
  atMs: number;
}

export interface AiEnginePeerOptions {
  token?: string;
  /** What the engine says; the default greets and echoes the turn's intent in a fixed way. */
  onStart?: (start: ConversationStart) => AgentReply;
  /** A turn's reply; on v2 its `say` is streamed sentence by sentence (SSML whole), then actions, then done. */
  onTurn?: (callId: string, turn: ConversationTurn, seq: number) => AgentReply;
  /** v2: the stream format whatever the Accept header asks; default: the first the Accept header lists. */
  streamFormat?: StreamFormat;
  /** v2: the pause before each sentence after the first, as a model generating them would take. */
  sentenceGapMs?: number;
}

type Result = { kind: 'reply'; reply: AgentReply } | { kind: 'none' } | { kind: 'stream'; chunks: AgentReplyChunk[] };

const CONTENT_TYPES: Record<StreamFormat, string> = { ndjson: 'application/x-ndjson', sse: 'text/event-stream' };

export class AiEnginePeer {
  readonly requests: RecordedRequest[] = [];
  readonly turns: ReceivedTurn[] = [];
  readonly sent: SentChunk[] = [];
  /** Idempotency keys of v2 turns whose request the client closed while their stream was still going. */
  readonly abandoned: string[] = [];
  /** Behaviours for the next requests, in order; when empty, `behaviour` applies. */
  readonly queue: PeerBehaviour[] = [];
  behaviour: PeerBehaviour = { kind: 'ok' };
  streamFormat: StreamFormat | undefined;
  sentenceGapMs: number;
  /** How many times each operation actually ran (retries with a known key are not counted). */
  processed = { start: 0, turn: 0, end: 0 };

  private readonly server: Server;
  private readonly options: AiEnginePeerOptions;
  private readonly results = new Map<string, Result>();
  private readonly turnSeq = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(options: AiEnginePeerOptions) {
    this.options = options;
    this.streamFormat = options.streamFormat;
    this.sentenceGapMs = options.sentenceGapMs ?? 0;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  static async start(options: AiEnginePeerOptions = {}): Promise<AiEnginePeer> {
    const peer = new AiEnginePeer(options);
    await new Promise<void>((resolve) => peer.server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body: unknown = text === '' ? undefined : JSON.parse(text);
    const path = req.url ?? '';
    const idempotencyKey = header(req, 'idempotency-key');
    this.requests.push({ path, authorization: header(req, 'authorization'), idempotencyKey, accept: header(req, 'accept'), body });
    const behaviour = this.queue.shift() ?? this.behaviour;

    if (this.options.token !== undefined && header(req, 'authorization') !== `Bearer ${this.options.token}`) {
      return send(res, 401, { error: 'unauthorized' });
    }
    if (behaviour.kind === 'drop') {
      res.socket?.destroy();
      return;
    }
    if (behaviour.kind === 'status') return send(res, behaviour.status, { error: 'engine failure' });
    const streamed = /^\/v2\/conversations\/[^/]+\/turns$/.test(path);
    if (behaviour.kind === 'malformed' && !streamed) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(behaviour.body);
      return;
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    // Like a real engine, refuse a request body the contract does not allow.
    if (!requestValid(path, body)) return send(res, 400, { error: 'request does not match the contract' });
    const format = streamed ? (this.streamFormat ?? negotiate(header(req, 'accept'))) : undefined;
    if (streamed && format === undefined) return send(res, 406, { error: 'accepts neither NDJSON nor an event stream' });

    const key = idempotencyKey ?? `${Math.random()}`;
    let result = this.results.get(key);
    if (result === undefined) {
      result = this.process(path, body);
      if (result === undefined) return send(res, 404, { error: 'unknown path' });
      this.results.set(key, result);
    }
    if (result.kind === 'stream' && format !== undefined) return this.stream(res, key, result.chunks, format, behaviour);
    const answer = result.kind === 'reply' ? (): void => send(res, 200, result.reply) : (): void => send(res, 204);
    if (behaviour.kind === 'slow') {
      if (await this.wait(behaviour.ms, res)) answer();
      return;
    }
    answer();
  }

  /** Writes a v2 turn's chunks as they would be generated; a retried key streams the same chunks again. */
  private async stream(res: ServerResponse, key: string, chunks: AgentReplyChunk[], format: StreamFormat, behaviour: PeerBehaviour): Promise<void> {
    res.writeHead(200, { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-cache' });
    res.flushHeaders();
    const gone = (): void => void this.abandoned.push(key);
    if (behaviour.kind === 'slow' && !(await this.wait(behaviour.ms, res))) return gone();
    if (behaviour.kind === 'malformed') {
      res.end(behaviour.body);
      return;
    }
    const count = behaviour.kind === 'cut' ? Math.min(behaviour.after, chunks.length) : chunks.length;
    for (const [i, chunk] of chunks.slice(0, count).entries()) {
      if (i > 0 && chunk.type === 'sentence' && this.sentenceGapMs > 0 && !(await this.wait(this.sentenceGapMs, res))) return gone();
      if (res.destroyed) return gone();
      const json = JSON.stringify(chunk);
      // Handed to the socket before it counts as sent (and before a reset, which would discard it).
      await new Promise<void>((resolve) => res.write(format === 'sse' ? `data: ${json}\n\n` : `${json}\n`, () => resolve()));
      this.sent.push({ idempotencyKey: key, chunk, atMs: performance.now() });
    }
    if (behaviour.kind !== 'cut') res.end();
    else if (behaviour.how === 'end') res.end();
    else if (behaviour.how === 'reset') res.socket?.destroy();
  }

  /** Resolves true after `ms`, or false as soon as the response is gone (the client gave up) or on close(). */
  private wait(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const gone = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        res.off('close', gone);
        resolve(!res.destroyed);
      }, ms);
      this.timers.add(timer);
      res.once('close', gone);
    });
  }

  /** Runs one request; undefined for an unknown path. */
  private process(path: string, body: unknown): Result | undefined {
    if (/^\/v[12]\/conversations$/.test(path)) {
      this.processed.start++;
      const start = body as ConversationStart;
      this.turnSeq.set(start.callId, 0);
      return { kind: 'reply', reply: this.options.onStart?.(start) ?? { say: 'Hello, this is the practice assistant.', actions: [] } };
    }
    const match = /^\/(v[12])\/conversations\/([^/]+)\/(turns|end)$/.exec(path);
    if (match === null) return undefined;
    const contract = match[1] as Version;
    const callId = decodeURIComponent(match[2] ?? '');
    if (match[3] === 'end') {
      this.processed.end++;
      this.turnSeq.delete(callId);
      return { kind: 'none' };
    }
    this.processed.turn++;
    const seq = (this.turnSeq.get(callId) ?? 0) + 1;
    this.turnSeq.set(callId, seq);
    const turn = body as ConversationTurn;
    this.turns.push({ contract, callId, seq, interrupted: turn.interrupted });
    const reply = this.options.onTurn?.(callId, turn, seq) ?? { say: `Engine turn ${seq}.`, actions: [] };
    return contract === 'v2' ? { kind: 'stream', chunks: chunksOf(reply) } : { kind: 'reply', reply };
  }
}

/** A reply as a model would stream it: a chunk per sentence (SSML whole), the actions, done. */
function chunksOf(reply: AgentReply): AgentReplyChunk[] {
  const sentences = reply.ssml === true ? [reply.say] : reply.say.split(/(?<=[.!?])\s+/);
  const chunks: AgentReplyChunk[] = sentences
    .map((text) => text.trim())
    .filter((text) => text !== '')
    .map((text) => (reply.ssml === true ? { type: 'sentence', text, ssml: true } : { type: 'sentence', text }));
  if (reply.actions.length > 0) chunks.push({ type: 'actions', actions: reply.actions });
  chunks.push({ type: 'done' });
  return chunks;
}

/** The first stream format the Accept header lists (a wildcard takes NDJSON). */
function negotiate(accept: string | undefined): StreamFormat | undefined {
  for (const range of (accept ?? '*/*').split(',')) {
    const type = range.split(';')[0]?.trim().toLowerCase();
    if (type === 'application/x-ndjson' || type === '*/*' || type === 'application/*') return 'ndjson';
    if (type === 'text/event-stream' || type === 'text/*') return 'sse';
  }
  return undefined;
}

function requestValid(path: string, body: unknown): boolean {
  if (/^\/v[12]\/conversations$/.test(path)) return conversationStartSchema.safeParse(body).success;
  if (path.startsWith('/v2/') && path.endsWith('/turns')) return conversationTurnV2Schema.safeParse(body).success;
  if (path.endsWith('/turns')) return conversationTurnSchema.safeParse(body).success;
  if (path.endsWith('/end')) return conversationEndSchema.safeParse(body).success;
  return true;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
