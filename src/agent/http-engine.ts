// HTTP client of the external AI engine (docs/ai-engine-contract.md). Each request has its own timeout and
// the whole operation a budget: a slow engine costs the caller at most `budgetMs`, then the resilient
// engine speaks for us. Retries reuse the request's Idempotency-Key, so a turn the engine already handled
// (its answer was merely late) is answered from the engine's record instead of being processed twice.
import { setTimeout as sleep } from 'node:timers/promises';
import { AiEngineBadReplyError, AiEngineUnavailableError, CallbridgeError } from '../core/errors.ts';
import type {
  AgentReply,
  ConversationEngine,
  ConversationStart,
  ConversationTurn,
} from '../core/voice-ports.ts';
import { agentReplySchema, CONTRACT_VERSION } from './contract.ts';
import { silentLogger, type AgentLogger } from './logger.ts';

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
  start?: Partial<RequestLimits>;
  turn?: Partial<RequestLimits>;
  end?: Partial<RequestLimits>;
  /** First backoff between attempts; doubles each retry (capped at 4×). */
  backoffMs?: number;
  /** Reply bodies larger than this are malformed (a reply is a sentence and a few actions). */
  maxReplyBytes?: number;
  logger?: AgentLogger;
}

/** Least budget left for a retry to be worth sending. */
const MIN_RETRY_MS = 50;

const DEFAULTS = {
  start: { attemptTimeoutMs: 2000, budgetMs: 3000 },
  turn: { attemptTimeoutMs: 1500, budgetMs: 2500 },
  end: { attemptTimeoutMs: 1000, budgetMs: 2000 },
  backoffMs: 100,
  maxReplyBytes: 64 * 1024,
} as const;

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
        path: `/${CONTRACT_VERSION}/conversations`,
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

  async turn(callId: string, turn: ConversationTurn): Promise<AgentReply> {
    const seq = (this.turnCounts.get(callId) ?? 0) + 1;
    this.turnCounts.set(callId, seq);
    const reply = await this.request({
      op: 'turn',
      callId,
      path: `/${CONTRACT_VERSION}/conversations/${encodeURIComponent(callId)}/turns`,
      body: turn,
      idempotencyKey: `${callId}:turn:${seq}`,
      expectsReply: true,
    });
    return reply as AgentReply;
  }

  async end(callId: string, reason: string): Promise<void> {
    this.turnCounts.delete(callId);
    await this.request({
      op: 'end',
      callId,
      path: `/${CONTRACT_VERSION}/conversations/${encodeURIComponent(callId)}/end`,
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

  private async request(attempt: Attempt): Promise<AgentReply | undefined> {
    if (this.closed) throw new AiEngineUnavailableError('AI engine client closed');
    const operation = new AbortController();
    this.inFlight.add(operation);
    try {
      return await this.attempts(attempt, operation.signal);
    } finally {
      this.inFlight.delete(operation);
    }
  }

  private async attempts(attempt: Attempt, cancelled: AbortSignal): Promise<AgentReply | undefined> {
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
        const reply = await this.once(attempt, signal);
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

  private async once(attempt: Attempt, signal: AbortSignal): Promise<AgentReply | undefined> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': attempt.idempotencyKey,
    };
    if (this.token !== '') headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(`${this.baseUrl}${attempt.path}`, {
      method: 'POST',
      headers,
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
    if (status >= 500 || status === 429 || status === 408) {
      throw new AiEngineUnavailableError(`AI engine answered HTTP ${status}`, { status });
    }
    if (status < 200 || status >= 300) {
      throw new AiEngineBadReplyError(`AI engine refused the request with HTTP ${status}`, { status });
    }
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
