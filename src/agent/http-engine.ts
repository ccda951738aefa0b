// HTTP client of the external AI engine (docs/ai-engine-contract.md). Each request has its own timeout and
// the whole operation a budget: a slow engine costs the caller at most `budgetMs`, then the resilient
// engine speaks for us. Retries reuse the request's Idempotency-Key, so a turn the engine already handled
// (its answer was merely late) is answered from the engine's record instead of being processed twice.
// With contract v2 a turn's reply streams: the limits above hold until its first chunk, then each gap
// between chunks has its own limit, and nothing is retried once a chunk has been handed on.
import { setTimeout as sleep } from 'node:timers/promises';
import { AiEngineBadReplyError, AiEngineUnavailableError, CallbridgeError } from '../core/errors.ts';
import type {
  AgentReply,
  AgentReplyChunk,
  ConversationEngine,
  ConversationStart,
  ConversationTurn,
} from '../core/voice-ports.ts';
import { agentReplySchema, type ContractVersion } from './contract.ts';
import { openReplyStream, statusError, type OpenStream } from './http-stream.ts';
import { silentLogger, type AgentLogger } from './logger.ts';
import { collectReply, replyChunks } from './reply-stream.ts';

/** Per-operation limits: one attempt's timeout and the total time including retries and backoff. */
export interface RequestLimits {
  attemptTimeoutMs: number;
  budgetMs: number;
}

export interface HttpConversationEngineOptions {
  /** AI_ENGINE_URL, e.g. https://ai.example.com (the contract's paths are appended). */
  baseUrl: string;
  /** AI_ENGINE_TOKEN: sent as `Authorization: Bearer <token>`; omitted when empty. */
  token?: string;
  /** AI_ENGINE_CONTRACT: v1 (whole replies) or v2 (streamed turn replies, interrupted-reply context). */
  contract?: ContractVersion;
  start?: Partial<RequestLimits>;
  turn?: Partial<RequestLimits>;
  end?: Partial<RequestLimits>;
  /** First backoff between attempts; doubles each retry (capped at 4×). */
  backoffMs?: number;
  /** Reply bodies (v2: whole streams) larger than this are malformed (a reply is a few sentences and actions). */
  maxReplyBytes?: number;
  /** v2: longest wait for each chunk after the first, and for the whole stream from the request on. */
  stream?: Partial<StreamLimits>;
  logger?: AgentLogger;
}

export interface StreamLimits {
  gapMs: number;
  totalMs: number;
}

/** Least budget left for a retry to be worth sending. */
const MIN_RETRY_MS = 50;

const DEFAULTS = {
  start: { attemptTimeoutMs: 2000, budgetMs: 3000 },
  turn: { attemptTimeoutMs: 1500, budgetMs: 2500 },
  end: { attemptTimeoutMs: 1000, budgetMs: 2000 },
  backoffMs: 100,
  maxReplyBytes: 64 * 1024,
  stream: { gapMs: 2000, totalMs: 30_000 },
  /** After done, how long the rest of the body may take to end before the connection is dropped instead. */
  drainMs: 1000,
} as const;

/** What a v2 turn accepts: the engine picks either stream format. */
const STREAM_TYPES = 'application/x-ndjson, text/event-stream';

type Operation = 'start' | 'turn' | 'end';

interface Attempt {
  op: Operation;
  callId: string;
  path: string;
  body: unknown;
  idempotencyKey: string;
  /** Whether the reply body is an AgentReply (start, turn) or ignored (end). */
  expectsReply: boolean;
}


export class HttpConversationEngine implements ConversationEngine {
  private readonly baseUrl: string;
  private readonly token: string;
  private readonly contract: ContractVersion;
  private readonly streamLimits: StreamLimits;
  private readonly limits: Record<Operation, RequestLimits>;
  private readonly backoffMs: number;
  private readonly maxReplyBytes: number;
  private readonly logger: AgentLogger;
  /** Turn numbers per call: the Idempotency-Key of a turn is stable across its retries. */
  private readonly turnCounts = new Map<string, number>();
  /** One controller per operation in flight: close() aborts them all (requests and backoff waits). */
  private readonly inFlight = new Set<AbortController>();
  private closed = false;

