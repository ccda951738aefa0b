// What the queue adapter shares between its parts: a job on its way to a queue, where it goes (a JobSink:
// BullMQ, or the in-process runner when there is no Redis), what a processor sees of a running job, and the
// retry policy every job gets. Processors are plain functions of a JobContext so the same handler runs
// under a BullMQ Worker and in-process.

/** A job as the outbox holds it: the job id makes adding it twice yield one job. */
export interface RelayJob {
  queue: string;
  jobName: string;
  jobId: string;
  payload: Record<string, unknown>;
}

/** Where the relay puts jobs. `add` resolves once the job is safely queued, and throws fast when it cannot be. */
export interface JobSink {
  add(job: RelayJob): Promise<void>;
  /** The queues this sink can run; undefined = every queue (BullMQ holds jobs until some worker takes them). */
  readonly queues?: readonly string[];
}

/** What a processor sees of its job (a BullMQ Job satisfies it; so does the in-process runner's). */
export interface JobContext {
  readonly id?: string | undefined;
  readonly name: string;
  readonly data: unknown;
  /** Attempts that already ended (0 on the first try). */
  readonly attemptsMade: number;
  updateProgress(progress: number): Promise<void>;
  /** Replaces the job's data, so a later attempt can pick up where this one got (e.g. a provider's job id). */
  updateData(data: unknown): Promise<void>;
}

export type Processor = (job: JobContext) => Promise<unknown>;

/** Tries per job and the first retry delay, doubled each try (BullMQ's exponential backoff). */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** BullMQ's exponential backoff: delay × 2^(attempts made − 1). */
export function retryDelayMs(policy: RetryPolicy, attemptsMade: number): number {
  return Math.round(2 ** Math.max(0, attemptsMade - 1) * policy.backoffMs);
}

/** Completed jobs are kept a week (so `jobs list` can show them); failed ones until someone retries them. */
export const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;
