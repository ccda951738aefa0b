// Outgoing webhooks end to end: a call on the real controller leaves signed-to-be outbox rows, and the
// `webhooks` processor delivers them through a real BullMQ queue (real Redis) to a local HTTP receiver:
// verified signatures, a retry after a 500 that then succeeds exactly once, a 410 that is never retried,
// the same idempotency key on every attempt.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webhookOutboxRows } from '../../src/app/webhook-publisher.ts';
import type { Database } from '../../src/db/index.ts';
import { DrizzleOutboxStore, type PendingJob } from '../../src/db/outbox-store.ts';
import { signWebhook, verifyWebhookSignature, webhookDeliveryProcessor, WEBHOOKS_QUEUE } from '../../src/queue/webhook-delivery.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const REDIS = { host: '127.0.0.1', port: 6379 };
const postgres = driverFixtures().find((f) => f.kind === 'postgres')!;

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver answering each request with the next status of `statuses` (the last one repeats). */
async function startReceiver(statuses: number[]): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.statusCode = statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200;
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/callbridge`, received, server };
}

describe('outgoing webhooks', () => {
  let database: Database;
  let harness: Harness | undefined;
  const prefix = `cbtest-webhooks-${randomBytes(4).toString('hex')}`;
  const queue = new Queue(WEBHOOKS_QUEUE, { connection: REDIS, prefix });
  const queueEvents = new QueueEvents(WEBHOOKS_QUEUE, { connection: REDIS, prefix });
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    database = await postgres.setup();
    await queueEvents.waitUntilReady();
  });
  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queueEvents.close();
    await queue.close();
    await postgres.teardown();
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** The outbox relay's part, done by hand: each row becomes a job under its job id. */
  const relay = async (rows: readonly PendingJob[]) => {
    for (const row of rows) {
      await queue.add(row.jobName, row.payload, { jobId: row.jobId, attempts: 4, backoff: { type: 'fixed', delay: 50 }, removeOnComplete: false, removeOnFail: false });
    }
  };
  const startWorker = () => {
    const process = webhookDeliveryProcessor({ secret: SECRET, timeoutMs: 2000 });
    const worker = new Worker(WEBHOOKS_QUEUE, (job) => process(job), { connection: REDIS, prefix, concurrency: 1 });
    closers.push(() => worker.close());
    return worker;
  };

  it('a call leaves one CALL_STARTED and one CALL_ENDED row per URL, with the documented PHI-free body', async () => {
    harness = await startHarness({
      env: {
        WEBHOOK_URLS: 'https://one.example/hook, https://two.example/hook',
        WEBHOOK_SECRET: SECRET,
      },
      database,
    });
    const caller = harness.simulator.placeCall({ from: '+15556660001', to: '+15559870100', callerHangsUpAfterMs: 2000 });
    await caller.ended;
    const outbox = new DrizzleOutboxStore(database.db);
    await eventually(async () => (await outbox.pending(50)).some((r) => r.jobName === 'CALL_ENDED'), 'the CALL_ENDED rows');
    const rows = (await outbox.pending(50)).filter((r) => r.queue === WEBHOOKS_QUEUE);
    expect(rows.map((r) => r.jobName).sort()).toEqual(['CALL_ENDED', 'CALL_ENDED', 'CALL_STARTED', 'CALL_STARTED']);
    const ended = rows.filter((r) => r.jobName === 'CALL_ENDED');
    expect(new Set(ended.map((r) => r.payload.url))).toEqual(new Set(['https://one.example/hook', 'https://two.example/hook']));
    // One event, two deliveries: same event id and body, a job id per URL.
    expect(ended[0]!.payload.eventId).toBe(ended[1]!.payload.eventId);
    expect(ended[0]!.payload.body).toBe(ended[1]!.payload.body);
    expect(ended[0]!.jobId).not.toBe(ended[1]!.jobId);
    expect(ended[0]!.jobId.startsWith(`${String(ended[0]!.payload.eventId)}.`)).toBe(true);
    const body = JSON.parse(ended[0]!.payload.body as string) as Record<string, unknown>;
    expect(body).toMatchObject({ id: ended[0]!.payload.eventId, type: 'CALL_ENDED', callId: expect.any(String) });
    expect(new Date(body.occurredAt as string).toISOString()).toBe(body.occurredAt);
    expect(body.data).toMatchObject({ outcome: 'completed', hangupCause: 'NORMAL_CLEARING', direction: 'inbound', location: 'clinic', durationMs: expect.any(Number) });
    for (const row of rows) {
      expect(row.payload.body).not.toContain('6660001');
      expect(row.payload.body).not.toContain('9870100');
    }
  });

  it('retries after a 500, then delivers exactly once, signed, with the same idempotency key each time', async () => {
    const receiver = await startReceiver([500, 200]);
    closers.push(() => new Promise((resolve) => receiver.server.close(resolve)));
    const event = { id: crypto.randomUUID(), type: 'CALL_STARTED' as const, occurredAt: new Date(), callId: crypto.randomUUID(), data: { direction: 'inbound', location: 'clinic', target: 'ai_agent' } };
    const rows = webhookOutboxRows(event, [receiver.url]);
    await relay(rows.map((r, i) => ({ ...r, id: i, attempts: 0 })));
    // Relaying the same row again (a relay that crashed before marking it) adds nothing.
    await relay(rows.map((r, i) => ({ ...r, id: i, attempts: 0 })));
    startWorker();
    const job = await queue.getJob(rows[0]!.jobId);
    await job!.waitUntilFinished(queueEvents, 10_000);

    expect(receiver.received).toHaveLength(2);
    const keys = receiver.received.map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([event.id, event.id]);
    expect(receiver.received.map((r) => r.headers['x-callbridge-event-id'])).toEqual([event.id, event.id]);
    for (const request of receiver.received) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.body).toBe(rows[0]!.payload.body);
      expect(verifyWebhookSignature({ secret: SECRET, body: request.body, header: request.headers['x-callbridge-signature'] as string })).toBe(true);
      expect(verifyWebhookSignature({ secret: 'another-secret-0123456789', body: request.body, header: request.headers['x-callbridge-signature'] as string })).toBe(false);
    }
    const finished = await queue.getJob(rows[0]!.jobId);
    expect(finished!.attemptsMade).toBe(2);
    expect(await finished!.getState()).toBe('completed');
  });

  it('gives up at once on a 410 Gone, with the reason, and never retries it', async () => {
    const receiver = await startReceiver([410]);
    closers.push(() => new Promise((resolve) => receiver.server.close(resolve)));
    const event = { id: crypto.randomUUID(), type: 'EMERGENCY_ALERT' as const, occurredAt: new Date(), callId: crypto.randomUUID(), data: { trigger: 'phrase', msToBridgeCommand: 3 } };
    const rows = webhookOutboxRows(event, [receiver.url]);
    await relay(rows.map((r, i) => ({ ...r, id: i, attempts: 0 })));
    startWorker();
    const job = await queue.getJob(rows[0]!.jobId);
    await expect(job!.waitUntilFinished(queueEvents, 10_000)).rejects.toThrow(/410/);
    const failed = await queue.getJob(rows[0]!.jobId);
    expect(await failed!.getState()).toBe('failed');
    expect(failed!.failedReason).toMatch(/HTTP 410/);
    // Final after one attempt although more were allowed: a retry would have left it delayed, not failed.
    expect(failed!.opts.attempts).toBeGreaterThan(1);
    expect(failed!.attemptsMade).toBe(1);
    expect(receiver.received).toHaveLength(1);
  });

  it('treats a receiver that does not answer in time as retryable, and one that answers as done', async () => {
    const process = webhookDeliveryProcessor({ secret: SECRET, timeoutMs: 100 });
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    });
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    // In process, without Redis: the worker may call the processor directly.
    const error = await process({ data: { url, eventId: 'e1', body: '{}' }, attemptsMade: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEBHOOK_REJECTED', retryable: true });
    expect(String((error as Error).message)).toMatch(/no answer within 100 ms/);
  });
});

describe('webhook signatures', () => {
  const body = '{"id":"x"}';
  const t = 1_800_000_000;

  it('verifies what signWebhook signs, within five minutes, and nothing altered', () => {
    const header = signWebhook(SECRET, body, t);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature({ secret: SECRET, body, header, nowSeconds: t + 299 })).toBe(true);
    expect(verifyWebhookSignature({ secret: SECRET, body, header, nowSeconds: t + 301 })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, body: '{"id":"y"}', header, nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, body, header: header.replace('t=1800000000', 't=1800000001'), nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, body, header: undefined, nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature({ secret: SECRET, body, header: 'garbage', nowSeconds: t })).toBe(false);
    // A sender rotating its secret may sign with both.
    const rotating = `${header},v1=${signWebhook('old-secret-0123456789', body, t).split('v1=')[1]}`;
    expect(verifyWebhookSignature({ secret: 'old-secret-0123456789', body, header: rotating, nowSeconds: t })).toBe(true);
  });
});
