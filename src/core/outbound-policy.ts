// Whether and when an outbound AI call may be placed: never to a number on the do-not-call list, only inside
// the request's own window (not-before / not-after), only during calling hours on the patient's wall clock,
// and never faster than the rate limits allow. Pure: the dialer passes the clock, the list and the attempts.
//
// Constraints that only push the call later (not-before, rate limits, calling hours) are combined into the
// earliest instant that satisfies all of them; the rate limits depend only on past attempts, so once free
// they stay free, and calling hours are applied last. Wall-clock maths goes through localTime (Intl, IANA
// rules), so the first allowed minute is right on daylight-saving days too.
import { localTime } from './routing/local-time.ts';

export const OutboundPurposes = ['appointment_reminder', 'follow_up', 'results_ready', 'reschedule'] as const;
export type OutboundPurpose = (typeof OutboundPurposes)[number];

export interface OutboundCallRequest {
  /** E.164, as the do-not-call list stores it. */
  to: string;
  notBefore?: Date | null;
  notAfter?: Date | null;
}

/** Local wall-clock hours, `HH:MM` 24 h; calls may start at `start` up to (not including) `end`. */
export interface CallingHours {
  start: string;
  end: string;
}

export const DEFAULT_CALLING_HOURS: CallingHours = { start: '08:00', end: '20:00' };

/** A call we placed (or tried to), to any number. */
export interface OutboundAttempt {
  to: string;
  at: Date;
}

export interface OutboundLimits {
  /** Least time between two attempts to the same number. */
  perNumberIntervalMs: number;
  /** Most attempts in any 60 s, over all numbers. */
  maxPerMinute: number;
}

export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = { perNumberIntervalMs: 10 * 60_000, maxPerMinute: 10 };

export type ScheduleReason = 'not_before' | 'calling_hours' | 'number_rate_limit' | 'global_rate_limit';
export type RefuseReason = 'do_not_call' | 'expired' | 'no_time_in_window';

export type OutboundDecision =
  | { kind: 'place_now' }
  | { kind: 'schedule'; at: Date; reason: ScheduleReason }
  | { kind: 'refuse'; reason: RefuseReason };

export interface DecideOutboundInput {
  request: OutboundCallRequest;
  now: Date;
  /** IANA zone of the patient (or of the practice location when the patient's is unknown). */
  patientTimeZone: string;
  callingHours: CallingHours;
  doNotCall: ReadonlySet<string>;
  /** Recent attempts (the last 10 minutes or so suffice); older ones are ignored. */
  recentAttempts: readonly OutboundAttempt[];
  limits: OutboundLimits;
}

const MINUTE_MS = 60_000;

export function decideOutbound(input: DecideOutboundInput): OutboundDecision {
  const { request, now, limits } = input;
  if (input.doNotCall.has(request.to)) return { kind: 'refuse', reason: 'do_not_call' };
  if (request.notAfter != null && request.notAfter.getTime() < now.getTime()) return { kind: 'refuse', reason: 'expired' };

  // The earliest instant satisfying the constraints that only delay, and which one delayed it most.
  let earliest = now.getTime();
  let reason: ScheduleReason | undefined;
  const later = (at: number, why: ScheduleReason) => {
    if (at > earliest) {
      earliest = at;
      reason = why;
    }
  };
  if (request.notBefore != null) later(request.notBefore.getTime(), 'not_before');
  const sameNumber = input.recentAttempts.filter((a) => a.to === request.to).map((a) => a.at.getTime());
  if (sameNumber.length > 0) later(Math.max(...sameNumber) + limits.perNumberIntervalMs, 'number_rate_limit');
  later(globalFreeAt(input.recentAttempts, now.getTime(), limits.maxPerMinute), 'global_rate_limit');

  const allowed = nextAllowedInstant(new Date(earliest), input.patientTimeZone, input.callingHours);
  if (allowed.getTime() > earliest) {
    earliest = allowed.getTime();
    reason = 'calling_hours';
  }
  if (request.notAfter != null && earliest > request.notAfter.getTime()) return { kind: 'refuse', reason: 'no_time_in_window' };
  if (reason === undefined) return { kind: 'place_now' };
  return { kind: 'schedule', at: new Date(earliest), reason };
}

/** When the last minute holds fewer than `max` attempts again (now, if it already does). */
function globalFreeAt(attempts: readonly OutboundAttempt[], now: number, max: number): number {
  const inWindow = attempts
    .map((a) => a.at.getTime())
    .filter((t) => t > now - MINUTE_MS && t <= now)
    .sort((a, b) => a - b);
  if (inWindow.length < max) return now;
  // The oldest attempt that must leave the window for the count to drop below max.
  return (inWindow[inWindow.length - max] as number) + MINUTE_MS;
}

function hhmmMinutes(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (m === null) throw new RangeError(`calling hours must be HH:MM, got ${hhmm}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** `at` itself when it falls inside calling hours at `timeZone`, else the first minute of the next window. */
export function nextAllowedInstant(at: Date, timeZone: string, hours: CallingHours): Date {
  const start = hhmmMinutes(hours.start);
  const end = hhmmMinutes(hours.end);
  if (end <= start) throw new RangeError('calling hours must end after they start');
  const local = localTime(at, timeZone);
  if (local.minutes >= start && local.minutes < end) return at;
  const date = local.minutes < start ? local.date : addDays(local.date, 1);
  return zonedInstant(date, start, timeZone);
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The wall clock at `timeZone`, read as if it were UTC, minus the instant: the zone's offset then. */
function offsetMs(at: number, timeZone: string): number {
  const local = localTime(new Date(at), timeZone);
  const [y, m, d] = local.date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d) + local.minutes * MINUTE_MS;
  return wall - Math.floor(at / MINUTE_MS) * MINUTE_MS;
}

/**
 * The instant when the wall clock at `timeZone` shows `minutes` past midnight on `date`. The offset is read
 * at a first guess and again at the result, which settles it across a daylight-saving change.
 */
function zonedInstant(date: string, minutes: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d) + minutes * MINUTE_MS;
  let at = wall - offsetMs(wall, timeZone);
  const settled = wall - offsetMs(at, timeZone);
  if (settled !== at) at = settled;
  return new Date(at);
}
