// Without Redis (the demo, a single box) jobs run in this process through the same processors, with the same
// retry policy as BullMQ: exponential backoff between attempts, an UnrecoverableError ends the job at once,
// and a job id seen before is not run twice. There is no durable queue behind it: a job running when the
// process dies is not resumed (its outbox row is already marked relayed). Production runs with REDIS_URL.
import { UnrecoverableError } from 'bullmq';
import { retryDelayMs, type JobContext, type JobSink, type Processor, type RelayJob, type RetryPolicy } from './jobs.ts';

export type InProcessEvent =
  | { kind: 'completed'; queue: string; jobId: string; attempts: number }
  | { kind: 'failed'; queue: string; jobId: string; attempts: number; willRetry: boolean; reason: string };

export interface InProcessRunnerOptions {
  processors: Readonly<Record<string, Processor>>;
  retry: RetryPolicy;
  /** Jobs running at once across all queues (default 2). */
  concurrency?: number;
  onEvent?: (event: InProcessEvent) => void;
}

export class InProcessRunner implements JobSink {
  readonly #o: InProcessRunnerOptions;
  /** Job keys accepted, with when they settled (undefined while running), so a repeat within the hour is ignored. */
  readonly #seen = new Map<string, number | undefined>();
  readonly #waiting: (() => void)[] = [];
  readonly #running = new Set<Promise<void>>();
  readonly #timers = new Map<NodeJS.Timeout, () => void>();
  #active = 0;
  #closed = false;

  constructor(options: InProcessRunnerOptions) {
    this.#o = options;
  }

  /** The queues it has processors for: the relay leaves other queues' jobs pending (nothing is dropped). */
  get queues(): readonly string[] {
    return Object.keys(this.#o.processors);
  }

  /** Accepts the job (once per queue and job id) and runs it in the background. */
  async add(job: RelayJob): Promise<void> {
    if (this.#closed) throw new Error('the in-process job runner is closed');
    const processor = this.#o.processors[job.queue];
    if (processor === undefined) throw new Error(`no processor for queue ${job.queue} here`);
    const key = `${job.queue}\u0000${job.jobId}`;
    if (this.#seen.has(key)) return;
    this.#forgetSettled();
    this.#seen.set(key, undefined);
    const running = this.#run(job, processor).finally(() => {
      this.#running.delete(running);
      this.#seen.set(key, Date.now());
    });
    this.#running.add(running);
  }


  /** Resolves once every accepted job has completed or failed for good (tests, the demo). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /** Takes no more jobs, drops pending retries, and waits up to `graceMs` for the running attempts. */
  async close(graceMs = 10_000): Promise<void> {
    this.#closed = true;
    for (const [timer, wake] of this.#timers) {
      clearTimeout(timer);
      wake();
    }
    this.#timers.clear();
    for (const wake of this.#waiting.splice(0)) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all([...this.#running]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  async #run(job: RelayJob, processor: Processor): Promise<void> {
    const { attempts } = this.#o.retry;
    const context = new InProcessJob(job);
    for (;;) {
      if (!(await this.#slot())) return;
      let error: Error | undefined;
      try {
        await processor(context);
      } catch (caught) {
        error = caught instanceof Error ? caught : new Error(String(caught));
      } finally {
        this.#release();
      }
      context.attemptsMade += 1;
      if (error === undefined) {
        this.#o.onEvent?.({ kind: 'completed', queue: job.queue, jobId: job.jobId, attempts: context.attemptsMade });
        return;
      }
      const willRetry = !(error instanceof UnrecoverableError) && context.attemptsMade < attempts && !this.#closed;
      this.#o.onEvent?.({ kind: 'failed', queue: job.queue, jobId: job.jobId, attempts: context.attemptsMade, willRetry, reason: error.message });
      if (!willRetry) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          resolve();
        }, retryDelayMs(this.#o.retry, context.attemptsMade));
        this.#timers.set(timer, resolve);
      });
      if (this.#closed) return;
    }
  }

  /** Relays repeat a job only within moments (a crash between adding and marking): an hour of memory is plenty. */
  #forgetSettled(): void {
    const before = Date.now() - 3_600_000;
    for (const [key, settled] of this.#seen) if (settled !== undefined && settled < before) this.#seen.delete(key);
  }

  /** Waits for a free slot; false when the runner closed meanwhile. */
  async #slot(): Promise<boolean> {
    while (this.#active >= (this.#o.concurrency ?? 2)) {
      if (this.#closed) return false;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    if (this.#closed) return false;
    this.#active += 1;
    return true;
  }

  #release(): void {
    this.#active -= 1;
    this.#waiting.shift()?.();
  }
}

class InProcessJob implements JobContext {
  readonly id: string;
  readonly name: string;
  data: unknown;
  attemptsMade = 0;
  progress = 0;

  constructor(job: RelayJob) {
    this.id = job.jobId;
    this.name = job.jobName;
    this.data = job.payload;
  }

  async updateProgress(progress: number): Promise<void> {
    this.progress = progress;
  }

  async updateData(data: unknown): Promise<void> {
    this.data = data;
  }
}
