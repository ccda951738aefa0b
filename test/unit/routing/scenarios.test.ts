// The scenario table: calls an admin can picture ("Christmas Eve at 17:45 on the Charlotte main line") and
// where they must go, through the real loader and route(). Dates: 2026-12-21 is a Monday, 2026-12-23 a
// Wednesday, 2026-12-24 a Thursday (Christmas Eve, half day in Charlotte and Dallas, closed in Denver).
import { describe, expect, it } from 'vitest';
import { parseRoutingText } from '../../../src/app/routing-file.ts';
import { route } from '../../../src/core/routing/route.ts';
import type { CallFacts, RouteTarget, RoutingDecision } from '../../../src/core/routing/types.ts';
import {
  CHARLOTTE_BILLING,
  CHARLOTTE_MAIN,
  CHARLOTTE_SPANISH,
  DALLAS_MAIN,
  DALLAS_NURSE,
  DENVER_MAIN,
  DENVER_PATHOLOGY,
  OVERNIGHT,
  PATIENT,
  SKILLED_SCHEDULING,
  facts,
  practice,
  practiceText,
} from './helpers.ts';

interface Expect {
  rule: string;
  kind: RouteTarget['kind'];
  ringGroup?: string;
  /** Agent names in ringing order. */
  agents?: string[];
  number?: string;
  via?: 'threecx' | 'twilio';
  mailbox?: string;
  messageOnly?: boolean;
  language?: string;
  handoff?: string;
  fallback?: string;
  location?: string | null;
  recording?: boolean;
  reason?: RegExp;
}

interface Scenario {
  name: string;
  facts: CallFacts;
  expect: Expect;
}

const VIP_DOCTOR = '+17045550150';
const BLOCKED = '+13055550199';
const DAY = 24 * 60 * 60 * 1000;
const wedOpen = '2026-12-23T10:00:00-05:00';
const wedEvening = '2026-12-23T19:30:00-05:00';

