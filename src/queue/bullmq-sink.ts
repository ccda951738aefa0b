// The relay's BullMQ side: adds each job to its queue under its job id, with the retry policy, keeping
// completed jobs a week and failed ones until retried. A producer must never hang its caller when Redis is
// down: the connection has no offline queue (commands fail at once instead of waiting for a reconnect), an
// add is refused up front while the connection is not ready (BullMQ would otherwise wait for it), and every
// add is bounded in time. A refused add leaves the row in the outbox for the next round.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QueueUnavailableError } from '../core/errors.ts';
import { KEEP_COMPLETED_SECONDS, type JobSink, type RelayJob, type RetryPolicy } from './jobs.ts';

export interface BullMqSinkOptions {
  redisUrl: string;
  /** BullMQ key prefix (tests use one of their own). */
  prefix: string;
  retry: RetryPolicy;
  /** Longest an add may take before it counts as refused (default 5000 ms). */
  addTimeoutMs?: number;
  /** Connection errors (logged at debug level by the caller: the relay reports outages itself). */
  onError?: (error: Error) => void;
}

export class BullMqSink implements JobSink {
  readonly #o: BullMqSinkOptions;
  readonly #redis: Redis;
  readonly #queues = new Map<string, Queue>();
  #closing: Promise<void> | undefined;

  constructor(options: BullMqSinkOptions) {
    this.#o = options;
    this.#redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
    this.#redis.on('error', (error: Error) => options.onError?.(error));
  }

  async add(job: RelayJob): Promise<void> {
    if (this.#closing !== undefined) throw new QueueUnavailableError('the job sink is closed');
    if (this.#redis.status !== 'ready') throw new QueueUnavailableError(`Redis is not reachable (connection ${this.#redis.status})`);
    const { attempts, backoffMs } = this.#o.retry;
    const adding = this.#queue(job.queue).add(job.jobName, job.payload, {
      jobId: job.jobId,
      attempts,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
      removeOnFail: false,
    });
    await bounded(adding, this.#o.addTimeoutMs ?? 5000);
  }

  /** Closes the queues and the connection; never waits on a dead Redis. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const queue of this.#queues.values()) await bounded(queue.close(), 2000).catch(() => undefined);
      if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
      else this.#redis.disconnect();
    })();
    return this.#closing;
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (queue === undefined) {
      queue = new Queue(name, { connection: this.#redis, prefix: this.#o.prefix });
      queue.on('error', (error: Error) => this.#o.onError?.(error));
      this.#queues.set(name, queue);
    }
    return queue;
  }
}

/** Rejects with QueueUnavailableError when `promise` has not settled within `ms` (it is left to settle). */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new QueueUnavailableError(`Redis did not answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
