// After hours, as pure rules: whether a location is closed at an instant (holidays replace the weekday's
// hours), who the on-call provider is, which person takes a caller who asks for one while the ring groups
// are closed, and the sentence that offers the on-call provider. route() and resolveTransfer() both use
// these, so a new call and a hand-off in the middle of one agree on what "closed" means.
import { localTime } from './local-time.ts';
import type { LocationConfig, MinuteRange, RoutingConfig, TargetSpec } from './schema.ts';

const DAY_NAMES = { mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday' };

export interface LocalMoment {
  /** "Wednesday 2026-12-23 19:30 at Charlotte – SouthPark", for reasons. */
  when: string;
  /** Why the location is closed now and the rule that says so; null while it is open. */
  closed: { why: string; rule: (string | number)[] } | null;
}

/** The location's local time at `at`, and whether it is closed then. */
export function momentAt(location: LocationConfig, locationId: string, at: Date): LocalMoment {
  const local = localTime(at, location.timezone);
  const when = `${DAY_NAMES[local.weekday]} ${local.date} ${local.hhmm} at ${location.name}`;
  const holidayIndex = location.holidays.findIndex((h) => h.date === local.date);
  if (holidayIndex >= 0) {
    const holiday = location.holidays[holidayIndex]!;
    if (isOpen(holiday.hours ?? [], local.minutes)) return { when, closed: null };
    const hours = holiday.hours === undefined ? 'closed all day' : `open only ${formatRanges(holiday.hours)}`;
    return { when, closed: { why: `It is ${when}: ${holiday.name} (${hours}).`, rule: ['locations', locationId, 'holidays', holidayIndex] } };
  }
  const ranges = location.hours[local.weekday];
  if (isOpen(ranges ?? [], local.minutes)) return { when, closed: null };
  const hours = ranges === undefined || ranges.length === 0 ? 'closed that day' : `open ${formatRanges(ranges)}`;
  return {
    when,
    closed: {
      why: `It is ${when}, outside business hours (${hours}).`,
      rule: ranges === undefined ? ['locations', locationId, 'hours'] : ['locations', locationId, 'hours', local.weekday],
    },
  };
}

/** The on-call provider for a location: its own, or the practice-wide one; and the rule that names it. */
export function onCallFor(config: RoutingConfig, locationId: string): { number: string; via: 'threecx' | 'twilio'; rule: (string | number)[] } {
  const own = config.locations[locationId]?.after_hours?.on_call;
  if (own !== undefined) return { ...own, rule: ['locations', locationId, 'after_hours', 'on_call'] };
  return { ...config.after_hours.on_call, rule: ['after_hours', 'urgent_digits'] };
}

export type HumanTargetSpec = Extract<TargetSpec, { action: 'ring_group' | 'external' | 'voicemail' }>;

/**
 * Who takes a caller asking for a person while the location is closed: the location's (or the practice's)
 * after-hours target when that is people or a phone; when it is the AI itself (or a reject, which no caller
 * still on the line can have come through), the ai-down after-hours target, which is always people.
 */
export function afterHoursPerson(config: RoutingConfig, locationId: string): HumanTargetSpec {
  const spec = config.locations[locationId]?.after_hours?.target ?? config.after_hours.target;
  if (spec.action === 'ring_group' || spec.action === 'external' || spec.action === 'voicemail') return spec;
  return config.modes['ai-down'].after_hours;
}

const DIGIT_WORDS: Record<'en' | 'es', Record<string, string>> = {
  en: { '*': 'star', '#': 'pound' },
  es: { '*': 'asterisco', '#': 'numeral' },
};

/** The sentence that offers the on-call provider, in the number's language (Spanish or English). */
export function urgentOfferPrompt(language: string, digits: string): string {
  const lang = language.toLowerCase().startsWith('es') ? 'es' : 'en';
  const spoken = [...digits].map((d) => DIGIT_WORDS[lang][d] ?? d).join(' ');
  return lang === 'es'
    ? `Si tiene una pregunta médica urgente, marque ${spoken} para hablar con el proveedor de guardia.`
    : `If this is an urgent clinical question, press ${spoken} for the on-call provider.`;
}

export function isOpen(ranges: readonly MinuteRange[], minutes: number): boolean {
  return ranges.some((r) => minutes >= r.start && minutes < r.end);
}

function formatRanges(ranges: readonly MinuteRange[]): string {
  const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  return ranges.map((r) => `${hhmm(r.start)}-${hhmm(r.end)}`).join(', ');
}
