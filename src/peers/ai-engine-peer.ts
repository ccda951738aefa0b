// A local AI engine speaking docs/ai-engine-contract.md over real HTTP, for tests and the demo. It keeps the
// contract's promises (bearer auth, one processing per Idempotency-Key, JSON replies) and can misbehave on
// purpose: answer slowly, fail with 500, send a malformed reply, or drop the connection. A local stand-in for
// tests, the demo and the bench; never used in production.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
// The published wire contract (pure zod schemas): the peer refuses what the contract does not allow.
import {
  type agentReplySchema,
  conversationEndSchema,
  conversationStartSchema,
  conversationTurnSchema,
} from '../agent/contract.ts';

type AgentReply = z.infer<typeof agentReplySchema>;
type ConversationStart = z.infer<typeof conversationStartSchema>;
type ConversationTurn = z.infer<typeof conversationTurnSchema>;

export type PeerBehaviour =
  | { kind: 'ok' }
  /** Processes the request at once but answers only after `ms` (a late answer, not a lost one). */
  | { kind: 'slow'; ms: number }
  | { kind: 'status'; status: number }
  | { kind: 'malformed'; body: string }
  /** Closes the socket without an answer. */
  | { kind: 'drop' };

export interface RecordedRequest {
  path: string;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
  body: unknown;
}

export interface AiEnginePeerOptions {
  token?: string;
  /** What the engine says; the default greets and echoes the turn's intent in a fixed way. */
  onStart?: (start: ConversationStart) => AgentReply;
  onTurn?: (callId: string, turn: ConversationTurn, seq: number) => AgentReply;
}

export class AiEnginePeer {
  readonly requests: RecordedRequest[] = [];
  /** Behaviours for the next requests, in order; when empty, `behaviour` applies. */
  readonly queue: PeerBehaviour[] = [];
  behaviour: PeerBehaviour = { kind: 'ok' };
  /** How many times each operation actually ran (retries with a known key are not counted). */
  processed = { start: 0, turn: 0, end: 0 };

  private readonly server: Server;
  private readonly options: AiEnginePeerOptions;
  private readonly results = new Map<string, AgentReply | null>();
  private readonly turnSeq = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(options: AiEnginePeerOptions) {
    this.options = options;
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
    this.requests.push({ path, authorization: header(req, 'authorization'), idempotencyKey, body });
    const behaviour = this.queue.shift() ?? this.behaviour;

    if (this.options.token !== undefined && header(req, 'authorization') !== `Bearer ${this.options.token}`) {
      return send(res, 401, { error: 'unauthorized' });
    }
    if (behaviour.kind === 'drop') {
      res.socket?.destroy();
      return;
    }
    if (behaviour.kind === 'status') return send(res, behaviour.status, { error: 'engine failure' });
    if (behaviour.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(behaviour.body);
      return;
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    // Like a real engine, refuse a request body the contract does not allow.
    if (!requestValid(path, body)) return send(res, 400, { error: 'request does not match the contract' });

    const key = idempotencyKey ?? `${Math.random()}`;
    let reply = this.results.get(key);
    if (reply === undefined) {
      reply = this.process(path, body);
      if (reply === undefined) return send(res, 404, { error: 'unknown path' });
      this.results.set(key, reply);
    }
    const answer = (): void => (reply === null ? send(res, 204) : send(res, 200, reply));
    if (behaviour.kind === 'slow') {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!res.destroyed) answer();
      }, behaviour.ms);
      this.timers.add(timer);
      return;
    }
    answer();
  }

  /** Runs one request; null means "no content" (end). */
  private process(path: string, body: unknown): AgentReply | null | undefined {
    if (path === '/v1/conversations') {
      this.processed.start++;
      const start = body as ConversationStart;
      this.turnSeq.set(start.callId, 0);
      return this.options.onStart?.(start) ?? { say: 'Hello, this is the practice assistant.', actions: [] };
    }
    const match = /^\/v1\/conversations\/([^/]+)\/(turns|end)$/.exec(path);
    if (match === null) return undefined;
    const callId = decodeURIComponent(match[1] ?? '');
    if (match[2] === 'end') {
      this.processed.end++;
      this.turnSeq.delete(callId);
      return null;
    }
    this.processed.turn++;
    const seq = (this.turnSeq.get(callId) ?? 0) + 1;
    this.turnSeq.set(callId, seq);
    const turn = body as ConversationTurn;
    return this.options.onTurn?.(callId, turn, seq) ?? { say: `Engine turn ${seq}.`, actions: [] };
  }
}

function requestValid(path: string, body: unknown): boolean {
  if (path === '/v1/conversations') return conversationStartSchema.safeParse(body).success;
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
