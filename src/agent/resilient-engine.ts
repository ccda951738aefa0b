// What the call session talks to: the external engine when it is healthy, the built-in agent when it is not.
// Every call gets a reply within `deadlineMs`: a holding phrase when the engine misses a turn, the built-in
// agent after `failuresBeforeFallback` misses in a call (or at once while the breaker is open), and a
// transfer to a person if even the built-in agent fails. A call that moved to the built-in agent stays there;
// new calls return to the engine once the breaker has recovered.
// Streamed turns (contract v2) follow the same rules at their first chunk; a stream that fails after it
// keeps what was said and ends like a failed turn: the holding phrase, or the built-in agent's reply.
import { AiEngineUnavailableError } from '../core/errors.ts';
import type {
  AgentAction,
  AgentReply,
  AgentReplyChunk,
  ConversationEngine,
  ConversationStart,
  ConversationTurn,
} from '../core/voice-ports.ts';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';
import { silentLogger, type AgentLogger } from './logger.ts';
import { replyChunks } from './reply-stream.ts';

export interface ResilientConversationEngineOptions {
  primary: ConversationEngine;
  /** The built-in agent (ScriptedAgent); it is started for every call so it can take over mid-call. */
  fallback: ConversationEngine;
  /**
   * Longest a start or turn may take before the caller hears something (default 3000 ms); for a streamed
   * turn, the longest wait for its first chunk and, as a backstop, for each chunk after it.
   */
  deadlineMs?: number;
  /** Failed primary turns in one call before that call moves to the built-in agent (default 2). */
  failuresBeforeFallback?: number;
  /** Primary failures in a row (across calls) that open the breaker (default 3). */
  breakerThreshold?: number;
  /** How long the breaker stays open before one new call probes the engine again (default 30 s). */
  recoveryMs?: number;
  /** What the caller hears while the engine is late, per BCP 47 language tag. */
  holdingPhrase?: (language: string) => string;
  /** Where the caller goes when no engine can answer at all. */
  operatorTarget?: string;
  /** Monotonic milliseconds, for the breaker's recovery. */
  now?: () => number;
  logger?: AgentLogger;
}

type Mode = 'primary' | 'fallback';

interface CallState {
  language: string;
  mode: Mode;
  failures: number;
  primaryStarted: boolean;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

const TIMED_OUT = Symbol('deadline');

export class ResilientConversationEngine implements ConversationEngine {
  private readonly primary: ConversationEngine;
  private readonly fallback: ConversationEngine;
  private readonly deadlineMs: number;
  private readonly failuresBeforeFallback: number;
  private readonly holdingPhrase: (language: string) => string;
  private readonly operatorTarget: string;
  private readonly logger: AgentLogger;
  private readonly breaker: CircuitBreaker;
  private readonly calls = new Map<string, CallState>();

