// The process logger (pino). Patients' phone numbers must never reach a log line in clear: they show up as
// event headers (Caller-Caller-ID-Number, variable_sip_from_user …), in call records (fromNumber/toNumber),
// in URLs and in free-text messages. Three layers keep them out:
//   1. every logged object and child binding is walked; values under phone-ish keys are masked whole,
//      every other string has its long digit runs masked;
//   2. the message (after %s interpolation) gets the same digit-run masking;
//   3. `redact` removes secrets (passwords, tokens, Authorization headers) outright.
// Masking keeps the last 4 digits (`***4567`): enough for an operator to match a complaint to a call.
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Where lines go; stdout when omitted. Tests pass an in-memory stream. */
  destination?: DestinationStream | NodeJS.WritableStream;
}

const MASK = '***';
const MAX_DEPTH = 10;

// Keys whose whole value is a phone number (or a SIP user/URI that usually is one). Compared after
// lower-casing and removing separators, so `Caller-Caller-ID-Number`, `caller_id_number` and
// `callerIdNumber` are the same key.
const PHONE_KEYS = new Set([
  'from', 'to', 'fromnumber', 'tonumber', 'caller', 'callee', 'callerid', 'callernumber', 'calleenumber',
  'number', 'phone', 'phonenumber', 'mobile', 'msisdn', 'ani', 'dnis', 'did',
  'transfertarget', 'transfernumber', 'notificationnumber', 'smsto', 'smsfrom',
]);
const PHONE_KEY_PARTS =
  /(calleridnumber|calleridname|calleeidnumber|calleeidname|destinationnumber|callerani|fromuser|touser|requser|fromuri|touri|reqauri|contactuser|fromdisplay|todisplay|effectivecallerid|origcallerid|outboundcallerid|phonenumber|dialednumber|dialeduser|presenceid)/;

const normalizeKey = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/** True when a key names a value that is (or embeds) a phone number. */
export function isPhoneKey(key: string): boolean {
  const k = normalizeKey(key);
  return PHONE_KEYS.has(k) || PHONE_KEY_PARTS.test(k);
}

/** Masks a phone number to its last four digits: `+1 (555) 123-4567` → `***4567`. */
export function maskPhoneNumber(value: string): string {
  const digits = value.replace(/\D/g, '');
  return MASK + digits.slice(-4);
}

// UUIDs and ISO timestamps are kept as they are (call ids must stay greppable); any other run of 7+
// digits, optionally with one separator between digits (`555-123-4567`, `+1 555 123 4567`), is masked.
const DIGIT_RUNS =
  /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)|(\+?\d(?:[\s().-]?\d){6,})/gi;

/** Masks every phone-number-like digit run inside free text. */
export function maskDigitRuns(text: string): string {
  return text.replace(DIGIT_RUNS, (match, uuid: string | undefined, iso: string | undefined) =>
    uuid !== undefined || iso !== undefined ? match : maskPhoneNumber(match),
  );
}

function maskPhoneValue(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return maskPhoneNumber(value);
  if (typeof value === 'number' || typeof value === 'bigint') return maskPhoneNumber(String(value));
  if (Array.isArray(value)) return value.map((item) => maskPhoneValue(item, seen, depth + 1));
  return maskValue(value, seen, depth);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function maskEntries(value: object, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = isPhoneKey(key) ? maskPhoneValue(inner, seen, depth + 1) : maskValue(inner, seen, depth + 1);
  }
  return out;
}

/** Returns a copy of `value` with phone numbers masked; never mutates what the caller logged. */
export function maskValue(value: unknown, seen: WeakSet<object> = new WeakSet(), depth = 0): unknown {
  if (typeof value === 'string') return maskDigitRuns(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => maskValue(item, seen, depth + 1));
    // An Error's message, stack and extra fields can all carry a number.
    if (value instanceof Error) return maskEntries(stdSerializers.err(value), seen, depth);
    if (value instanceof Map) return maskEntries(Object.fromEntries(value), seen, depth);
    if (!isPlainObject(value)) return value; // Dates, Buffers, class instances: left to pino.
    return maskEntries(value, seen, depth);
  } finally {
    seen.delete(value);
  }
}

const REDACT_PATHS = [
  'password', '*.password', 'eslPassword', '*.eslPassword', 'apiToken', '*.apiToken', 'token', '*.token',
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization',
  'req.headers.authorization', 'req.headers.cookie',
];

export function createLogger(options: CreateLoggerOptions): Logger {
  const stream =
    options.format === 'pretty'
      ? // Colours only on a terminal (pino-pretty detects it); never in a captured stream.
        pretty({ destination: options.destination ?? 1, sync: true, ...(options.destination ? { colorize: false } : {}) })
      : (options.destination ?? pino.destination({ dest: 1, sync: true }));
  const logger = pino(
    {
      level: options.level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: {
        log: (obj) => maskValue(obj) as Record<string, unknown>,
        bindings: (bindings) => maskValue(bindings) as Record<string, unknown>,
      },
      serializers: {
        // formatters.log already turned Errors into masked plain objects; this covers `err` passed in a
        // child binding or anything that skipped the walk.
        err: (err: unknown) => maskValue(err),
        msg: (msg: unknown) => (typeof msg === 'string' ? maskDigitRuns(msg) : msg),
      },
    },
    stream as DestinationStream,
  );
  // pino applies `formatters.bindings` to the root only, never to child() bindings, so children mask
  // their bindings here. Children inherit this property from the root (they are Object.create(parent)).
  const baseChild = logger.child;
  logger.child = function maskedChild(this: Logger, bindings: Record<string, unknown>, childOptions?: object) {
    return baseChild.call(this, maskValue(bindings) as Record<string, unknown>, childOptions);
  } as Logger['child'];
  return logger;
}
