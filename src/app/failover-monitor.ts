// Watches what callers depend on and keeps the system mode (src/core/system-mode.ts) up to date:
// - polls FreeSWITCH for the 3CX gateway (`api sofia xmlstatus gateway <threecx>`) every `pollIntervalMs`: its
//   status UP or DOWN (DOWN once FreeSWITCH's OPTIONS pings fail) is the `threecx_gateway` signal, and a
//   gateway FreeSWITCH does not know at all ("Invalid Gateway!") counts as failing, since every bridge through
//   it would fail too;
// - takes the other signals from whoever sees them (`report`): AI engine replies and errors, STT and TTS;
// - ticks the machine exactly at its next deadline, so a persistent failure switches the mode detectMs after
//   it was first seen, not at the next poll.
// A poll that gets no answer (no ESL connection, a timeout) records nothing: not knowing is not a failure.
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/ports.ts';
import type { SystemMode } from '../core/routing/types.ts';
import {
  initialSystemModeState,
  nextCheckAt,
  stepSystemMode,
  SYSTEM_MODE_DEFAULTS,
  type HealthSource,
  type ModeTransition,
  type SystemModeInput,
  type SystemModeOptions,
  type SystemModeState,
} from '../core/system-mode.ts';
import { gatewayStatusCommand, parseGatewayStatus, type GatewayStatusReply, type Timers } from '../esl/index.ts';

export type FailoverMonitorEvents = {
  modeChanged: [from: SystemMode, to: SystemMode, reason: string];
  /** Every reply to a gateway poll, parsed (for metrics and logs). */
  polled: [reply: GatewayStatusReply];
  /** A poll got no reply (no ESL connection, timeout); nothing was recorded. */
  pollFailed: [error: Error];
};

export interface FailoverMonitorOptions {
  /** `api <command>` on the inbound ESL connection; resolves with the reply body. */
  api: (command: string) => Promise<string>;
  gateways: { threecx: string };
  /** Default 2000 ms. */
  pollIntervalMs?: number;
  clock: Pick<Clock, 'now'>;
  timers?: Timers;
  /** Detection, recovery, dwell and history limits (SYSTEM_MODE_DEFAULTS otherwise). */
  machine?: Partial<SystemModeOptions>;
}

export const DEFAULT_POLL_INTERVAL_MS = 2_000;

const REAL_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class FailoverMonitor extends EventEmitter<FailoverMonitorEvents> {
  readonly #api: (command: string) => Promise<string>;
  readonly #command: string;
  readonly #gateway: string;
  readonly #pollIntervalMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #timers: Timers;
  readonly #options: SystemModeOptions;
  #state: SystemModeState;
  #started = false;
  #closing: Promise<void> | undefined;
  #pollTimer: unknown;
  #deadlineTimer: unknown;
  #inFlight: Promise<void> | undefined;

  constructor(options: FailoverMonitorOptions) {
    super();
    this.#api = options.api;
    this.#gateway = options.gateways.threecx;
    this.#command = gatewayStatusCommand(this.#gateway);
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#clock = options.clock;
    this.#timers = options.timers ?? REAL_TIMERS;
    this.#options = { ...SYSTEM_MODE_DEFAULTS, ...options.machine };
    this.#state = initialSystemModeState(this.#now());
  }

  /** Polls now and then every pollIntervalMs until close(). */
  start(): void {
    if (this.#started || this.#closing !== undefined) return;
    this.#started = true;
    this.#pollLoop();
  }

  mode(): SystemMode {
    return this.#state.mode;
  }

  /** Mode changes, oldest first (bounded). */
  history(): readonly ModeTransition[] {
    return this.#state.history;
  }

  /** Everything /ready shows: mode, what detection alone says, any override, each source's health. */
  state(): SystemModeState {
    return this.#state;
  }

  /** A health observation from outside (AI engine, STT, TTS; or a failed bridge through the 3CX gateway). */
  report(source: HealthSource, healthy: boolean, detail?: string): void {
    this.#apply({ type: 'signal', at: this.#now(), source, healthy, ...(detail === undefined ? {} : { detail }) });
  }

  /** Forces a mode (staff, `POST /v1/system/mode`), or hands it back to detection with null. */
  override(mode: SystemMode | null, by: string): void {
    this.#apply({ type: 'override', at: this.#now(), mode, by });
  }

  /** Stops polling and ticking; waits for a poll in flight. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#timers.clearTimeout(this.#pollTimer);
      this.#timers.clearTimeout(this.#deadlineTimer);
      await this.#inFlight;
    })();
    return this.#closing;
  }

  #now(): number {
    return this.#clock.now().getTime();
  }

  #pollLoop(): void {
    if (this.#closing !== undefined) return;
    // Fixed rate; a poll still waiting for its reply is not doubled up.
    this.#inFlight ??= this.#poll().finally(() => (this.#inFlight = undefined));
    this.#pollTimer = this.#timers.setTimeout(() => this.#pollLoop(), this.#pollIntervalMs);
  }

  async #poll(): Promise<void> {
    let text: string;
    try {
      text = await this.#api(this.#command);
    } catch (error) {
      if (this.#closing === undefined) this.emit('pollFailed', error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#closing !== undefined) return;
    const reply = parseGatewayStatus(text);
    this.emit('polled', reply);
    if (reply.kind === 'gateway') {
      const g = reply.gateway;
      this.report('threecx_gateway', g.status === 'UP', `gateway ${g.name}: state ${g.state}, status ${g.status}`);
    } else if (reply.kind === 'invalid_gateway') {
      this.report('threecx_gateway', false, `FreeSWITCH has no gateway "${this.#gateway}"`);
    }
  }

  #apply(input: SystemModeInput): void {
    if (this.#closing !== undefined) return;
    const { state, transition } = stepSystemMode(this.#state, input, this.#options);
    this.#state = state;
    this.#armDeadline();
    if (transition !== null) this.emit('modeChanged', transition.from, transition.to, transition.reason);
  }

  /** One timer at the machine's next deadline (detection, recovery or end of dwell). */
  #armDeadline(): void {
    this.#timers.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    const at = nextCheckAt(this.#state, this.#options);
    if (at === null) return;
    this.#deadlineTimer = this.#timers.setTimeout(
      () => this.#apply({ type: 'tick', at: Math.max(this.#now(), at) }),
      Math.max(0, at - this.#now()),
    );
  }
}
