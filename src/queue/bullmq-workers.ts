// BullMQ Workers for our queues, one per queue, each running a plain processor (the same function the
// in-process runner calls). Shutdown: stop taking jobs, give running ones a grace period to finish, then
// close anyway; a job cut off that way keeps its lock only until the lock lapses, after which BullMQ's
// stalled-job check hands it to another worker (or to this one when it comes back), so it is never lost.
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Processor } from './jobs.ts';

export interface QueueWorkersOptions {
  redisUrl: string;
  prefix: string;
  /** Queue name → its processor and how many of its jobs run at once. */
  queues: Readonly<Record<string, { processor: Processor; concurrency: number }>>;
  /** How long a job's lock lasts without renewal (default 30 000 ms) and how often stalled jobs are looked for. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Jobs BullMQ adds on a schedule (one scheduler per id however many workers start). */
  repeatable?: readonly { queue: string; id: string; jobName: string; everyMs: number }[];
  onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { kind: 'active'; queue: string; jobId: string; name: string; attempt: number }
  | { kind: 'progress'; queue: string; jobId: string; progress: number }
  | { kind: 'completed'; queue: string; jobId: string; name: string }
  | { kind: 'failed'; queue: string; jobId: string; name: string; attempt: number; willRetry: boolean; reason: string }
  | { kind: 'stalled'; queue: string; jobId: string }
  | { kind: 'error'; queue: string; error: Error };

export class QueueWorkers {
  readonly #workers: Worker[] = [];
  readonly #connection: Redis;
  readonly #o: QueueWorkersOptions;
  #closing: Promise<{ cutOff: boolean }> | undefined;

  constructor(options: QueueWorkersOptions) {
    // Workers wait on Redis rather than fail: BullMQ requires maxRetriesPerRequest null for them.
    this.#o = options;
    this.#connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
    this.#connection.on('error', () => undefined);
    const emit = options.onEvent ?? (() => undefined);
    for (const [queue, { processor, concurrency }] of Object.entries(options.queues)) {
      const worker = new Worker(queue, (job: Job) => processor(job), {
        connection: this.#connection,
        prefix: options.prefix,
        concurrency,
        ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
        ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
      });
      const id = (job: Job | undefined): string => job?.id ?? '?';
      worker.on('active', (job) => emit({ kind: 'active', queue, jobId: id(job), name: job.name, attempt: job.attemptsMade + 1 }));
      worker.on('progress', (job, progress) => {
        if (typeof progress === 'number') emit({ kind: 'progress', queue, jobId: id(job), progress });
      });
      worker.on('completed', (job) => emit({ kind: 'completed', queue, jobId: id(job), name: job.name }));
      worker.on('failed', (job, error) => {
        const attempts = job?.opts.attempts ?? 1;
        const willRetry = job !== undefined && error.name !== 'UnrecoverableError' && job.attemptsMade < attempts;
        emit({ kind: 'failed', queue, jobId: id(job), name: job?.name ?? '?', attempt: job?.attemptsMade ?? 0, willRetry, reason: error.message });
      });
      worker.on('stalled', (jobId) => emit({ kind: 'stalled', queue, jobId }));
      worker.on('error', (error) => emit({ kind: 'error', queue, error }));
      this.#workers.push(worker);
    }
  }

  /** Resolves once every worker is connected and taking jobs, and the schedules are in place. */
  async ready(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.waitUntilReady()));
    for (const r of this.#o.repeatable ?? []) {
      const queue = new Queue(r.queue, { connection: this.#connection, prefix: this.#o.prefix });
      try {
        await queue.upsertJobScheduler(r.id, { every: r.everyMs }, { name: r.jobName, opts: { removeOnComplete: { count: 30 }, removeOnFail: { count: 30 } } });
      } finally {
        await queue.close();
      }
    }
  }

  /**
   * Stops taking jobs, lets running ones finish within `graceMs`, then closes. `cutOff` is true when a job
   * was still running at the deadline (it is picked up again once its lock lapses). Idempotent.
   */
  close(graceMs: number): Promise<{ cutOff: boolean }> {
    this.#closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
      const finished = Promise.all(this.#workers.map((w) => w.pause(false))).then(() => 'done' as const);
      const outcome = await Promise.race([finished, deadline]).finally(() => clearTimeout(timer));
      await Promise.all(this.#workers.map((w) => w.close(outcome === 'late').catch(() => undefined)));
      if (this.#connection.status === 'ready') await this.#connection.quit().catch(() => this.#connection.disconnect());
      else this.#connection.disconnect();
      return { cutOff: outcome === 'late' };
    })();
    return this.#closing;
  }
}
