// Outgoing webhooks: the call events receivers subscribe to (CALL_STARTED, CALL_ENDED, CALL_TRANSFERRED,
// EMERGENCY_ALERT; CALL_TRANSCRIBED comes from the post-call worker through webhookOutboxRows) become one
// outbox row per configured URL. The relay moves the rows to the `webhooks` queue and
// queue/webhook-delivery.ts signs and posts them, retrying; the job id (event id + URL hash) makes every
// step idempotent. The body is built here, once, from an allowlist of fields per event type, so nothing
// an event may carry for the log or the dashboard reaches a third party by accident.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { SystemEvent } from '../core/notify-ports.ts';
import type { OutboxJob } from '../db/outbox-store.ts';
import { WEBHOOKS_QUEUE } from '../queue/webhook-delivery.ts';

const WEBHOOK_EVENT_TYPES = ['CALL_STARTED', 'CALL_ENDED', 'CALL_TRANSFERRED', 'EMERGENCY_ALERT', 'CALL_TRANSCRIBED'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The documented data fields of each event (docs/webhooks.md); anything else is left out. */
const DATA_FIELDS: Record<WebhookEventType, readonly string[]> = {
  CALL_STARTED: ['direction', 'location', 'target'],
  CALL_ENDED: ['outcome', 'hangupCause', 'direction', 'location', 'durationMs', 'talkMs', 'mos', 'poorQuality'],
  CALL_TRANSFERRED: ['outcome', 'ms', 'emergency'],
  EMERGENCY_ALERT: ['trigger', 'msToBridgeCommand'],
  CALL_TRANSCRIBED: ['recordingId', 'language', 'wordCount', 'durationMs', 'talkMs', 'silenceMs'],
};

export interface WebhookEvent {
  /** A uuid; give the same id for the same fact (a retried job) so receivers see one event. */
  id: string;
  type: WebhookEventType;
  occurredAt: Date;
  callId: string | null;
  data: Record<string, unknown>;
}

export function isWebhookEventType(type: string): type is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);
}

/** The JSON body receivers get (the same bytes on every attempt). */
function webhookBody(event: WebhookEvent): string {
  const data: Record<string, string | number | boolean | null> = {};
  for (const field of DATA_FIELDS[event.type]) {
    const value = event.data[field];
    if (value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) {
      data[field] = value;
    }
  }
  return JSON.stringify({ id: event.id, type: event.type, occurredAt: event.occurredAt.toISOString(), callId: event.callId, data });
}

/** One `webhooks` outbox row per URL; none without URLs. */
export function webhookOutboxRows(event: WebhookEvent, urls: readonly string[]): OutboxJob[] {
  const body = webhookBody(event);
  return urls.map((url) => ({
    queue: WEBHOOKS_QUEUE,
    jobName: event.type,
    jobId: `${event.id}.${createHash('sha256').update(url).digest('hex').slice(0, 12)}`,
    payload: { url, eventId: event.id, body },
  }));
}

export interface WebhookPublisherOptions {
  subscribe: (listener: (event: SystemEvent) => void) => () => void;
  outbox: { enqueue(jobs: readonly OutboxJob[]): Promise<void> };
  urls: readonly string[];
  logger: Logger;
  /** Waits between attempts to store an event's rows (the database may be restarting). */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS_MS = [200, 1000, 5000];

export class WebhookPublisher {
  readonly #o: WebhookPublisherOptions;
  readonly #unsubscribe: () => void;
  readonly #writing = new Set<Promise<void>>();

  constructor(options: WebhookPublisherOptions) {
    this.#o = options;
    this.#unsubscribe = options.urls.length === 0 ? () => undefined : options.subscribe((event) => this.#publish(event));
  }

  /** Stops listening and waits for the rows being written. */
  async close(): Promise<void> {
    this.#unsubscribe();
    await Promise.all([...this.#writing]);
  }

  #publish(event: SystemEvent): void {
    // The worker sends CALL_TRANSCRIBED itself, in the transaction that stores the transcript.
    if (!isWebhookEventType(event.type) || event.type === 'CALL_TRANSCRIBED') return;
    const rows = webhookOutboxRows({ id: randomUUID(), type: event.type, occurredAt: event.at, callId: event.callId ?? null, data: event.data }, this.#o.urls);
    const writing = this.#store(rows, event).finally(() => this.#writing.delete(writing));
    this.#writing.add(writing);
  }

  async #store(rows: OutboxJob[], event: SystemEvent): Promise<void> {
    const delays = this.#o.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#o.outbox.enqueue(rows);
        return;
      } catch (error) {
        const delay = delays[attempt];
        if (delay === undefined) {
          this.#o.logger.error({ err: error, event: event.type, callId: event.callId }, 'webhook event lost: the outbox could not be written');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