const scenarios: Scenario[] = [
  // The number's own mode, during hours.
  { name: 'open, AI-first number → AI helps fully, hands off to its ring group', facts: facts({ at: wedOpen }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false, handoff: 'scheduling', language: 'en-US', location: 'charlotte', recording: true } },
  { name: 'open, Spanish line → AI speaks es-US', facts: facts({ to: CHARLOTTE_SPANISH, at: wedOpen }), expect: { rule: 'numbers.+17045550101.mode', kind: 'ai_agent', language: 'es-US' } },
  { name: 'open, humans-first billing → billing rings by priority, file order within a priority', facts: facts({ to: CHARLOTTE_BILLING, at: wedOpen }), expect: { rule: 'numbers.+17045550102.mode', kind: 'ring_group', ringGroup: 'billing', agents: ['Tom Nguyen', 'Rosa García', 'Aisha Khan'], fallback: 'voicemail', recording: false } },
  { name: 'skills: within a priority the agent with the wanted skill rings first', facts: facts({ to: SKILLED_SCHEDULING, at: wedOpen }), expect: { rule: 'numbers.+19195550101.mode', kind: 'ring_group', ringGroup: 'scheduling', agents: ['María López', 'Aisha Khan', 'James Carter', 'Front Desk'] } },
  { name: 'open, scheduling fallback is the AI taking a message, handing off to the operator', facts: facts({ to: SKILLED_SCHEDULING, at: wedOpen }), expect: { rule: 'numbers.+19195550101.mode', kind: 'ring_group', fallback: 'ai_agent' } },
  { name: 'DID written without "+" (as some trunks send it) is still recognised', facts: facts({ to: '17045550100', at: wedOpen }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', location: 'charlotte' } },
  { name: 'Dallas nurse line rings the nurses all at once', facts: facts({ to: DALLAS_NURSE, at: '2026-12-23T09:00:00-06:00' }), expect: { rule: 'numbers.+12145550103.mode', kind: 'ring_group', ringGroup: 'nurse_line', agents: ['Linda Park RN', 'David Osei RN'], mailbox: undefined } },

  // Business hours and lunch closures: a range includes its first minute and excludes its last.
  { name: 'lunch starts: 12:00 is closed', facts: facts({ at: '2026-12-23T12:00:00-05:00' }), expect: { rule: 'locations.charlotte.hours.wed', kind: 'ai_agent', messageOnly: true, reason: /outside business hours/ } },
  { name: 'lunch edge: 11:59 is open', facts: facts({ at: '2026-12-23T11:59:59-05:00' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'lunch edge: 12:59 is closed', facts: facts({ at: '2026-12-23T12:59:00-05:00' }), expect: { rule: 'locations.charlotte.hours.wed', kind: 'ai_agent', messageOnly: true } },
  { name: 'lunch ends: 13:00 is open', facts: facts({ at: '2026-12-23T13:00:00-05:00' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'close: 16:59 is open', facts: facts({ at: '2026-12-23T16:59:00-05:00' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'close: 17:00 is closed', facts: facts({ at: '2026-12-23T17:00:00-05:00' }), expect: { rule: 'locations.charlotte.hours.wed', kind: 'ai_agent', messageOnly: true } },
  { name: 'opening: 08:00 is open', facts: facts({ at: '2026-12-21T08:00:00-05:00' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'opening: 07:59 is closed', facts: facts({ at: '2026-12-21T07:59:00-05:00' }), expect: { rule: 'locations.charlotte.hours.mon', kind: 'ai_agent', messageOnly: true } },
  { name: 'Friday closes early (16:00)', facts: facts({ at: '2026-12-18T16:00:00-05:00' }), expect: { rule: 'locations.charlotte.hours.fri', kind: 'ai_agent', messageOnly: true } },
  { name: 'Saturday morning clinic is open', facts: facts({ at: '2026-12-19T10:00:00-05:00' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'Sunday is not listed → closed all day', facts: facts({ at: '2026-12-20T10:00:00-05:00' }), expect: { rule: 'locations.charlotte.hours', kind: 'ai_agent', messageOnly: true, reason: /closed that day/ } },
  { name: 'Dallas lunch ends 12:45: 12:44 closed', facts: facts({ to: DALLAS_MAIN, at: '2026-12-23T12:44:00-06:00' }), expect: { rule: 'locations.dallas.hours.wed', kind: 'ai_agent', messageOnly: true } },
  { name: 'Dallas lunch ends 12:45: 12:45 open', facts: facts({ to: DALLAS_MAIN, at: '2026-12-23T12:45:00-06:00' }), expect: { rule: 'numbers.+12145550100.mode', kind: 'ai_agent', messageOnly: false } },

  // One instant, three time zones: 22:15 UTC is 17:15 in Charlotte, 16:15 in Dallas, 15:15 in Denver.
  { name: 'same instant: Charlotte (17:15) is closed', facts: facts({ to: CHARLOTTE_MAIN, at: '2026-12-23T22:15:00Z' }), expect: { rule: 'locations.charlotte.hours.wed', kind: 'ai_agent', messageOnly: true } },
  { name: 'same instant: Dallas (16:15) is open', facts: facts({ to: DALLAS_MAIN, at: '2026-12-23T22:15:00Z' }), expect: { rule: 'numbers.+12145550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'same instant: Denver (15:15) is open', facts: facts({ to: DENVER_MAIN, at: '2026-12-23T22:15:00Z' }), expect: { rule: 'numbers.+13035550100.mode', kind: 'ring_group', ringGroup: 'scheduling' } },
  { name: 'Denver after hours → its own voicemail (location override)', facts: facts({ to: DENVER_MAIN, at: '2026-12-23T18:00:00-07:00' }), expect: { rule: 'locations.denver.hours.wed', kind: 'voicemail', mailbox: 'denver_front_desk', location: 'denver' } },

  // Holidays win over weekday hours.
  { name: 'Christmas Day, a Friday 10:00 (weekday hours say open) → closed', facts: facts({ at: '2026-12-25T10:00:00-05:00' }), expect: { rule: 'locations.charlotte.holidays[2]', kind: 'ai_agent', messageOnly: true, reason: /Christmas Day/ } },
  { name: 'Christmas Eve 10:00: partial day, open', facts: facts({ at: '2026-12-24T10:00:00-05:00' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },
  { name: 'Christmas Eve 17:45: the partial day has ended (weekday hours would be open)', facts: facts({ at: '2026-12-24T17:45:00-05:00' }), expect: { rule: 'locations.charlotte.holidays[1]', kind: 'ai_agent', messageOnly: true, reason: /Christmas Eve/ } },
  { name: 'Christmas Eve in Denver: closed all day → Denver voicemail', facts: facts({ to: DENVER_PATHOLOGY, at: '2026-12-24T10:00:00-07:00' }), expect: { rule: 'locations.denver.holidays[1]', kind: 'voicemail', mailbox: 'denver_front_desk' } },
  { name: "New Year's Day in Dallas (shared holiday list via YAML alias)", facts: facts({ to: DALLAS_MAIN, at: '2027-01-01T10:00:00-06:00' }), expect: { rule: 'locations.dallas.holidays[4]', kind: 'ai_agent', messageOnly: true } },
  { name: "holiday is the location's local date: 23:30 UTC on Dec 24 is still Dec 24 in Dallas", facts: facts({ to: DALLAS_MAIN, at: '2026-12-25T04:30:00Z' }), expect: { rule: 'locations.dallas.holidays[1]', kind: 'ai_agent', messageOnly: true } },

  // After hours: urgent clinical.
  { name: 'after hours, caller presses 1 (urgent) in Charlotte → Charlotte on-call', facts: facts({ at: wedEvening, digits: '1' }), expect: { rule: 'locations.charlotte.after_hours.on_call', kind: 'external', number: '+17045550190', via: 'threecx' } },
  { name: 'after hours, urgent in Dallas → practice-wide on-call', facts: facts({ to: DALLAS_MAIN, at: '2026-12-23T19:00:00-06:00', digits: '1' }), expect: { rule: 'after_hours.urgent_digits', kind: 'external', number: '+17045550199' } },
  { name: 'urgent digits during hours change nothing', facts: facts({ at: wedOpen, digits: '1' }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent', messageOnly: false } },

  // Emergency escape beats hours, modes and unknown numbers.
  { name: 'caller presses 0 during hours → emergency target', facts: facts({ at: wedOpen, digits: '0' }), expect: { rule: 'emergency.dtmf_escape', kind: 'external', number: '+17045550911', via: 'threecx' } },
  { name: 'caller pressed 1 then 0 after hours → emergency, not on-call', facts: facts({ at: wedEvening, digits: '10' }), expect: { rule: 'emergency.dtmf_escape', kind: 'external', number: '+17045550911' } },
  { name: 'emergency while 3CX is down → same target over Twilio', facts: facts({ at: wedOpen, digits: '0', mode: '3cx-down' }), expect: { rule: 'emergency.dtmf_escape', kind: 'external', number: '+17045550911', via: 'twilio' } },
  { name: 'emergency on an unknown DID', facts: facts({ to: '+18005550000', at: wedOpen, digits: '0' }), expect: { rule: 'emergency.dtmf_escape', kind: 'external', location: null } },

  // Blocked and anonymous callers.
  { name: 'blocked number → rejected, nothing recorded', facts: facts({ from: BLOCKED, at: wedOpen }), expect: { rule: 'callers.blocked[0]', kind: 'reject', recording: false } },
  { name: 'blocked prefix (+1900*)', facts: facts({ from: '+19005551234', at: wedOpen }), expect: { rule: 'callers.blocked[1]', kind: 'reject' } },
  { name: 'blocked number in national format is still blocked', facts: facts({ from: '(305) 555-0199', at: wedOpen }), expect: { rule: 'callers.blocked[0]', kind: 'reject' } },
  { name: 'blocked caller pressing 0 is still rejected', facts: facts({ from: BLOCKED, at: wedOpen, digits: '0' }), expect: { rule: 'callers.blocked[0]', kind: 'reject' } },
  { name: 'blocked caller while 3CX is down is still rejected', facts: facts({ from: BLOCKED, at: wedOpen, mode: '3cx-down' }), expect: { rule: 'callers.blocked[0]', kind: 'reject' } },
  { name: 'anonymous caller is answered normally', facts: facts({ from: 'anonymous', at: wedOpen }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent' } },
  { name: 'empty caller id is answered normally', facts: facts({ from: '', at: wedOpen }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent' } },

  // VIP and repeat callers (only during hours; VIP before repeat).
  { name: 'VIP caller during hours → their ring group, skipping the AI', facts: facts({ from: VIP_DOCTOR, at: wedOpen }), expect: { rule: 'callers.vip[0]', kind: 'ring_group', ringGroup: 'nurse_line' } },
  { name: 'VIP caller after hours → after-hours handling (hours win)', facts: facts({ from: VIP_DOCTOR, at: wedEvening }), expect: { rule: 'locations.charlotte.hours.wed', kind: 'ai_agent', messageOnly: true } },
  { name: 'VIP who is also a repeat caller → VIP rule', facts: facts({ from: VIP_DOCTOR, at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - DAY), lastRingGroup: 'billing' } }), expect: { rule: 'callers.vip[0]', kind: 'ring_group', ringGroup: 'nurse_line' } },
  { name: 'repeat caller 2 days later → the group that handled the last call', facts: facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - 2 * DAY), lastRingGroup: 'billing' } }), expect: { rule: 'callers.repeat_caller', kind: 'ring_group', ringGroup: 'billing' } },
  { name: 'repeat caller exactly 3 days later (window edge, included)', facts: facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - 3 * DAY), lastRingGroup: 'billing' } }), expect: { rule: 'callers.repeat_caller', kind: 'ring_group', ringGroup: 'billing' } },
  { name: 'repeat caller 3 days and 1 second later → outside the window', facts: facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - 3 * DAY - 1000), lastRingGroup: 'billing' } }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent' } },
  { name: 'repeat caller whose last group no longer exists → the number’s ring group', facts: facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - DAY), lastRingGroup: 'retired_group' } }), expect: { rule: 'callers.repeat_caller', kind: 'ring_group', ringGroup: 'scheduling' } },
  { name: 'repeat caller whose last call went to the AI only → the number’s ring group', facts: facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - DAY) } }), expect: { rule: 'callers.repeat_caller', kind: 'ring_group', ringGroup: 'scheduling' } },
  { name: 'history in the future (clock skew) is ignored', facts: facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) + DAY), lastRingGroup: 'billing' } }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent' } },
  { name: 'anonymous callers are never repeat callers', facts: facts({ from: 'anonymous', at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - DAY), lastRingGroup: 'billing' } }), expect: { rule: 'numbers.+17045550100.mode', kind: 'ai_agent' } },

  // Unknown DIDs.
  { name: 'unknown DID → operator group, no location, not recorded', facts: facts({ to: '+18005550000', at: wedOpen }), expect: { rule: 'operator.ring_group', kind: 'ring_group', ringGroup: 'reception', location: null, recording: false } },
  { name: 'unknown DID at night still reaches the operator (no hours without a location)', facts: facts({ to: '+18005550000', at: wedEvening }), expect: { rule: 'operator.ring_group', kind: 'ring_group', ringGroup: 'reception' } },

  // System modes.
  { name: '3cx-down, Dallas number → Dallas backup mobile via Twilio', facts: facts({ to: DALLAS_MAIN, at: wedOpen, mode: '3cx-down' }), expect: { rule: 'modes.3cx-down.locations.dallas', kind: 'external', number: '+12145550180', via: 'twilio' } },
  { name: '3cx-down, Charlotte number → practice backup number', facts: facts({ at: wedEvening, mode: '3cx-down' }), expect: { rule: 'modes.3cx-down.number', kind: 'external', number: '+17045550180', via: 'twilio' } },
  { name: '3cx-down, unknown DID → practice backup number', facts: facts({ to: '+18005550000', at: wedOpen, mode: '3cx-down' }), expect: { rule: 'modes.3cx-down.number', kind: 'external', via: 'twilio', location: null } },
  { name: 'ai-down, AI-first number during hours → its ring group, AI fallback replaced', facts: facts({ at: wedOpen, mode: 'ai-down' }), expect: { rule: 'modes.ai-down', kind: 'ring_group', ringGroup: 'scheduling', fallback: 'voicemail', mailbox: 'main' } },
  { name: 'ai-down, humans-first number → unchanged', facts: facts({ to: CHARLOTTE_BILLING, at: wedOpen, mode: 'ai-down' }), expect: { rule: 'numbers.+17045550102.mode', kind: 'ring_group', ringGroup: 'billing' } },
  { name: 'ai-down after hours → ai-down after-hours target instead of the AI', facts: facts({ at: wedEvening, mode: 'ai-down' }), expect: { rule: 'modes.ai-down.after_hours', kind: 'voicemail', mailbox: 'main' } },
  { name: 'ai-down after hours, urgent → on-call still works', facts: facts({ at: wedEvening, mode: 'ai-down', digits: '1' }), expect: { rule: 'locations.charlotte.after_hours.on_call', kind: 'external', number: '+17045550190' } },

  // Daylight saving (America/New_York; clocks go 02:00 → 03:00 on 2026-03-08 and 02:00 → 01:00 on 2026-11-01).
  { name: 'spring: 06:59 UTC is 01:59 EST → Sunday 01:00-02:00 open', facts: facts({ to: OVERNIGHT, at: '2026-03-08T06:59:00Z' }), expect: { rule: 'numbers.+19195550100.mode', kind: 'ring_group' } },
  { name: 'spring: 07:30 UTC is 03:30 EDT (02:30 never happens) → closed', facts: facts({ to: OVERNIGHT, at: '2026-03-08T07:30:00Z' }), expect: { rule: 'locations.overnight.hours.sun', kind: 'ai_agent', reason: /03:30/ } },
  { name: 'spring: the Monday after, 12:30 UTC is 08:30 EDT → open', facts: facts({ to: OVERNIGHT, at: '2026-03-09T12:30:00Z' }), expect: { rule: 'numbers.+19195550100.mode', kind: 'ring_group' } },
  { name: 'spring: the Monday before, 12:30 UTC is 07:30 EST → closed', facts: facts({ to: OVERNIGHT, at: '2026-03-02T12:30:00Z' }), expect: { rule: 'locations.overnight.hours.mon', kind: 'ai_agent' } },
  { name: 'fall: first 01:30 (EDT, 05:30 UTC) → open', facts: facts({ to: OVERNIGHT, at: '2026-11-01T05:30:00Z' }), expect: { rule: 'numbers.+19195550100.mode', kind: 'ring_group' } },
  { name: 'fall: second 01:30 (EST, 06:30 UTC) → open too', facts: facts({ to: OVERNIGHT, at: '2026-11-01T06:30:00Z' }), expect: { rule: 'numbers.+19195550100.mode', kind: 'ring_group' } },
  { name: 'fall: 08:30 UTC is 03:30 EST → closed', facts: facts({ to: OVERNIGHT, at: '2026-11-01T08:30:00Z' }), expect: { rule: 'locations.overnight.hours.sun', kind: 'ai_agent' } },
  { name: 'fall: 07:30 UTC is 02:30 EST → open (02:00-03:00)', facts: facts({ to: OVERNIGHT, at: '2026-11-01T07:30:00Z' }), expect: { rule: 'numbers.+19195550100.mode', kind: 'ring_group' } },
];

