// What an operator does with jobs (`callbridge jobs list|retry`): see them by state with their attempts,
// progress and failure reason, and send failed ones back to the queue with a fresh set of attempts.
// The connection fails fast: a command must tell the operator Redis is down, not hang.
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueUnavailableError } from '../core/errors.ts';

export const JOB_STATES = ['failed', 'waiting', 'active', 'delayed', 'completed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface JobRow {
  queue: string;
  id: string;
  name: string;
  state: JobState;
  attempts: number;
  failedReason: string | null;
  progress: number | null;
}

export type RetryOutcome = 'retried' | 'not_found' | 'not_failed';

export class JobAdmin {
  readonly #redis: Redis;
  readonly #queues: Map<string, Queue>;

  private constructor(redis: Redis, queues: Map<string, Queue>) {
    this.#redis = redis;
    this.#queues = queues;
  }

  static async connect(options: { redisUrl: string; prefix: string; queues: readonly string[] }): Promise<JobAdmin> {
    const redis = new Redis(options.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new QueueUnavailableError(`Redis is not reachable: ${(error as Error).message}`, { cause: error });
    }
    const queues = new Map(options.queues.map((name) => [name, new Queue(name, { connection: redis, prefix: options.prefix })]));
    return new JobAdmin(redis, queues);
  }

  /** Jobs in the given states (all when empty), newest first within each state, up to `limit` per state and queue. */
  async list(options: { states?: readonly JobState[]; queue?: string; limit?: number }): Promise<JobRow[]> {
    const states = options.states === undefined || options.states.length === 0 ? JOB_STATES : options.states;
    const rows: JobRow[] = [];
    for (const [name, queue] of this.#pick(options.queue)) {
      for (const state of states) {
        for (const job of await queue.getJobs([state], 0, (options.limit ?? 50) - 1)) rows.push(row(name, state, job as Job));
      }
    }
    return rows;
  }

  /** Sends one failed job back to its queue with its attempts reset. */
  async retry(id: string, queueName?: string): Promise<RetryOutcome> {
    for (const [, queue] of this.#pick(queueName)) {
      const job = (await queue.getJob(id)) as Job | undefined;
      if (job === undefined) continue;
      if ((await job.getState()) !== 'failed') return 'not_failed';
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return 'retried';
    }
    return 'not_found';
  }

  /**
   * Sends back every job that had failed when the command started; returns how many. The list is taken
   * first: a job that fails again at once (refused audio) lands in `failed` anew and must not be retried
   * over and over by this same run.
   */
  async retryAllFailed(queueName?: string): Promise<number> {
    let count = 0;
    for (const [, queue] of this.#pick(queueName)) {
      const failed = (await queue.getJobs(['failed'])) as Job[];
      for (const job of failed) {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        count += 1;
      }
    }
    return count;
  }

  async close(): Promise<void> {
    for (const queue of this.#queues.values()) await queue.close().catch(() => undefined);
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }

  #pick(name: string | undefined): [string, Queue][] {
    if (name === undefined) return [...this.#queues];
    const queue = this.#queues.get(name);
    return queue === undefined ? [] : [[name, queue]];
  }
}

function row(queue: string, state: JobState, job: Job): JobRow {
  return {
    queue,
    id: job.id ?? '?',
    name: job.name,
    state,
    attempts: job.attemptsMade,
    failedReason: job.failedReason === undefined || job.failedReason === '' ? null : job.failedReason,
    progress: typeof job.progress === 'number' ? job.progress : null,
  };
}
