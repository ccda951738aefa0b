// What the call session talks to: the external engine when it is healthy, the built-in agent when it is not.
// Every call gets a reply within `deadlineMs`: a holding phrase when the engine misses a turn, the built-in
// agent after `failuresBeforeFallback` misses in a call (or at once while the breaker is open), and a
// transfer to a person if even the built-in agent fails. A call that moved to the built-in agent stays there;
// new calls return to the engine once the breaker has recovered.
import type {
  AgentReply,
  ConversationEngine,
  ConversationStart,
  ConversationTurn,
} from '../core/voice-ports.ts';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';
import { silentLogger, type AgentLogger } from './logger.ts';

export interface ResilientConversationEngineOptions {
  primary: ConversationEngine;
  /** The built-in agent (ScriptedAgent); it is started for every call so it can take over mid-call. */
  fallback: ConversationEngine;
  /** Longest a start or turn may take before the caller hears something (default 3000 ms). */
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
    let call = this.calls.get(callId);
    if (call === undefined) {
      call = { language: '', mode: 'fallback', failures: 0, primaryStarted: false };
      this.calls.set(callId, call);
    }
    if (call.mode === 'primary') {
      if (!this.breaker.allows()) return this.takeOver(callId, call, turn, 'breaker open');
      const remote = await this.guard(() => this.primary.turn(callId, turn));
      if (remote.ok) {
        this.breaker.success();
        call.failures = 0;
        return remote.value;
      }
      this.breaker.failure();
      call.failures++;
      this.logFailure(callId, 'turn', remote.error);
      // A partial transcript needs no answer: the caller is still speaking, the final turn will follow.
      if (turn.partial) return { say: '', actions: [] };
      if (call.failures < this.failuresBeforeFallback && this.breaker.state === 'closed') {
        return { say: this.holdingPhrase(call.language), actions: [] };
      }
      return this.takeOver(callId, call, turn, 'engine failed');
    }
    return this.fromFallback(callId, turn);
  }

  async end(callId: string, reason: string): Promise<void> {
    const call = this.calls.get(callId);
    this.calls.delete(callId);
    const endings = [this.guard(() => this.fallback.end(callId, reason))];
    if (call?.primaryStarted === true) endings.push(this.guard(() => this.primary.end(callId, reason)));
    const results = await Promise.all(endings);
    for (const result of results) if (!result.ok) this.logFailure(callId, 'end', result.error);
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