function check(decision: RoutingDecision, want: Expect): void {
  const t = decision.target;
  expect(decision.rule).toBe(want.rule);
  expect(t.kind).toBe(want.kind);
  if (want.location !== undefined) expect(decision.location).toBe(want.location);
  if (want.recording !== undefined) expect(decision.recording.enabled).toBe(want.recording);
  if (want.reason) expect(decision.reason).toMatch(want.reason);
  expect(decision.reason.length).toBeGreaterThan(10);
  if (t.kind === 'ring_group') {
    if (want.ringGroup) expect(t.ringGroup).toBe(want.ringGroup);
    if (want.agents) expect(t.agents.map((a) => a.name)).toEqual(want.agents);
    if (want.fallback) expect(t.fallback.kind).toBe(want.fallback);
    if (want.mailbox) expect(t.fallback).toMatchObject({ kind: 'voicemail', mailbox: want.mailbox });
    if (t.fallback.kind === 'ai_agent') expect(t.fallback.handoffRingGroup).toBe('reception');
  }
  if (t.kind === 'external') {
    if (want.number) expect(t.number).toBe(want.number);
    if (want.via) expect(t.via).toBe(want.via);
  }
  if (t.kind === 'voicemail' && want.mailbox) expect(t.mailbox).toBe(want.mailbox);
  if (t.kind === 'ai_agent') {
    if (want.messageOnly !== undefined) expect(t.messageOnly).toBe(want.messageOnly);
    if (want.language) expect(t.language).toBe(want.language);
    if (want.handoff) expect(t.handoffRingGroup).toBe(want.handoff);
  }
}

