// The outbox relay: moves jobs written to the outbox table (in the same transaction as the fact they follow
// from) to the queue, oldest first, and marks them relayed. When the queue cannot take a job (Redis down),
// the rows simply stay pending and the relay backs off, doubling its wait up to a cap, then drains
// everything once the queue is back. A crash between "added" and "marked" re-adds the job on the next run;
// the job id makes that the same job, so there are never duplicates.
import type { JobSink, RelayJob } from './jobs.ts';

export interface PendingRow extends RelayJob {
  id: number;
}

/** The outbox table as the relay needs it (DrizzleOutboxStore satisfies it). */
export interface OutboxPort {
  /** The oldest rows not yet relayed, of `queues` only when given. */
  pending(limit: number, queues?: readonly string[]): Promise<PendingRow[]>;
  markRelayed(ids: readonly number[]): Promise<void>;
  markFailed(id: number, reason: string): Promise<void>;
  countPending(): Promise<number>;
}

export interface RelayLogger {
  warn(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
}

export interface OutboxRelayOptions {
  outbox: OutboxPort;
  sink: JobSink;
  /** How often pending rows are looked for without a kick (default 2000 ms). */
  pollIntervalMs?: number;
  /** Rows read per round (default 100). */
  batchSize?: number;
  /** Wait after a failed round: starts at `initialMs`, doubles, capped at `maxMs` (default 500 → 30 000 ms). */
  backoff?: { initialMs: number; maxMs: number };
  logger?: RelayLogger;
  /** Told the number of pending rows after each round (the outbox-pending gauge). */
  onPending?: (count: number) => void;
}

type RelayState = 'idle' | 'running' | 'backing-off' | 'closed';

export class OutboxRelay {
  readonly #o: Required<Pick<OutboxRelayOptions, 'pollIntervalMs' | 'batchSize' | 'backoff'>> & OutboxRelayOptions;
  #state: RelayState = 'idle';
  #timer: NodeJS.Timeout | undefined;
  #again = false;
  #failures = 0;
  #round: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(options: OutboxRelayOptions) {
    this.#o = { pollIntervalMs: 2000, batchSize: 100, backoff: { initialMs: 500, maxMs: 30_000 }, ...options };
  }

  /** Starts relaying now and then every poll interval. */
  start(): void {
    if (this.#state === 'idle' && this.#timer === undefined) this.#schedule(0);
  }

  /** Relay now (a row was just written). Ignored while backing off: a kick must not hammer a dead Redis. */
  kick(): void {
    if (this.#state === 'running') this.#again = true;
    else if (this.#state === 'idle') this.#schedule(0);
  }

  /** One round now, whatever the state; resolves when no row is left or the queue refused one (tests, CLI). */
  async drain(): Promise<{ relayed: number; failed: boolean }> {
    await this.#round;
    return this.#relayAll();
  }

  /** Stops the timers and waits for a round in progress. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closed';
      clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#round;
    })();
    return this.#closing;
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#run();
    }, delayMs);
    this.#timer.unref();
  }

  #run(): void {
    if (this.#state === 'closed') return;
    this.#state = 'running';
    this.#again = false;
    this.#round = this.#relayAll().then(
      ({ failed }) => this.#after(failed),
      (error: unknown) => {
        // The outbox itself could not be read (database restarting): same backoff as a queue outage.
        this.#o.logger?.warn({ err: error }, 'outbox relay round failed');
        this.#after(true);
      },
    );
  }

  #after(failed: boolean): void {
    if (this.#state === 'closed') return;
    if (failed) {
      this.#failures += 1;
      this.#state = 'backing-off';
      const { initialMs, maxMs } = this.#o.backoff;
      this.#schedule(Math.min(maxMs, initialMs * 2 ** (this.#failures - 1)));
      return;
    }
    if (this.#failures > 0) this.#o.logger?.info({ afterFailures: this.#failures }, 'outbox relay: queue reachable again');
    this.#failures = 0;
    this.#state = 'idle';
    this.#schedule(this.#again ? 0 : this.#o.pollIntervalMs);
  }

  async #relayAll(): Promise<{ relayed: number; failed: boolean }> {
    let relayed = 0;
    for (;;) {
      // Rows of a queue the sink cannot run (a service not configured here) stay pending, counted, until one can.
      const rows = await this.#o.outbox.pending(this.#o.batchSize, this.#o.sink.queues);
      const done: number[] = [];
      let failed = false;
      for (const row of rows) {
        try {
          await this.#o.sink.add(row);
          done.push(row.id);
        } catch (error) {
          failed = true;
          const reason = (error as Error).message;
          await this.#o.outbox.markFailed(row.id, reason).catch(() => undefined);
          if (this.#failures === 0) this.#o.logger?.warn({ err: error, queue: row.queue, jobId: row.jobId }, 'outbox relay: queue refused a job; keeping it pending');
          // Later rows wait too: order is kept, and a queue that refused one is likely refusing all.
          break;
        }
      }
      await this.#o.outbox.markRelayed(done);
      relayed += done.length;
      if (failed || rows.length < this.#o.batchSize) {
        const onPending = this.#o.onPending;
        if (onPending) await this.#o.outbox.countPending().then(onPending, () => undefined);
        return { relayed, failed };
      }
    }
  }
}