  constructor(options: ResilientConversationEngineOptions) {
    this.primary = options.primary;
    this.fallback = options.fallback;
    this.deadlineMs = options.deadlineMs ?? 3000;
    this.failuresBeforeFallback = options.failuresBeforeFallback ?? 2;
    this.holdingPhrase = options.holdingPhrase ?? ((language) => (language.startsWith('es') ? 'Un momento, por favor.' : 'One moment please.'));
    this.operatorTarget = options.operatorTarget ?? 'operator';
    this.logger = options.logger ?? silentLogger;
    this.breaker = new CircuitBreaker({
      failureThreshold: options.breakerThreshold ?? 3,
      recoveryMs: options.recoveryMs ?? 30_000,
      now: options.now ?? (() => performance.now()),
    });
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** Which engine serves a call now (undefined when the call is unknown). */
  modeOf(callId: string): Mode | undefined {
    return this.calls.get(callId)?.mode;
  }

  async start(start: ConversationStart): Promise<AgentReply> {
    const call: CallState = { language: start.language, mode: 'fallback', failures: 0, primaryStarted: false };
    this.calls.set(start.callId, call);
    const local = await this.guard(() => this.fallback.start(start));
    if (this.breaker.allows()) {
      const remote = await this.guard(() => this.primary.start(start));
      if (remote.ok) {
        this.breaker.success();
        call.mode = 'primary';
        call.primaryStarted = true;
        return remote.value;
      }
      this.breaker.failure();
      this.logFailure(start.callId, 'start', remote.error);
    }
    this.logger.info({ callId: start.callId, breaker: this.breaker.state }, 'Built-in agent serves this call');
    return local.ok ? local.value : this.toPerson('the built-in agent failed at start');
  }

  async turn(callId: string, turn: ConversationTurn): Promise<AgentReply> {
    const call = this.callOf(callId);
    if (call.mode === 'primary') {
      if (!this.breaker.allows()) return this.takeOver(callId, call, turn, 'breaker open');
      const remote = await this.guard(() => this.primary.turn(callId, turn));
      if (remote.ok) {
        this.breaker.success();
        call.failures = 0;
        return remote.value;
      }
      const next = this.failed(callId, call, turn, 'turn', remote.error);
      if (next === 'silence') return { say: '', actions: [] };
      if (next === 'holding') return { say: this.holdingPhrase(call.language), actions: [] };
      return this.takeOver(callId, call, turn, 'engine failed');
    }
    return this.fromFallback(callId, turn);
  }

  /**
   * The turn's reply as a stream that always ends with done and never throws. Sentences of the engine pass
   * on as they arrive; its actions are held back until its done (a stream cut before done runs none). When
   * the engine's stream fails, after the sentences already passed on come the holding phrase (the call has
   * misses left) or the built-in agent's reply to the same words (it takes the call over), then done.
   */
  async *turnStream(callId: string, turn: ConversationTurn): AsyncGenerator<AgentReplyChunk> {
    const call = this.callOf(callId);
    if (call.mode === 'primary') {
      if (!this.breaker.allows()) {
        yield* this.fallbackStream(callId, call, turn, 'breaker open');
        return;
      }
      const outcome = yield* this.primaryStream(callId, call, turn);
      if (outcome.ok) return;
      const next = this.failed(callId, call, turn, outcome.said ? 'turn-stream' : 'turn', outcome.error);
      if (next === 'holding') yield { type: 'sentence', text: this.holdingPhrase(call.language) };
      if (next !== 'take_over') {
        yield { type: 'done' };
        return;
      }
      yield* this.fallbackStream(callId, call, turn, 'engine failed');
      return;
    }
    yield* this.chunksFromFallback(callId, turn);
  }

  async end(callId: string, reason: string): Promise<void> {
    const call = this.calls.get(callId);
    this.calls.delete(callId);
    const endings = [this.guard(() => this.fallback.end(callId, reason))];
    if (call?.primaryStarted === true) endings.push(this.guard(() => this.primary.end(callId, reason)));
    const results = await Promise.all(endings);
    for (const result of results) if (!result.ok) this.logFailure(callId, 'end', result.error);
  }

  private callOf(callId: string): CallState {
    let call = this.calls.get(callId);
    if (call === undefined) {
      call = { language: '', mode: 'fallback', failures: 0, primaryStarted: false };
      this.calls.set(callId, call);
    }
    return call;
  }

  /** Counts a failed primary turn and says what the caller hears next. */
  private failed(callId: string, call: CallState, turn: ConversationTurn, op: string, error: unknown): 'silence' | 'holding' | 'take_over' {
    this.breaker.failure();
    call.failures++;
    this.logFailure(callId, op, error);
    // A partial transcript needs no answer: the caller is still speaking, the final turn will follow.
    if (turn.partial) return 'silence';
    if (call.failures < this.failuresBeforeFallback && this.breaker.state === 'closed') return 'holding';
    return 'take_over';
  }

  /**
   * The engine's stream, its sentences passed on, its actions and done only once done has come. Every wait
   * is under the deadline. A completed stream is a success; so is one our reader leaves after the engine
   * had started answering (the caller spoke over it), which must not leave a half-open breaker's probe
   * unsettled. Failures are the caller's to count: it decides what is said next.
   */
  private async *primaryStream(
    callId: string,
    call: CallState,
    turn: ConversationTurn,
  ): AsyncGenerator<AgentReplyChunk, { ok: true } | { ok: false; error: unknown; said: boolean }> {
    const source = this.primary.turnStream?.(callId, turn) ?? this.wholeReply(() => this.primary.turn(callId, turn));
    const chunks = source[Symbol.asyncIterator]();
    let said = false;
    let settled = false;
    const succeeded = (): void => {
      settled = true;
      this.breaker.success();
      call.failures = 0;
    };
    const actions: AgentAction[] = [];
    try {
      for (;;) {
        const step = await this.guard(() => chunks.next());
        if (!step.ok || step.value.done === true) {
          settled = true;
          const error = step.ok ? new AiEngineUnavailableError('AI engine stream ended before done') : step.error;
          return { ok: false, error, said };
        }
        const chunk = step.value.value;
        if (chunk.type === 'sentence') {
          said = true;
          yield chunk;
        } else if (chunk.type === 'actions') {
          actions.push(...chunk.actions);
        } else {
          succeeded();
          if (actions.length > 0) yield { type: 'actions', actions };
          yield chunk;
          return { ok: true };
        }
      }
    } finally {
      if (!settled) succeeded();
      // Ends the engine's request when we stop early: a failure, a missed deadline, or our reader leaving
      // (the caller spoke over the reply). Not awaited: a stream still waiting on the engine ends on its own.
      chunks.return?.().catch(() => undefined);
    }
  }

  /** The call moves to the built-in agent, whose reply to the same words follows. */
  private async *fallbackStream(callId: string, call: CallState, turn: ConversationTurn, why: string): AsyncGenerator<AgentReplyChunk> {
    call.mode = 'fallback';
    this.logger.warn({ callId, why, breaker: this.breaker.state }, 'Built-in agent takes over the call');
    yield* this.chunksFromFallback(callId, turn);
  }

  /** The built-in agent answers at once, so its whole stream is taken under the deadline, then passed on. */
  private async *chunksFromFallback(callId: string, turn: ConversationTurn): AsyncGenerator<AgentReplyChunk> {
    const local = await this.guard(async () => {
      const chunks: AgentReplyChunk[] = [];
      const source = this.fallback.turnStream?.(callId, turn) ?? this.wholeReply(() => this.fallback.turn(callId, turn));
      for await (const chunk of source) chunks.push(chunk);
      if (chunks.at(-1)?.type !== 'done') throw new Error('the built-in agent ended its reply without done');
      return chunks;
    });
    if (local.ok) {
      yield* local.value;
      return;
    }
    this.logFailure(callId, 'fallback-turn', local.error);
    yield* replyChunks(this.toPerson('the built-in agent failed'));
  }

  private async *wholeReply(reply: () => Promise<AgentReply>): AsyncGenerator<AgentReplyChunk> {
    yield* replyChunks(await reply());
  }

  private async takeOver(callId: string, call: CallState, turn: ConversationTurn, why: string): Promise<AgentReply> {
    call.mode = 'fallback';
    this.logger.warn({ callId, why, breaker: this.breaker.state }, 'Built-in agent takes over the call');
    // The caller's words of this turn go to the built-in agent, so they need not repeat themselves.
    return this.fromFallback(callId, turn);
  }

  private async fromFallback(callId: string, turn: ConversationTurn): Promise<AgentReply> {
    const local = await this.guard(() => this.fallback.turn(callId, turn));
    if (local.ok) return local.value;
    this.logFailure(callId, 'fallback-turn', local.error);
    return this.toPerson('the built-in agent failed');
  }

  private toPerson(reason: string): AgentReply {
    return {
      say: '',
      actions: [{ type: 'transfer', target: this.operatorTarget, reason, summary: 'The automated assistant could not continue.' }],
    };
  }

  /** Runs an engine call against the deadline; a late result is dropped (and its rejection swallowed). */
  private async guard<T>(run: () => Promise<T>): Promise<Outcome<T>> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.deadlineMs);
    });
    const work = (async () => run())();
    try {
      const value = await Promise.race([work, deadline]);
      if (value === TIMED_OUT) {
        work.catch(() => undefined);
        return { ok: false, error: new Error(`no answer within ${this.deadlineMs} ms`) };
      }
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error };
    } finally {
      clearTimeout(timer);
    }
  }

  private logFailure(callId: string, op: string, error: unknown): void {
    const code = (error as { code?: string } | null)?.code ?? 'DEADLINE';
    this.logger.warn({ callId, op, code, breaker: this.breaker.state }, 'AI engine failed');
  }
}