describe('routing scenarios (fixture practice)', () => {
  it('has at least 40 scenarios', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(40);
  });
  it.each(scenarios.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    check(route(practice, scenario.facts), scenario.expect);
  });
});

describe('routing scenarios that need a changed file', () => {
  it('reject_anonymous: true rejects withheld numbers but not real ones', () => {
    const result = parseRoutingText(practiceText.replace('reject_anonymous: false', 'reject_anonymous: true'), 'p.yaml');
    if (!result.ok) throw new Error('fixture variant must parse');
    const anon = route(result.config, facts({ from: 'Anonymous', at: wedOpen }));
    expect(anon.target).toEqual({ kind: 'reject', cause: 'CALL_REJECTED' });
    expect(anon.rule).toBe('callers.reject_anonymous');
    expect(route(result.config, facts({ from: PATIENT, at: wedOpen })).target.kind).toBe('ai_agent');
  });

  it('blocked_cause: USER_BUSY is what a blocked caller gets', () => {
    const result = parseRoutingText(practiceText.replace('blocked_cause: CALL_REJECTED', 'blocked_cause: USER_BUSY'), 'p.yaml');
    if (!result.ok) throw new Error('fixture variant must parse');
    expect(route(result.config, facts({ from: BLOCKED, at: wedOpen })).target).toEqual({ kind: 'reject', cause: 'USER_BUSY' });
  });

  it('same_group: false sends repeat callers to the number’s ring group', () => {
    const result = parseRoutingText(practiceText.replace('    same_group: true', '    same_group: false'), 'p.yaml');
    if (!result.ok) throw new Error('fixture variant must parse');
    const d = route(result.config, facts({ at: wedOpen, history: { lastCallAt: new Date(Date.parse(wedOpen) - DAY), lastRingGroup: 'billing' } }));
    expect(d.target).toMatchObject({ kind: 'ring_group', ringGroup: 'scheduling' });
  });

  it('an edit takes effect: moving Dallas lunch changes the 12:30 decision', () => {
    const noon = facts({ to: DALLAS_MAIN, at: '2026-12-23T12:30:00-06:00' });
    expect(route(practice, noon).rule).toBe('locations.dallas.hours.wed');
    const edited = practiceText.replaceAll('["07:30-12:00", "12:45-16:30"]', '["07:30-16:30"]');
    const result = parseRoutingText(edited, 'p.yaml');
    if (!result.ok) throw new Error('edit must parse');
    expect(route(result.config, noon).rule).toBe('numbers.+12145550100.mode');
  });
});
