// A call's life as system events (CALL_STARTED, CALL_STATE_CHANGED, VOICE_QUALITY, CALL_ENDED) for the
// dashboard's live stream and the webhooks. It reads what the call journal already records, so sessions need
// no extra code and the events come in the order the journal saw them. Everything published is PHI-free:
// ids, states, hangup causes, timings, location and direction; never a number, a transfer target (a dial
// string holds numbers) or a reason the AI phrased.
import type { CallEventRecord, CallRecord } from '../core/call.ts';
import type { EventSink } from '../core/notify-ports.ts';
import type { Clock } from '../core/ports.ts';
import type { VoiceQuality } from '../core/voice-quality.ts';

export interface CallEventsOptions {
  events: EventSink;
  clock: Clock;
  /** The live call's record (direction), while the call is registered. */
  call: (callId: string) => Pick<CallRecord, 'direction'> | undefined;
}

/** FreeSWITCH hangup causes and our own are upper-case words; anything else is not passed on. */
const CAUSE = /^[A-Z][A-Z0-9_]{0,63}$/;

export class CallEvents {
  readonly #o: CallEventsOptions;

  constructor(options: CallEventsOptions) {
    this.#o = options;
  }

  /** Every event a call's journal records (CallJournal's onAppend). */
  journaled(event: CallEventRecord): void {
    const { events } = this.#o;
    if (event.type === 'offered') {
      const route = isRecord(event.data.route) ? event.data.route : {};
      events.publish({
        type: 'CALL_STARTED',
        at: event.at,
        callId: event.callId,
        data: {
          direction: this.#o.call(event.callId)?.direction ?? null,
          location: stringOrNull(route.location),
          target: stringOrNull(route.target),
        },
      });
      return;
    }
    if (event.fromState === null || event.toState === null || event.fromState === event.toState) return;
    const cause = event.data.cause;
    events.publish({
      type: 'CALL_STATE_CHANGED',
      at: event.at,
      callId: event.callId,
      data: {
        from: event.fromState,
        to: event.toState,
        input: event.type,
        ...(typeof cause === 'string' && CAUSE.test(cause) ? { cause } : {}),
      },
    });
  }

  voiceQuality(callId: string, quality: VoiceQuality): void {
    this.#o.events.publish({ type: 'VOICE_QUALITY', at: this.#o.clock.now(), callId, data: { ...quality } });
  }

  /** The call is over and released; `outcome` is how it ended for us (completed, abandoned, failed). */
  ended(outcome: string, record: CallRecord): void {
    const endedAt = record.endedAt ?? this.#o.clock.now();
    this.#o.events.publish({
      type: 'CALL_ENDED',
      at: endedAt,
      callId: record.id,
      data: {
        outcome,
        hangupCause: record.hangupCause !== null && CAUSE.test(record.hangupCause) ? record.hangupCause : null,
        direction: record.direction,
        location: record.location,
        durationMs: Math.max(0, endedAt.getTime() - record.startedAt.getTime()),
        talkMs: record.answeredAt === null ? null : Math.max(0, endedAt.getTime() - record.answeredAt.getTime()),
        mos: record.voiceQuality?.mos ?? null,
        poorQuality: record.voiceQuality?.poor ?? null,
      },
    });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
