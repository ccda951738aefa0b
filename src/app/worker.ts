// `callbridge worker` / `npm run worker`: the post-call worker. It runs BullMQ workers for the post-call
// (transcription), webhooks and maintenance (retention, scheduled daily) queues, and an outbox relay of its
// own, since its jobs write outbox rows too (CALL_TRANSCRIBED webhooks). Any number of workers can run
// against one Redis; job ids keep every job single.
// SIGTERM/SIGINT: stop taking jobs, let running ones finish within a grace period, then close. A job still
// running at the deadline is abandoned: its lock lapses and BullMQ hands it to another worker (or to this
// one after a restart), which resumes it: the transcription job waits for the same Speechmatics job.
import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.ts';
import { migrate, openDatabase, type Database } from '../db/index.ts';
import { QueueWorkers, type WorkerEvent } from '../queue/bullmq-workers.ts';
import type { Processor } from '../queue/jobs.ts';
import { WEBHOOKS_QUEUE } from '../queue/webhook-delivery.ts';
import type { Config } from './config.ts';
import { createLogger } from './logger.ts';
import { buildProcessors, MAINTENANCE_QUEUE, startOutboxRelay, type PostCallTuning } from './post-call.ts';
import { POST_CALL_QUEUE } from './recording-vault.ts';
import { RETENTION_SCHEDULE } from './retention.ts';

/** Docker stops a container 10 s after SIGTERM: finish within that. */
const DEFAULT_GRACE_MS = 8000;
/** Webhook deliveries wait on receivers, not on CPU: more of them at once. */
const WEBHOOK_CONCURRENCY = 8;

export interface WorkerTuning extends PostCallTuning {
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  graceMs?: number;
}

export interface RunningWorker {
  readonly counts: { completed: number; failed: number; retried: number };
  /** Stops taking jobs, waits up to the grace period for running ones, closes everything. Idempotent. */
  close(): Promise<void>;
}

export async function startWorker(config: Config, logger: Logger, options: { tuning?: WorkerTuning; database?: Database } = {}): Promise<RunningWorker> {
  const redisUrl = config.redis.url;
  if (redisUrl === undefined) {
    throw new ConfigError(['REDIS_URL: is required for the worker (without Redis the controller runs post-call jobs itself)']);
  }
  const tuning = options.tuning ?? {};
  const ownsDatabase = options.database === undefined;
  const database =
    options.database ??
    (await openDatabase({
      url: config.database.url,
      pgliteDataDir: config.database.pgliteDataDir,
      onIdleError: (error) => logger.warn({ err: error }, 'idle database connection failed'),
    }));
  const closers: (() => Promise<unknown>)[] = ownsDatabase ? [() => database.close()] : [];
  try {
    await migrate(database);
    const queue = await startOutboxRelay({ config, database, logger, tuning });
    closers.unshift(() => queue.close());
    if (config.recordingKey === undefined) logger.warn('CALL_RECORDING_ENCRYPTION_KEY not set: recordings are neither transcribed nor retained by this worker');
    const processors = await buildProcessors({ config, database, logger, kick: queue.kick, tuning });
    const counts = { completed: 0, failed: 0, retried: 0 };
    const queues: Record<string, { processor: Processor; concurrency: number }> = {};
    const add = (name: string, processor: Processor | undefined, concurrency: number): void => {
      if (processor !== undefined) queues[name] = { processor, concurrency };
    };
    add(POST_CALL_QUEUE, processors[POST_CALL_QUEUE], config.queue.concurrency);
    add(WEBHOOKS_QUEUE, processors[WEBHOOKS_QUEUE], WEBHOOK_CONCURRENCY);
    add(MAINTENANCE_QUEUE, processors[MAINTENANCE_QUEUE], 1);
    const workers = new QueueWorkers({
      redisUrl,
      prefix: tuning.prefix ?? config.queue.prefix,
      queues,
      ...(tuning.lockDurationMs === undefined ? {} : { lockDurationMs: tuning.lockDurationMs }),
      ...(tuning.stalledIntervalMs === undefined ? {} : { stalledIntervalMs: tuning.stalledIntervalMs }),
      repeatable:
        queues[MAINTENANCE_QUEUE] === undefined
          ? []
          : [{ queue: MAINTENANCE_QUEUE, id: RETENTION_SCHEDULE.jobName, jobName: RETENTION_SCHEDULE.jobName, everyMs: RETENTION_SCHEDULE.every }],
      onEvent: (event) => logEvent(logger, event, counts),
    });
    closers.unshift(async () => {
      const { cutOff } = await workers.close(tuning.graceMs ?? DEFAULT_GRACE_MS);
      if (cutOff) logger.warn('a job was still running at the end of the grace period: it runs again once its lock lapses');
    });
    await workers.ready();
    logger.info({ queues: Object.keys(queues), concurrency: config.queue.concurrency }, 'worker ready');
    let closing: Promise<void> | undefined;
    return {
      counts,
      close: () => {
        closing ??= (async () => {
          for (const close of closers) await close().catch((error: unknown) => logger.warn({ err: error }, 'worker shutdown step failed'));
          logger.info(counts, 'worker stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}

/** Runs the worker until SIGTERM or SIGINT, then shuts down gracefully. */
export async function runWorker(config: Config, options: { tuning?: WorkerTuning } = {}): Promise<void> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const worker = await startWorker(config, logger, options);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'stopping: no new jobs; running ones get the grace period to finish');
      worker.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Ids and outcomes only: job data carries no PHI, but nothing of it is logged anyway. */
function logEvent(logger: Logger, event: WorkerEvent, counts: RunningWorker['counts']): void {
  switch (event.kind) {
    case 'active':
      logger.info({ queue: event.queue, jobId: event.jobId, job: event.name, attempt: event.attempt }, 'job started');
      return;
    case 'progress':
      logger.info({ queue: event.queue, jobId: event.jobId, progress: event.progress }, 'job progress');
      return;
    case 'completed':
      counts.completed += 1;
      logger.info({ queue: event.queue, jobId: event.jobId, job: event.name, ...counts }, 'job completed');
      return;
    case 'failed':
      if (event.willRetry) counts.retried += 1;
      else counts.failed += 1;
      logger.warn({ queue: event.queue, jobId: event.jobId, job: event.name, attempt: event.attempt, willRetry: event.willRetry, reason: event.reason, ...counts }, event.willRetry ? 'job attempt failed; retrying' : 'job failed');
      return;
    case 'stalled':
      logger.warn({ queue: event.queue, jobId: event.jobId }, 'job stalled (its worker stopped renewing the lock): handed out again');
      return;
    case 'error':
      logger.warn({ queue: event.queue, err: event.error }, 'queue worker error');
      return;
  }
}
