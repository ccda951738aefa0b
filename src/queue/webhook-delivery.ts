// Delivers one outgoing webhook (a job of the `webhooks` queue: { url, eventId, body }). The body was fixed
// when the event happened, so every attempt sends the same bytes under the same Idempotency-Key; only the
// signature's timestamp is fresh, so a receiver's replay window holds for late retries too.
//
// Signature: X-Callbridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, `${t}.${body}`)>.
// A 2xx answer is done; 400/401/403/404/410/422 mean this receiver will never take it (failed for good, with
// the reason); any other answer, a network error or a timeout is thrown so BullMQ retries with backoff.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { WebhookRejectedError } from '../core/errors.ts';
import type { JobContext } from './jobs.ts';

export const WEBHOOKS_QUEUE = 'webhooks';
export const SIGNATURE_HEADER = 'x-callbridge-signature';

export interface WebhookJobData {
  url: string;
  eventId: string;
  /** The JSON body, exactly as signed and sent. */
  body: string;
}

export interface WebhookDeliveryOptions {
  secret: string;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Unix milliseconds (tests). */
  now?: () => number;
  /** Told about each attempt's outcome (logs, metrics); never the body. */
  onAttempt?: (attempt: { url: string; eventId: string; attempt: number; status: number | undefined; ok: boolean }) => void;
}

const PERMANENT = new Set([400, 401, 403, 404, 410, 422]);
const DEFAULT_TIMEOUT_MS = 10_000;

const jobData = z.object({
  url: z.url({ protocol: /^https?$/ }),
  eventId: z.string().min(1).max(200),
  body: z.string(),
});

/** `t=<t>,v1=<hex>` for the X-Callbridge-Signature header. */
export function signWebhook(secret: string, body: string, t: number): string {
  return `t=${t},v1=${hmacHex(secret, `${t}.${body}`)}`;
}

/**
 * Checks an X-Callbridge-Signature header the way a receiver should: the HMAC in constant time, and the
 * timestamp within `toleranceSeconds` of now (default 300), so a captured request cannot be replayed later.
 */
export function verifyWebhookSignature(options: {
  secret: string;
  body: string;
  header: string | undefined;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): boolean {
  const parts = new Map<string, string[]>();
  for (const item of (options.header ?? '').split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq).trim();
    parts.set(key, [...(parts.get(key) ?? []), item.slice(eq + 1).trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(t)) return false;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(hmacHex(options.secret, `${t}.${options.body}`), 'hex');
  // Several v1 values are allowed (a sender rotating its secret signs with both).
  return (parts.get('v1') ?? []).some((candidate) => {
    const offered = /^[0-9a-f]{64}$/i.test(candidate) ? Buffer.from(candidate, 'hex') : undefined;
    return offered !== undefined && timingSafeEqual(offered, expected);
  });
}

/** The `webhooks` queue's processor: a plain function so the worker can run it in-process without Redis too. */
export function webhookDeliveryProcessor(options: WebhookDeliveryOptions): (job: Pick<JobContext, 'data' | 'attemptsMade'>) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  return async (job) => {
    const parsed = jobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed webhook job: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    const { url, eventId, body } = parsed.data;
    const t = Math.floor(now() / 1000);
    const report = (status: number | undefined, ok: boolean): void =>
      options.onAttempt?.({ url, eventId, attempt: job.attemptsMade + 1, status, ok });
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'callbridge-webhooks',
          'x-callbridge-event-id': eventId,
          'idempotency-key': eventId,
          [SIGNATURE_HEADER]: signWebhook(options.secret, body, t),
        },
        body,
        // A redirect would send the signed body somewhere nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      report(undefined, false);
      throw new WebhookRejectedError(`webhook not delivered: ${(error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message}`, {
        retryable: true,
        cause: error,
      });
    }
    // The answer's body is not needed; reading none of it would keep the connection busy.
    await response.body?.cancel().catch(() => undefined);
    const { status } = response;
    report(status, status >= 200 && status < 300);
    if (status >= 200 && status < 300) return;
    if (PERMANENT.has(status)) throw new UnrecoverableError(`webhook refused by the receiver: HTTP ${status}`);
    throw new WebhookRejectedError(`webhook not accepted: HTTP ${status}`, { retryable: true, status });
  };
}

function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}
