// The outbound call policy: do-not-call, the request's window, calling hours on the patient's wall clock
// (including both daylight-saving days in New York), and the per-number and global rate limits.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CALLING_HOURS,
  decideOutbound,
  type DecideOutboundInput,
  type OutboundAttempt,
} from '../../../src/core/outbound-policy.ts';

const TO = '+15551230001';
const NY = 'America/New_York';

function decide(now: string, overrides: Partial<DecideOutboundInput> = {}) {
  return decideOutbound({
    request: { to: TO },
    now: new Date(now),
    patientTimeZone: NY,
    callingHours: DEFAULT_CALLING_HOURS,
    doNotCall: new Set(),
    recentAttempts: [],
    limits: { perNumberIntervalMs: 10 * 60_000, maxPerMinute: 3 },
    ...overrides,
  });
}

const at = (iso: string) => new Date(iso);

describe('decideOutbound', () => {
  it('places a call at once inside calling hours with nothing in the way', () => {
    // 10:00 EDT
    expect(decide('2026-06-02T14:00:00Z')).toEqual({ kind: 'place_now' });
  });

  it('refuses a number on the do-not-call list, even inside hours', () => {
    expect(decide('2026-06-02T14:00:00Z', { doNotCall: new Set([TO]) })).toEqual({ kind: 'refuse', reason: 'do_not_call' });
  });

  it('refuses a request whose not-after has passed', () => {
    expect(decide('2026-06-02T14:00:00Z', { request: { to: TO, notAfter: at('2026-06-02T13:00:00Z') } })).toEqual({
      kind: 'refuse',
      reason: 'expired',
    });
  });

  it('waits for not-before', () => {
    expect(decide('2026-06-02T14:00:00Z', { request: { to: TO, notBefore: at('2026-06-02T15:30:00Z') } })).toEqual({
      kind: 'schedule',
      at: at('2026-06-02T15:30:00Z'),
      reason: 'not_before',
    });
  });

  it('calls at 19:59 local but moves 20:00 to 08:00 the next morning', () => {
    expect(decide('2026-06-02T23:59:00Z')).toEqual({ kind: 'place_now' });
    expect(decide('2026-06-03T00:00:00Z')).toEqual({ kind: 'schedule', at: at('2026-06-03T12:00:00Z'), reason: 'calling_hours' });
  });

  it('moves an early-morning request to 08:00 the same local day', () => {
    // 06:15 EDT
    expect(decide('2026-06-02T10:15:00Z')).toEqual({ kind: 'schedule', at: at('2026-06-02T12:00:00Z'), reason: 'calling_hours' });
  });

  it('uses the patient’s time zone, not the server’s', () => {
    // 14:00 UTC is 07:00 in Los Angeles: wait until 08:00 PDT.
    expect(decide('2026-06-02T14:00:00Z', { patientTimeZone: 'America/Los_Angeles' })).toEqual({
      kind: 'schedule',
      at: at('2026-06-02T15:00:00Z'),
      reason: 'calling_hours',
    });
  });

  it('spring forward: a request on the evening before is due at 08:00 EDT, one hour earlier in UTC', () => {
    // Sat 7 Mar 2026 21:00 EST; clocks go 02:00 → 03:00 on Sun 8 Mar, so 08:00 is 12:00Z (not 13:00Z).
    expect(decide('2026-03-08T02:00:00Z')).toEqual({ kind: 'schedule', at: at('2026-03-08T12:00:00Z'), reason: 'calling_hours' });
    // In the small hours of the change day itself (01:30 EST).
    expect(decide('2026-03-08T06:30:00Z')).toEqual({ kind: 'schedule', at: at('2026-03-08T12:00:00Z'), reason: 'calling_hours' });
  });

  it('fall back: a request on the evening before is due at 08:00 EST', () => {
    // Sat 31 Oct 2026 21:00 EDT; clocks go 02:00 → 01:00 on Sun 1 Nov, so 08:00 is 13:00Z.
    expect(decide('2026-11-01T01:00:00Z')).toEqual({ kind: 'schedule', at: at('2026-11-01T13:00:00Z'), reason: 'calling_hours' });
    // 01:30 EDT and 01:30 EST (the repeated hour) both wait for the same 08:00.
    expect(decide('2026-11-01T05:30:00Z')).toEqual({ kind: 'schedule', at: at('2026-11-01T13:00:00Z'), reason: 'calling_hours' });
    expect(decide('2026-11-01T06:30:00Z')).toEqual({ kind: 'schedule', at: at('2026-11-01T13:00:00Z'), reason: 'calling_hours' });
  });

  it('refuses when the next allowed minute is past not-after', () => {
    // 21:00 EDT, window closes at 23:00 EDT: no calling hours left in it.
    expect(decide('2026-06-03T01:00:00Z', { request: { to: TO, notAfter: at('2026-06-03T03:00:00Z') } })).toEqual({
      kind: 'refuse',
      reason: 'no_time_in_window',
    });
  });

  it('a not-before in the night becomes the next morning', () => {
    expect(decide('2026-06-02T14:00:00Z', { request: { to: TO, notBefore: at('2026-06-03T02:00:00Z') } })).toEqual({
      kind: 'schedule',
      at: at('2026-06-03T12:00:00Z'),
      reason: 'calling_hours',
    });
  });

  it('leaves 10 minutes between attempts to the same number, other numbers unaffected', () => {
    const recentAttempts: OutboundAttempt[] = [{ to: TO, at: at('2026-06-02T13:55:00Z') }];
    expect(decide('2026-06-02T14:00:00Z', { recentAttempts })).toEqual({
      kind: 'schedule',
      at: at('2026-06-02T14:05:00Z'),
      reason: 'number_rate_limit',
    });
    expect(decide('2026-06-02T14:00:00Z', { recentAttempts, request: { to: '+15551230002' } })).toEqual({ kind: 'place_now' });
  });

  it('holds the global rate: at most N attempts in any minute', () => {
    const recentAttempts: OutboundAttempt[] = [
      { to: '+15550000001', at: at('2026-06-02T13:59:10Z') },
      { to: '+15550000002', at: at('2026-06-02T13:59:30Z') },
      { to: '+15550000003', at: at('2026-06-02T13:59:50Z') },
    ];
    expect(decide('2026-06-02T14:00:00Z', { recentAttempts })).toEqual({
      kind: 'schedule',
      at: at('2026-06-02T14:00:10Z'),
      reason: 'global_rate_limit',
    });
    // Once the oldest has left the minute, there is room again.
    expect(decide('2026-06-02T14:00:10Z', { recentAttempts })).toEqual({ kind: 'place_now' });
  });

  it('a rate-limit delay that runs past 20:00 lands on the next morning', () => {
    const recentAttempts: OutboundAttempt[] = [{ to: TO, at: at('2026-06-02T23:55:00Z') }];
    expect(decide('2026-06-02T23:58:00Z', { recentAttempts })).toEqual({
      kind: 'schedule',
      at: at('2026-06-03T12:00:00Z'),
      reason: 'calling_hours',
    });
  });

  it('rejects malformed calling hours', () => {
    expect(() => decide('2026-06-02T14:00:00Z', { callingHours: { start: '8am', end: '20:00' } })).toThrow(RangeError);
    expect(() => decide('2026-06-02T14:00:00Z', { callingHours: { start: '20:00', end: '08:00' } })).toThrow(RangeError);
  });
});
