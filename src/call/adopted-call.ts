// A call found on FreeSWITCH during a resync that no session in this process handles (it began while the
// inbound connection was down, or before a controller restart). We cannot drive it (its outbound socket is
// gone or belongs to no one) but we keep it visible: it has a call row, it counts as active, and it is
// ended with FreeSWITCH's hangup cause when the inbound connection reports CHANNEL_HANGUP_COMPLETE.
import type { Logger } from 'pino';
import type { CallRecord, CallState } from '../core/call.ts';
import type { Clock } from '../core/ports.ts';
import type { CallJournal } from './journal.ts';
import type { RegisteredCall } from './registry.ts';

export interface AdoptedCallOptions {
  /** The call's row as known at adoption; kept up to date here (its end is announced from it). */
  record: CallRecord;
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
  readonly record: CallRecord;
  #seq: number;
  #ended = false;

  constructor(options: AdoptedCallOptions) {
    this.record = { ...options.record };
    this.callId = this.record.id;
    this.fsUuid = this.record.fsUuid;
    this.#options = options;
    this.#seq = options.nextSeq - 1;
  }

  get ended(): boolean {
    return this.#ended;
  }


  /**
   * Records the adoption itself as the call's next event; `observed.state` is where FreeSWITCH says the call
   * is now, when that differs from its row (the row is updated).
   */
  adopted(how: 'adopted' | 'reattached', observed: { state?: CallState; data?: Record<string, unknown> } = {}): void {
    const from = this.record.state;
    const to = observed.state ?? from;
    this.#event(how, from, to, observed.data ?? {});
    if (to === from) return;
    this.record.state = to;
    this.#options.journal.update(this.callId, { state: to });
  }

  /** FreeSWITCH reported the channel gone. */
  hungUp(cause: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const endedAt = this.#options.clock.now();
    this.record.endedAt = endedAt;
    this.record.hangupCause = cause;
    this.#event('hung_up', this.record.state, 'ended', { cause });
    this.record.state = 'ended';
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
