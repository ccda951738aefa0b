// Text messages through Twilio's Messages API with the official client (`twilio` 6.x), behind the SmsSender
// port. `send()` never rejects: 429, 5xx and network failures are retried with bounded exponential backoff,
// anything else (bad number, wrong credentials) fails at once, and the result says how many attempts were
// made and why the last one failed.
//
// Base URL: the client builds every Messages URL from `client.api.baseUrl` (the REST domain's public base
// URL, https://api.twilio.com by default); setting it is how `apiUrl` points the real client at a local
// peer in tests and the demo.
//
// Privacy: the number is logged as its last four digits and the body never; Twilio's error messages quote
// the number ("The 'To' number +1… is not a valid phone number"), so only their status and code are kept.
import { setTimeout as sleep } from 'node:timers/promises';
import twilio from 'twilio';
import type { EventSink, SmsMessage, SmsResult, SmsSender } from '../core/notify-ports.ts';

export const TWILIO_DEFAULT_API_URL = 'https://api.twilio.com';

export interface SmsLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface TwilioSmsOptions {
  accountSid: string;
  authToken: string;
  /** E.164 sender (TWILIO_PHONE_NUMBER); either this or `messagingServiceSid`. */
  from?: string;
  /** A Messaging Service (MG…) that picks the sender; used instead of `from` when set. */
  messagingServiceSid?: string;
  /** Scheme, host and optional port of the REST API; default https://api.twilio.com. */
  apiUrl?: string;
  /** Where Twilio posts delivery status (our /v1/webhooks/twilio/status, as the public URL Twilio sees). */
  statusCallbackUrl?: string;
  /** Attempts per message including the first (default 4). */
  maxAttempts?: number;
  /** Wait before the first retry; doubles each time up to `maxBackoffMs` (defaults 500 ms and 8 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  logger?: SmsLogger;
  /** Gets SMS_SENT / SMS_FAILED with the masked number, purpose, attempts (the audit trail). */
  events?: EventSink;
}

/** `+17045550123` → `***0123`: enough to tell numbers apart in a log, not enough to call anyone. */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, '');
  return digits.length <= 4 ? '***' : `***${digits.slice(-4)}`;
}

const silent: SmsLogger = { info: () => undefined, warn: () => undefined };

interface AttemptFailure {
  retryable: boolean;
  /** Without the number or the body. */
  error: string;
}

export class TwilioSms implements SmsSender {
  readonly #client: twilio.Twilio;
  readonly #sender: { from: string } | { messagingServiceSid: string };
  readonly #statusCallback: string | undefined;
  readonly #maxAttempts: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #log: SmsLogger;
  readonly #events: EventSink | undefined;
  // Aborted by close(): sends waiting to retry stop waiting and report the failure they have.
  readonly #closed = new AbortController();

  constructor(options: TwilioSmsOptions) {
    if (options.messagingServiceSid) this.#sender = { messagingServiceSid: options.messagingServiceSid };
    else if (options.from) this.#sender = { from: options.from };
    else throw new Error('TwilioSms needs a from number or a messaging service SID');
    this.#client = twilio(options.accountSid, options.authToken, {
      timeout: options.timeoutMs ?? 10_000,
      // Our own retry loop decides; the client's would retry 429s only and hide the attempt count.
      autoRetry: false,
      // The client falls back to TWILIO_LOG_LEVEL / TWILIO_EDGE / TWILIO_REGION from the environment: 'debug'
      // would print request bodies (numbers) to stdout, and an edge or region would rewrite the host of
      // `apiUrl`. Configuration is ours alone, so these are pinned ('' counts as set and means none).
      logLevel: 'info',
      edge: '',
      region: '',
    });
    this.#client.api.baseUrl = options.apiUrl ?? TWILIO_DEFAULT_API_URL;
    this.#statusCallback = options.statusCallbackUrl;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 8_000;
    this.#log = options.logger ?? silent;
    this.#events = options.events;
  }

  async send(message: SmsMessage): Promise<SmsResult> {
    const fields = { to: maskNumber(message.to), purpose: message.purpose, ...(message.callId ? { callId: message.callId } : {}) };
    let failure: AttemptFailure = { retryable: false, error: 'not sent' };
    let attempts = 0;
    while (attempts < this.#maxAttempts && !this.#closed.signal.aborted) {
      attempts += 1;
      try {
        const sent = await this.#client.messages.create({
          to: message.to,
          body: message.body,
          ...this.#sender,
          ...(this.#statusCallback ? { statusCallback: this.#statusCallback } : {}),
        });
        this.#log.info({ ...fields, sid: sent.sid, attempts }, 'sms sent');
        this.#publish('SMS_SENT', message, { ...fields, sid: sent.sid, attempts });
        return { ok: true, sid: sent.sid, attempts };
      } catch (error) {
        failure = describeFailure(error);
        const last = !failure.retryable || attempts >= this.#maxAttempts;
        this.#log.warn({ ...fields, attempt: attempts, error: failure.error, willRetry: !last }, 'sms attempt failed');
        if (last) break;
        await this.#backoff(attempts);
      }
    }
    if (this.#closed.signal.aborted && failure.retryable) failure = { ...failure, error: `${failure.error}; sender closed` };
    this.#log.warn({ ...fields, attempts, error: failure.error }, 'sms not sent');
    this.#publish('SMS_FAILED', message, { ...fields, attempts, error: failure.error });
    return { ok: false, attempts, error: failure.error };
  }

  /** Stops retries in progress (they return ok: false at once). Idempotent. */
  close(): void {
    this.#closed.abort();
  }

  async #backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** (attempt - 1));
    // Half fixed, half random: senders that failed together do not all come back at the same moment.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    await sleep(delay, undefined, { signal: this.#closed.signal }).catch(() => undefined);
  }

  #publish(type: 'SMS_SENT' | 'SMS_FAILED', message: SmsMessage, data: Record<string, unknown>): void {
    this.#events?.publish({ type, at: new Date(), ...(message.callId ? { callId: message.callId } : {}), data });
  }
}

// Twilio answers errors as RestException (status, Twilio code); transport failures come from axios with a
// system code (ECONNREFUSED, ECONNRESET, ECONNABORTED on timeout). A timeout may hide a message Twilio did
// accept, so a retry can duplicate it: a second confirmation beats none.
function describeFailure(error: unknown): AttemptFailure {
  if (error instanceof twilio.RestException) {
    const retryable = error.status === 429 || error.status >= 500;
    const code = typeof error.code === 'number' ? error.code : undefined;
    return { retryable, error: `twilio HTTP ${error.status}${code === undefined ? '' : ` code ${code}`}` };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return { retryable: true, error: `network error ${code}` };
  return { retryable: false, error: 'twilio client error' };
}