  constructor(options: HttpConversationEngineOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`AI engine URL must be http(s), got ${url.protocol}`);
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.token = options.token ?? '';
    this.contract = options.contract ?? 'v1';
    this.streamLimits = { ...DEFAULTS.stream, ...options.stream };
    this.limits = {
      start: { ...DEFAULTS.start, ...options.start },
      turn: { ...DEFAULTS.turn, ...options.turn },
      end: { ...DEFAULTS.end, ...options.end },
    };
    this.backoffMs = options.backoffMs ?? DEFAULTS.backoffMs;
    this.maxReplyBytes = options.maxReplyBytes ?? DEFAULTS.maxReplyBytes;
    this.logger = options.logger ?? silentLogger;
  }

  async start(start: ConversationStart): Promise<AgentReply> {
    this.turnCounts.set(start.callId, 0);
    try {
      const reply = await this.request({
        op: 'start',
        callId: start.callId,
        path: `/${this.contract}/conversations`,
        body: start,
        idempotencyKey: `${start.callId}:start`,
        expectsReply: true,
      });
      return reply as AgentReply;
    } catch (error) {
      // No conversation on the engine side: the caller will not end() it here, so forget it now.
      this.turnCounts.delete(start.callId);
      throw error;
    }
  }

  /** A turn's whole reply; on v2 the stream is read to its end and joined (see collectReply). */
  async turn(callId: string, turn: ConversationTurn): Promise<AgentReply> {
    if (this.contract === 'v2') {
      const chunks: AgentReplyChunk[] = [];
      for await (const chunk of this.streamTurn(callId, turn)) chunks.push(chunk);
      return collectReply(chunks);
    }
    const reply = await this.request(this.turnAttempt(callId, turn));
    return reply as AgentReply;
  }

  /**
   * A turn's reply chunk by chunk: on v2 as the engine streams it (rejecting midway when the stream breaks,
   * stalls, is malformed or ends without done), on v1 the whole reply as one sentence, its actions, done.
   */
  turnStream(callId: string, turn: ConversationTurn): AsyncIterable<AgentReplyChunk> {
    return this.contract === 'v2' ? this.streamTurn(callId, turn) : this.wholeTurn(callId, turn);
  }

  async end(callId: string, reason: string): Promise<void> {
    this.turnCounts.delete(callId);
    await this.request({
      op: 'end',
      callId,
      path: `/${this.contract}/conversations/${encodeURIComponent(callId)}/end`,
      body: { reason },
      idempotencyKey: `${callId}:end`,
      expectsReply: false,
    });
  }

  /** Aborts every request in flight (they reject as unavailable); idempotent. */
  close(): Promise<void> {
    this.closed = true;
    for (const operation of this.inFlight) operation.abort();
    this.inFlight.clear();
    this.turnCounts.clear();
    return Promise.resolve();
  }

  /** The next turn of a call; v1 sends only v1's fields (its schema is closed), v2 adds `interrupted`. */
  private turnAttempt(callId: string, turn: ConversationTurn): Attempt {
    const seq = (this.turnCounts.get(callId) ?? 0) + 1;
    this.turnCounts.set(callId, seq);
    const body: ConversationTurn = { text: turn.text, confidence: turn.confidence, partial: turn.partial };
    if (turn.dtmf !== undefined) body.dtmf = turn.dtmf;
    if (this.contract === 'v2' && turn.interrupted !== undefined) body.interrupted = turn.interrupted;
    return {
      op: 'turn',
      callId,
      path: `/${this.contract}/conversations/${encodeURIComponent(callId)}/turns`,
      body,
      idempotencyKey: `${callId}:turn:${seq}`,
      expectsReply: true,
    };
  }

  private async request(attempt: Attempt): Promise<AgentReply | undefined> {
    if (this.closed) throw new AiEngineUnavailableError('AI engine client closed');
    const operation = new AbortController();
    this.inFlight.add(operation);
    try {
      return await this.attempts(attempt, operation.signal, (signal) => this.once(attempt, signal));
    } finally {
      this.inFlight.delete(operation);
    }
  }

  private async *wholeTurn(callId: string, turn: ConversationTurn): AsyncGenerator<AgentReplyChunk> {
    yield* replyChunks(await this.turn(callId, turn));
  }

  private async *streamTurn(callId: string, turn: ConversationTurn): AsyncGenerator<AgentReplyChunk> {
    if (this.closed) throw new AiEngineUnavailableError('AI engine client closed');
    const attempt = this.turnAttempt(callId, turn);
    const operation = new AbortController();
    this.inFlight.add(operation);
    const startedAt = performance.now();
    let open: OpenStream | undefined;
    let chunks = 0;
    try {
      // Until the first chunk, a failed request is retried like any other (same Idempotency-Key).
      const request = { url: `${this.baseUrl}${attempt.path}`, headers: this.headers(attempt, STREAM_TYPES), body: JSON.stringify(attempt.body) };
      open = await this.attempts(attempt, operation.signal, (signal) =>
        openReplyStream(request, { attempt: signal, cancelled: operation.signal, maxBytes: this.maxReplyBytes }),
      );
      // The total limit counts the time spent waiting on the engine, not the time our reader takes between
      // chunks (it may be busy synthesising the previous sentence).
      let waitedMs = performance.now() - startedAt;
      for (let chunk: AgentReplyChunk | undefined = open.first; chunk !== undefined; ) {
        chunks++;
        yield chunk;
        if (chunk.type === 'done') return;
        const askedAt = performance.now();
        try {
          chunk = await this.nextChunk(open, this.streamLimits.totalMs - waitedMs);
        } finally {
          waitedMs += performance.now() - askedAt;
        }
      }
      throw new AiEngineUnavailableError('AI engine stream ended before done');
    } catch (error) {
      const failure = this.classify(error);
      if (chunks > 0) {
        this.logger.warn(
          { callId, op: 'turn', chunks, code: failure.code, elapsedMs: Math.round(performance.now() - startedAt) },
          'AI engine stream failed midway',
        );
      }
      throw failure;
    } finally {
      this.inFlight.delete(operation);
      if (open !== undefined) this.release(open);
    }
  }

  /** The next chunk under the gap limit, or under what is left (`leftMs`) of the stream's total. */
  private async nextChunk(open: OpenStream, leftMs: number): Promise<AgentReplyChunk | undefined> {
    const { gapMs, totalMs } = this.streamLimits;
    const left = Math.max(0, leftMs);
    const why = left < gapMs ? `AI engine stream took longer than ${totalMs} ms` : `AI engine sent no chunk for ${gapMs} ms`;
    const timer = setTimeout(() => open.abort.abort(new AiEngineUnavailableError(why)), Math.min(gapMs, left));
    try {
      return await open.reader.next();
    } catch (error) {
      // The transport reports an abort in its own words; the reason we aborted for is the one that counts.
      const reason: unknown = open.abort.signal.reason;
      throw reason instanceof CallbridgeError ? reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A finished stream's connection is kept if its body ends soon after done; anything else is dropped. */
  private release(open: OpenStream): void {
    if (!open.reader.complete) {
      open.abort.abort();
      return;
    }
    const timer = setTimeout(() => open.abort.abort(), DEFAULTS.drainMs);
    this.inFlight.add(open.abort);
    open.reader
      .drain()
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.inFlight.delete(open.abort);
      });
  }

  private async attempts<T>(attempt: Attempt, cancelled: AbortSignal, once: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { attemptTimeoutMs, budgetMs } = this.limits[attempt.op];
    const startedAt = performance.now();
    const budget = AbortSignal.any([AbortSignal.timeout(budgetMs), cancelled]);
    let lastError: CallbridgeError = new AiEngineUnavailableError('AI engine request not attempted');
    for (let n = 1; ; n++) {
      const remaining = budgetMs - (performance.now() - startedAt);
      // A sliver of budget cannot hold a round trip: stop with the last real answer instead of a timeout.
      if (budget.aborted || remaining < (n === 1 ? 1 : MIN_RETRY_MS)) break;
      const signal = AbortSignal.any([budget, AbortSignal.timeout(Math.ceil(Math.min(attemptTimeoutMs, remaining)))]);
      try {
        const reply = await once(signal);
        if (n > 1) this.logger.info({ callId: attempt.callId, op: attempt.op, attempts: n }, 'AI engine answered after retry');
        return reply;
      } catch (error) {
        lastError = this.classify(error);
        this.logger.warn(
          {
            callId: attempt.callId,
            op: attempt.op,
            attempt: n,
            code: lastError.code,
            status: (lastError as { status?: number }).status,
            elapsedMs: Math.round(performance.now() - startedAt),
          },
          'AI engine request failed',
        );
        if (!lastError.retryable) throw lastError;
      }
      const backoff = this.backoffMs * 2 ** Math.min(n - 1, 2);
      if (budgetMs - (performance.now() - startedAt) <= backoff) break;
      try {
        await sleep(backoff, undefined, { signal: budget });
      } catch {
        break;
      }
    }
    throw lastError;
  }

  private headers(attempt: Attempt, accept: string): Record<string, string> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept,
      'idempotency-key': attempt.idempotencyKey,
    };
    if (this.token !== '') headers.authorization = `Bearer ${this.token}`;
    return headers;
  }

  private async once(attempt: Attempt, signal: AbortSignal): Promise<AgentReply | undefined> {
    const response = await fetch(`${this.baseUrl}${attempt.path}`, {
      method: 'POST',
      headers: this.headers(attempt, 'application/json'),
      body: JSON.stringify(attempt.body),
      signal,
    });
    const status = response.status;
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > this.maxReplyBytes) {
      await response.body?.cancel();
      throw new AiEngineBadReplyError(`AI engine reply is ${declared} bytes (limit ${this.maxReplyBytes})`, { status });
    }
    // Read the body under the same signal: a server that sends headers and then stalls is still slow.
    const raw = await response.arrayBuffer();
    if (status < 200 || status >= 300) throw statusError(status);
    if (!attempt.expectsReply) return undefined;
    if (raw.byteLength > this.maxReplyBytes) {
      throw new AiEngineBadReplyError(`AI engine reply is ${raw.byteLength} bytes (limit ${this.maxReplyBytes})`, { status });
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(raw));
    } catch (error) {
      throw new AiEngineBadReplyError('AI engine reply is not JSON', { status, cause: error });
    }
    const parsed = agentReplySchema.safeParse(json);
    if (!parsed.success) {
      // Issue paths and codes only: the values could be what the engine meant to say to the caller.
      const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ');
      throw new AiEngineBadReplyError(`AI engine reply does not match the contract (${where})`, { status });
    }
    return parsed.data;
  }

  private classify(error: unknown): CallbridgeError {
    if (error instanceof CallbridgeError) return error;
    if (this.closed) {
      return new AiEngineUnavailableError('AI engine client closed', { cause: error, retryable: false });
    }
    const name = (error as { name?: string } | null)?.name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new AiEngineUnavailableError('AI engine did not answer in time', { cause: error });
    }
    return new AiEngineUnavailableError('AI engine unreachable', { cause: error });
  }
}
