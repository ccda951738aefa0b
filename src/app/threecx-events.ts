// Call events 3CX reports (through POST /v1/webhooks/3cx), matched to our calls. 3CX and FreeSWITCH see the
// same SIP dialog on the trunk, so the SIP Call-ID is the sure match; 3CX's tools do not always send it, so
// the parties' numbers within a minute of our call's start are the fallback (closest start wins); otherwise
// the event is kept uncorrelated. Stored once per event id (a replay is a no-op, across restarts too) and
// published as THREECX_CALL_EVENT for the dashboard, without numbers: what is kept of them is the last four.
import type { EventSink } from '../core/notify-ports.ts';
import type { Clock } from '../core/ports.ts';
import { maskNumber, normalizeNumber } from '../core/routing/phone.ts';
import type { CandidateCall, NewExternalCallEvent } from '../db/external-event-store.ts';
import type { ThreecxCallEvent, ThreecxReceipt } from '../http/threecx-webhook.ts';

export type Correlation = 'sip_call_id' | 'number_time' | 'none';

export interface ThreecxEventsOptions {
  store: {
    insert(event: NewExternalCallEvent): Promise<boolean>;
    callsStartedBetween(from: Date, to: Date): Promise<CandidateCall[]>;
  };
  /** Calls this controller has live now (their rows may still be on the way to the database). */
  liveCalls: () => Iterable<CandidateCall>;
  events: EventSink;
  clock: Clock;
  /** How far from our call's start a number match may be (default 60 s). */
  windowMs?: number;
  /** SIP Call-IDs remembered for calls that already ended (3CX reports the end after us); default 10 000. */
  rememberCalls?: number;
}

const SOURCE = '3cx';
const DEFAULT_WINDOW_MS = 60_000;
const DEFAULT_REMEMBER = 10_000;

export class ThreecxEvents {
  readonly #o: ThreecxEventsOptions;
  /** SIP Call-ID → our call id, oldest first (a Map keeps insertion order): bounded, the oldest go first. */
  readonly #bySipCallId = new Map<string, string>();

  constructor(options: ThreecxEventsOptions) {
    this.#o = options;
  }

  /** A call arrived on FreeSWITCH with this SIP Call-ID (`variable_sip_call_id`). */
  noteCall(callId: string, sipCallId: string | undefined): void {
    if (sipCallId === undefined || sipCallId === '') return;
    this.#bySipCallId.set(sipCallId, callId);
    if (this.#bySipCallId.size > (this.#o.rememberCalls ?? DEFAULT_REMEMBER)) {
      const oldest = this.#bySipCallId.keys().next().value;
      if (oldest !== undefined) this.#bySipCallId.delete(oldest);
    }
  }

  async receive(event: ThreecxCallEvent): Promise<ThreecxReceipt> {
    const { callId, correlation } = await this.#correlate(event);
    const stored = await this.#o.store.insert({
      source: SOURCE,
      eventId: event.eventId,
      eventType: event.type,
      occurredAt: event.occurredAt,
      callId,
      correlation,
      data: {
        ...(event.sipCallId === undefined ? {} : { sipCallId: event.sipCallId }),
        ...(event.from === undefined ? {} : { from: maskNumber(event.from) }),
        ...(event.to === undefined ? {} : { to: maskNumber(event.to) }),
        ...(event.extension === undefined ? {} : { extension: event.extension }),
      },
    });
    if (!stored) return { duplicate: true };
    this.#o.events.publish({
      type: 'THREECX_CALL_EVENT',
      at: this.#o.clock.now(),
      ...(callId === null ? {} : { callId }),
      data: { eventId: event.eventId, event: event.type, occurredAt: event.occurredAt.toISOString(), correlation, extension: event.extension ?? null },
    });
    return { duplicate: false, callId, correlation };
  }

  async #correlate(event: ThreecxCallEvent): Promise<{ callId: string | null; correlation: Correlation }> {
    const bySip = event.sipCallId === undefined ? undefined : this.#bySipCallId.get(event.sipCallId);
    if (bySip !== undefined) return { callId: bySip, correlation: 'sip_call_id' };
    const from = event.from === undefined ? '' : normalizeNumber(event.from);
    const to = event.to === undefined ? '' : normalizeNumber(event.to);
    if (from === '' && to === '') return { callId: null, correlation: 'none' };
    const at = event.occurredAt.getTime();
    const windowMs = this.#o.windowMs ?? DEFAULT_WINDOW_MS;
    const stored = await this.#o.store.callsStartedBetween(new Date(at - windowMs), new Date(at + windowMs));
    let best: CandidateCall | undefined;
    for (const call of [...this.#o.liveCalls(), ...stored]) {
      const distance = Math.abs(call.startedAt.getTime() - at);
      if (distance > windowMs) continue;
      if (from !== '' && normalizeNumber(call.fromNumber) !== from) continue;
      if (to !== '' && normalizeNumber(call.toNumber) !== to) continue;
      if (best === undefined || distance < Math.abs(best.startedAt.getTime() - at)) best = call;
    }
    return best === undefined ? { callId: null, correlation: 'none' } : { callId: best.id, correlation: 'number_time' };
  }
}
