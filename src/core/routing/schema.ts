// The shape of dialplan/routing.yaml. Every object is strict (an unknown key is an error, so a misspelt key
// never silently does nothing), phone numbers and times are checked here, and keys keep the names admins
// wrote so an error path from zod maps straight back to a line in the file. Cross-references (a ring group
// naming an agent that does not exist, …) are checked in references.ts once the shape is valid.
import { z } from 'zod';

/** A strict object whose "unknown key" error lists what was expected, so the admin sees the right spelling. */
function strict<T extends z.ZodRawShape>(shape: T) {
  const expected = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? `expected one of: ${expected}` : undefined),
  });
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EXTENSION = /^\d{2,6}$/;
const ID = /^[a-z][a-z0-9_-]{0,63}$/;

export const e164Schema = z.string().regex(E164, 'expected an E.164 number such as "+17045550100"');
export const extensionSchema = z
  .string()
  .regex(EXTENSION, 'expected a 3CX extension: 2 to 6 digits, quoted, such as "101"');
const idSchema = z.string().regex(ID, 'expected an id: lower case letters, digits, "_" or "-", starting with a letter');
const digitsSchema = z.string().regex(/^[0-9*#]{1,4}$/, 'expected 1 to 4 DTMF digits (0-9, * or #), quoted');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
const timeZoneSchema = z
  .string()
  .refine((tz) => tz.includes('/') && isTimeZone(tz), 'expected an IANA time zone such as "America/New_York"');

function isLanguage(tag: string): boolean {
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}
const languageSchema = z.string().refine(isLanguage, 'expected a language tag such as "en-US" or "es-US"');

/** Minutes since local midnight; an opening range is [start, end): open at start, closed at end. */
export interface MinuteRange {
  start: number;
  end: number;
}

const RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;
const rangeSchema = z
  .string()
  .regex(RANGE, 'expected a time range "HH:MM-HH:MM" (24-hour clock), such as "08:00-12:00"')
  .transform((text, ctx): MinuteRange => {
    const m = RANGE.exec(text) as RegExpExecArray;
    const start = Number(m[1]) * 60 + Number(m[2]);
    const end = Number(m[3]) * 60 + Number(m[4]);
    if (end > 24 * 60 || end <= start) {
      ctx.addIssue({ code: 'custom', message: `"${text}" must end after it starts and no later than 24:00` });
    }
    return { start, end };
  });
const rangesSchema = z.array(rangeSchema);

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** A missing weekday means closed all day. */
const hoursSchema = strict({
  mon: rangesSchema.optional(),
  tue: rangesSchema.optional(),
  wed: rangesSchema.optional(),
  thu: rangesSchema.optional(),
  fri: rangesSchema.optional(),
  sat: rangesSchema.optional(),
  sun: rangesSchema.optional(),
});

const holidaySchema = strict({
  date: z.iso.date('expected a date "YYYY-MM-DD"'),
  name: z.string().min(1),
  /** Open only during these ranges that day (a partial day); absent means closed all day. */
  hours: rangesSchema.optional(),
});

const externalSchema = strict({
  number: e164Schema,
  /** Which trunk dials it: the 3CX trunk normally, the Twilio backup trunk when 3CX is unreachable. */
  via: z.enum(['threecx', 'twilio']).default('threecx'),
});
export type ExternalNumber = z.output<typeof externalSchema>;

const aiAction = strict({ action: z.literal('ai'), message_only: z.boolean().default(false) });
const ringGroupAction = strict({ action: z.literal('ring_group'), ring_group: idSchema });
const externalAction = strict({
  action: z.literal('external'),
  number: e164Schema,
  via: z.enum(['threecx', 'twilio']).default('threecx'),
});
const voicemailAction = strict({ action: z.literal('voicemail'), mailbox: idSchema });
const rejectAction = strict({
  action: z.literal('reject'),
  cause: z.enum(['CALL_REJECTED', 'USER_BUSY']).default('CALL_REJECTED'),
});

/** Where a rule sends a call. */
export const targetSchema = z.discriminatedUnion('action', [
  aiAction,
  ringGroupAction,
  externalAction,
  voicemailAction,
  rejectAction,
]);
export type TargetSpec = z.output<typeof targetSchema>;

/** A ring group's last resort must take the call: never another ring group (no loops), never a reject. */
const fallbackSchema = z.discriminatedUnion('action', [
  strict({ action: z.literal('ai'), message_only: z.literal(true).default(true) }),
  externalAction,
  voicemailAction,
]);
export type FallbackSpec = z.output<typeof fallbackSchema>;

/** Without the AI or without 3CX only people and phones can take a call. */
const humanTargetSchema = z.discriminatedUnion('action', [ringGroupAction, externalAction, voicemailAction]);

const locationSchema = strict({
  name: z.string().min(1),
  timezone: timeZoneSchema,
  hours: hoursSchema,
  holidays: z.array(holidaySchema).default([]),
  /** Overrides the practice-wide after_hours for this location. */
  after_hours: strict({ target: targetSchema.optional(), on_call: externalSchema.optional() }).optional(),
});

const agentSchema = strict({
  extension: extensionSchema,
  name: z.string().min(1),
  skills: z.array(idSchema).default([]),
  /** Lower rings first. */
  priority: z.number().int().min(0).max(1000),
});

const ringGroupSchema = strict({
  name: z.string().min(1),
  agents: z.array(idSchema).min(1, 'a ring group needs at least one agent'),
  /** sequential: one agent after another in priority order; simultaneous: all at once. */
  strategy: z.enum(['sequential', 'simultaneous']).default('sequential'),
  ring_seconds: z.number().int().min(5).max(300),
  fallback: fallbackSchema,
});

const numberSchema = strict({
  name: z.string().min(1).optional(),
  location: idSchema,
  /** ai_first: the AI answers and hands over to `ring_group`; humans_first: `ring_group` rings straight away. */
  mode: z.enum(['ai_first', 'humans_first']),
  ring_group: idSchema,
  language: languageSchema.default('en-US'),
  recording: strict({ enabled: z.boolean(), announcement: z.string().min(1).nullable().default(null) }),
  /** Agents with these skills ring first (after priority). */
  skills: z.array(idSchema).default([]),
});

/** An exact E.164 number, or a prefix ending in "*" (e.g. "+1900*"). */
const callerPatternSchema = z
  .string()
  .regex(/^\+[1-9]\d{0,14}\*$|^\+[1-9]\d{6,14}$/, 'expected an E.164 number or a prefix ending in "*" such as "+1900*"');

const callersSchema = strict({
  blocked: z.array(callerPatternSchema).default([]),
  blocked_cause: z.enum(['CALL_REJECTED', 'USER_BUSY']).default('CALL_REJECTED'),
  /** Callers that withhold their number; when true they are rejected like blocked numbers. */
  reject_anonymous: z.boolean().default(false),
  vip: z.array(strict({ number: e164Schema, ring_group: idSchema, note: z.string().optional() })).default([]),
  repeat_caller: strict({
    within_days: z.number().int().min(1).max(365),
    /** Route a repeat caller back to the ring group that handled the last call, if it still exists. */
    same_group: z.boolean(),
  }).optional(),
});

const afterHoursSchema = strict({
  /** What happens to a call outside hours (typically: the AI takes a message). */
  target: targetSchema,
  /** The on-call provider for urgent clinical calls. */
  on_call: externalSchema,
  /** Digits the after-hours greeting offers for "urgent clinical" (→ on_call). */
  urgent_digits: digitsSchema,
});

const emergencySchema = strict({
  phrases: strict({ en: z.array(z.string().min(2)).min(1), es: z.array(z.string().min(2)).min(1) }),
  /** Pressing these digits at any point in the call is an emergency. */
  dtmf_escape: digitsSchema,
  target: externalSchema,
  manager_extension: extensionSchema,
  sms_alerts: z.array(e164Schema).min(1),
});

const modesSchema = strict({
  /** The AI engine is unreachable: every call goes to humans. */
  'ai-down': strict({
    /** After hours, instead of the AI taking messages. */
    after_hours: humanTargetSchema,
    /** Replaces a ring group's AI fallback. */
    fallback: z.discriminatedUnion('action', [externalAction, voicemailAction]),
  }),
  /** 3CX is unreachable: calls go to on-call numbers through the Twilio backup trunk. */
  '3cx-down': strict({
    number: e164Schema,
    /** Per-location numbers; the others use `number`. */
    locations: z.record(idSchema, e164Schema).default({}),
  }),
});

const documentSchema = strict({
  version: z.literal(1, 'expected version: 1'),
  practice: z.string().min(1),
  /** Skills agents can have and numbers can ask for; declared once so a typo is an error. */
  skills: z.array(idSchema).min(1),
  locations: z.record(idSchema, locationSchema),
  agents: z.record(idSchema, agentSchema),
  mailboxes: z.record(idSchema, strict({ name: z.string().min(1), extension: extensionSchema })),
  ring_groups: z.record(idSchema, ringGroupSchema),
  /** The ring group every unknown DID and every "ask for a person" lands on. */
  operator: strict({
    ring_group: idSchema,
    /** Pressed during a conversation with the AI, this digit asks for a person at once. */
    digit: z.string().regex(/^[0-9*#]$/, 'expected one DTMF digit').default('0'),
  }),
  numbers: z.record(z.string().regex(E164, 'expected a DID in E.164 form such as "+17045550100"'), numberSchema),
  callers: callersSchema.default({
    blocked: [],
    blocked_cause: 'CALL_REJECTED',
    reject_anonymous: false,
    vip: [],
  }),
  after_hours: afterHoursSchema,
  emergency: emergencySchema,
  modes: modesSchema,
});

/**
 * Top-level keys starting with "x-" are ignored (as in docker-compose): a place for YAML anchors that other
 * sections reuse with `<<: *name`. Every other unknown key is an error.
 */
export const routingDocumentSchema = z.preprocess((input) => {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  return Object.fromEntries(Object.entries(input).filter(([key]) => !key.startsWith('x-')));
}, documentSchema);

/** The parsed, normalised document (defaults filled in, time ranges in minutes). */
export type RoutingConfig = z.output<typeof documentSchema>;
export type LocationConfig = RoutingConfig['locations'][string];
export type RingGroupConfig = RoutingConfig['ring_groups'][string];
export type NumberConfig = RoutingConfig['numbers'][string];
