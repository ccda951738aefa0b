// A call found on FreeSWITCH during a resync that no session in this process handles (it began while the
// inbound connection was down, or before a controller restart). We cannot drive it (its outbound socket is
// gone or belongs to no one) but we keep it visible: it has a call row, it counts as active, and it is
// ended with FreeSWITCH's hangup cause when the inbound connection reports CHANNEL_HANGUP_COMPLETE.
import type { Logger } from 'pino';
import type { CallState } from '../core/call.ts';
import type { Clock } from '../core/ports.ts';
import type { CallJournal } from './call-journal.ts';
import type { RegisteredCall } from './call-registry.ts';

export interface AdoptedCallOptions {
  callId: string;
  fsUuid: string;
  state: CallState;
  journal: CallJournal;
  clock: Clock;
  logger: Logger;
  /** The next event sequence number for this call (1 for a new call row). */
  nextSeq: number;
  onEnded?: (call: AdoptedCall) => void;
}

export class AdoptedCall implements RegisteredCall {
  readonly callId: string;
  readonly fsUuid: string;
  readonly #options: AdoptedCallOptions;
  #seq: number;
  #ended = false;
  #hangupCause: string | null = null;
  #endedAt: Date | null = null;

  constructor(options: AdoptedCallOptions) {
    this.callId = options.callId;
    this.fsUuid = options.fsUuid;
    this.#options = options;
    this.#seq = options.nextSeq - 1;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** FreeSWITCH's hangup cause and when it came, once the call has ended. */
  get hangup(): { cause: string; at: Date } | null {
    return this.#hangupCause === null || this.#endedAt === null ? null : { cause: this.#hangupCause, at: this.#endedAt };
  }

  /** Records the adoption itself as the call's next event. */
  adopted(how: 'adopted' | 'reattached'): void {
    this.#event(how, this.#options.state, this.#options.state, {});
  }

  /** FreeSWITCH reported the channel gone. */
  hungUp(cause: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const endedAt = this.#options.clock.now();
    this.#hangupCause = cause;
    this.#endedAt = endedAt;
    this.#event('hung_up', this.#options.state, 'ended', { cause });
    this.#options.journal.update(this.callId, { state: 'ended', endedAt, hangupCause: cause });
    this.#options.logger.info({ callId: this.callId, cause }, 'adopted call ended');
    this.#options.onEnded?.(this);
  }

  async close(): Promise<void> {
    // Nothing to release: the channel is FreeSWITCH's and the inbound connection is shared.
    await this.#options.journal.flush();
  }

  #event(type: string, fromState: CallState, toState: CallState, data: Record<string, unknown>): void {
    this.#options.journal.append({
      callId: this.callId,
      seq: ++this.#seq,
      type,
      fromState,
      toState,
      at: this.#options.clock.now(),
      monotonicMs: this.#options.clock.monotonicMs(),
      data,
    });
  }
}
