// Where a call goes: a pure function of the routing document and the call's facts. The rules are tried in
// a fixed order and the first that applies decides (docs/routing.md lists the same order):
//   1. blocked caller (or withheld number when reject_anonymous)  → reject
//   2. emergency DTMF escape pressed                               → emergency target
//   3. system mode 3cx-down                                         → backup number via Twilio
//   4. unknown DID                                                  → operator ring group
//   5. holiday at the DID's location (closed, or outside its partial hours)  → after hours
//   6. outside the weekday's hours (incl. lunch closures)           → after hours
//   7. VIP caller                                                   → the VIP's ring group
//   8. repeat caller within N days                                  → the last ring group (or the DID's)
//   9. system mode ai-down                                          → the DID's ring group
//  10. the DID's mode                                               → AI first, or its ring group
// Safety rules come first (a blocked number never reaches anyone; an emergency is never held up by hours),
// then what the system can do at all, then time, then who is calling, then the number's own preference.
import { momentAt, onCallFor, urgentOfferPrompt } from './after-hours.ts';
import { isAnonymous, maskNumber, normalizeNumber } from './phone.ts';
import type { LocationConfig, NumberConfig, RoutingConfig } from './schema.ts';
import { resolveTarget, ringGroupTarget, type TargetContext } from './targets.ts';
import type { CallFacts, RouteTarget, RoutingDecision } from './types.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A path into the routing document, written the way an admin reads it: `numbers.+17045550100.mode`. */
export function rulePath(segments: readonly (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** The routing file's entry for the number the caller dialled, if it is one of ours. */
export function dialledNumber(config: RoutingConfig, dialled: string): NumberConfig | undefined {
  const to = normalizeNumber(dialled);
  return Object.hasOwn(config.numbers, to) ? config.numbers[to] : undefined;
}

/** What target resolution needs to know about a call: its number's language, skills and hand-off group. */
export function targetContext(config: RoutingConfig, facts: Pick<CallFacts, 'to' | 'mode'>): TargetContext {
  const did = dialledNumber(config, facts.to);
  return {
    config,
    mode: facts.mode,
    language: did?.language ?? 'en-US',
    handoffRingGroup: did?.ring_group ?? config.operator.ring_group,
    skills: did?.skills ?? [],
  };
}

export function route(config: RoutingConfig, facts: CallFacts): RoutingDecision {
  const from = normalizeNumber(facts.from);
  const to = normalizeNumber(facts.to);
  const did = dialledNumber(config, to);
  const locationId = did?.location ?? null;
  const ctx = targetContext(config, facts);
  const recording = did
    ? { enabled: did.recording.enabled, announcement: did.recording.announcement }
    : { enabled: false, announcement: null };
  const decide = (target: RouteTarget, reason: string, rule: (string | number)[]): RoutingDecision => ({
    target,
    location: locationId,
    // Nothing is answered on a reject, so nothing is recorded.
    recording: target.kind === 'reject' ? { enabled: false, announcement: null } : recording,
    language: ctx.language,
    reason,
    rule: rulePath(rule),
  });
  const digits = facts.digits ?? '';
  const anonymous = isAnonymous(facts.from);

  // 1. Blocked callers.
  if (anonymous && config.callers.reject_anonymous) {
    return decide({ kind: 'reject', cause: config.callers.blocked_cause }, 'The caller withheld their number and anonymous calls are rejected.', ['callers', 'reject_anonymous']);
  }
  const blocked = anonymous ? -1 : config.callers.blocked.findIndex((entry) => matchesCaller(entry, from));
  if (blocked >= 0) {
    return decide(
      { kind: 'reject', cause: config.callers.blocked_cause },
      `The caller (${maskNumber(from)}) matches entry ${blocked + 1} of the blocked list.`,
      ['callers', 'blocked', blocked],
    );
  }

  // 2. The emergency escape is honoured whatever else is true: hours, modes and DIDs never delay it.
  if (digits.includes(config.emergency.dtmf_escape)) {
    const e = config.emergency.target;
    return decide(
      resolveTarget(ctx, { action: 'external', number: e.number, via: e.via }),
      `The caller pressed the emergency escape "${config.emergency.dtmf_escape}".`,
      ['emergency', 'dtmf_escape'],
    );
  }

  // 3. 3CX is down: no ring group, voicemail or 3CX trunk works, so on-call phones via Twilio.
  if (facts.mode === '3cx-down') {
    const backup = config.modes['3cx-down'];
    const perLocation = locationId !== null && Object.hasOwn(backup.locations, locationId);
    const number = perLocation ? (backup.locations[locationId] as string) : backup.number;
    return decide(
      { kind: 'external', number, via: 'twilio' },
      `3CX is unreachable, so the call goes to ${perLocation ? `${locationId}'s` : 'the practice'} backup number (${maskNumber(number)}) over the Twilio trunk.`,
      perLocation ? ['modes', '3cx-down', 'locations', locationId] : ['modes', '3cx-down', 'number'],
    );
  }

  // 4. A DID nobody configured still reaches a person.
  if (did === undefined) {
    return decide(
      ringGroupTarget(ctx, config.operator.ring_group),
      `The dialled number (${maskNumber(facts.to)}) is not in the routing file, so the operator group takes it.`,
      ['operator', 'ring_group'],
    );
  }

  // 5-6. Time at the DID's location; a holiday replaces the weekday's hours for that date.
  const location = config.locations[did.location] as LocationConfig;
  const { when, closed } = momentAt(location, did.location, facts.at);
  if (closed !== null) return afterHours(closed.why, closed.rule);

  // 7. VIP callers skip the AI.
  const vipIndex = anonymous ? -1 : config.callers.vip.findIndex((v) => v.number === from);
  if (vipIndex >= 0) {
    const vip = config.callers.vip[vipIndex]!;
    return decide(ringGroupTarget(ctx, vip.ring_group), `The caller (${maskNumber(from)}) is a VIP caller.`, ['callers', 'vip', vipIndex]);
  }

  // 8. Repeat callers go back to people, the same group when it still exists.
  const repeat = config.callers.repeat_caller;
  const last = facts.history?.lastCallAt;
  if (repeat !== undefined && !anonymous && last !== undefined) {
    const elapsed = facts.at.getTime() - last.getTime();
    if (elapsed >= 0 && elapsed <= repeat.within_days * DAY_MS) {
      const previous = facts.history?.lastRingGroup;
      const same = repeat.same_group && previous !== undefined && Object.hasOwn(config.ring_groups, previous);
      const group = same ? (previous as string) : did.ring_group;
      const days = Math.floor(elapsed / DAY_MS);
      return decide(
        ringGroupTarget(ctx, group),
        `The caller last called ${days === 0 ? 'less than a day' : `${days} day(s)`} ago (within ${repeat.within_days} days); ${same ? 'back to the group that handled that call' : "to this number's ring group"}.`,
        ['callers', 'repeat_caller'],
      );
    }
  }

  // 9-10. The number's own preference, unless the AI is down.
  if (did.mode === 'ai_first' && facts.mode === 'ai-down') {
    return decide(ringGroupTarget(ctx, did.ring_group), 'The AI engine is down, so people answer instead of the AI.', ['modes', 'ai-down']);
  }
  if (did.mode === 'ai_first') {
    return decide(resolveTarget(ctx, { action: 'ai', message_only: false }), `Open (${when}); this number is answered by the AI first.`, ['numbers', to, 'mode']);
  }
  return decide(ringGroupTarget(ctx, did.ring_group), `Open (${when}); this number rings people straight away.`, ['numbers', to, 'mode']);

  function afterHours(why: string, closedRule: (string | number)[]): RoutingDecision {
    const d = did as NumberConfig;
    const own = location.after_hours;
    const urgent = config.after_hours.urgent_digits;
    if (urgent !== '' && digits.endsWith(urgent)) {
      const onCall = onCallFor(config, d.location);
      return decide(
        resolveTarget(ctx, { action: 'external', number: onCall.number, via: onCall.via }),
        `${why} The caller chose urgent clinical, so the on-call provider is called.`,
        onCall.rule,
      );
    }
    // Whoever takes the call after hours, the caller first hears that urgent clinical questions can reach
    // the on-call provider (a rejected call is never answered, so it hears nothing).
    const offered = (decision: RoutingDecision): RoutingDecision =>
      urgent === '' || decision.target.kind === 'reject' ? decision : { ...decision, urgentOffer: { digits: urgent, prompt: urgentOfferPrompt(ctx.language, urgent) } };
    if (facts.mode === 'ai-down') {
      return offered(
        decide(
          resolveTarget(ctx, config.modes['ai-down'].after_hours),
          `${why} The AI engine is down, so the ai-down after-hours target is used.`,
          ['modes', 'ai-down', 'after_hours'],
        ),
      );
    }
    const spec = own?.target ?? config.after_hours.target;
    const source = own?.target ? `locations.${d.location}.after_hours.target` : 'after_hours.target';
    return offered(decide(resolveTarget(ctx, spec), `${why} Closed, so ${source} applies.`, closedRule));
  }
}

function matchesCaller(entry: string, from: string): boolean {
  return entry.endsWith('*') ? from.startsWith(entry.slice(0, -1)) : entry === from;
}
