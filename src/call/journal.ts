// The journal of every call this controller handles: call rows, call events and state updates, written to the
// store off the calls' hot path. Sessions send their FreeSWITCH commands first and the database catches up
// behind them.
//
// One journal serves all calls. Writes queued in the same turn of the event loop (and while a previous batch
// is being written) go out together as one transaction: a burst of 200 calls arriving at once costs a few
// transactions instead of a thousand single-row statements, which is what keeps the controller's one thread
// free for call control. Order is kept: batches are written one after another, and inside a batch new calls
// come before events and updates, and several updates of one call are merged in the order they were made.
//
// A batch that fails is retried with backoff (a database restart must not lose call history). After the
// last attempt its writes are tried one by one, so one bad write cannot take the others with it; what still
// fails is logged with its call id and counted, and the journal goes on.
import type { Logger } from 'pino';
import type { CallEventRecord, CallRecord } from '../core/call.ts';
import type { CallStore, CallUpdate, CallWriteBatch } from '../core/ports.ts';

export interface CallJournalOptions {
  store: CallStore;
  logger: Logger;
  /** Waits between attempts of one batch (ms); its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
  /** Most writes in one transaction (keeps statements under the database's parameter limit). */
  maxBatchWrites?: number;
  onWriteFailed?: () => void;
  /** Sees each call event as it is queued, in call order (the live stream and webhooks follow calls here). */
  onAppend?: (event: CallEventRecord) => void;
}

type Write =
  | { kind: 'create'; call: CallRecord }
  | { kind: 'update'; id: string; update: CallUpdate }
  | { kind: 'append'; event: CallEventRecord };

const DEFAULT_RETRY_DELAYS_MS = [50, 250, 1000];
const DEFAULT_MAX_BATCH_WRITES = 1000;

export class CallJournal {
  readonly #options: CallJournalOptions;
  #queue: Write[] = [];
  /** The batch being written, or undefined when idle. */
  #writing: Promise<void> | undefined;
  #scheduled = false;
  /** Writes ever queued, and writes done with (written or given up): batches go in queue order. */
  #queued = 0;
  #done = 0;
  #flushWaiters: { upTo: number; resolve: () => void }[] = [];

  constructor(options: CallJournalOptions) {
    this.#options = options;
  }

  /** Writes queued or being written. */
  get pending(): number {
    return this.#queue.length + (this.#writing === undefined ? 0 : 1);
  }

  create(call: CallRecord): void {
    this.#enqueue({ kind: 'create', call: { ...call } });
  }

  update(id: string, update: CallUpdate): void {
    this.#enqueue({ kind: 'update', id, update: { ...update } });
  }

  append(event: CallEventRecord): void {
    this.#enqueue({ kind: 'append', event });
    this.#options.onAppend?.(event);
  }

  /**
   * Resolves once every write queued so far has been written (or given up on); later writes do not hold it
   * up, so a call's release is not delayed by a busy controller. Never rejects.
   */
  flush(): Promise<void> {
    if (this.#done >= this.#queued) return Promise.resolve();
    const upTo = this.#queued;
    return new Promise((resolve) => this.#flushWaiters.push({ upTo, resolve }));
  }

  #enqueue(write: Write): void {
    this.#queue.push(write);
    this.#queued++;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing !== undefined) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: everything the current burst of socket reads queues goes in one batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#writeNext();
    });
  }

  #writeNext(): void {
    if (this.#queue.length === 0) return;
    const writes = this.#queue.splice(0, this.#options.maxBatchWrites ?? DEFAULT_MAX_BATCH_WRITES);
    this.#writing = this.#writeWithRetries(writes).finally(() => {
      this.#writing = undefined;
      this.#done += writes.length;
      this.#releaseFlushWaiters();
      this.#writeNext();
    });
  }

  #releaseFlushWaiters(): void {
    const waiting = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const waiter of waiting) {
      if (waiter.upTo <= this.#done) waiter.resolve();
      else this.#flushWaiters.push(waiter);
    }
  }

  async #writeWithRetries(writes: Write[]): Promise<void> {
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#options.store.writeBatch(toBatch(writes));
        return;
      } catch (error) {
        const delay = delays[attempt];
        if (delay === undefined) {
          this.#options.logger.warn({ err: error, writes: writes.length }, 'call journal batch failed; writing one by one');
          await this.#writeOneByOne(writes);
          return;
        }
        this.#options.logger.warn({ err: error, writes: writes.length, attempt: attempt + 1 }, 'call journal batch failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async #writeOneByOne(writes: Write[]): Promise<void> {
    for (const write of writes) {
      try {
        await this.#options.store.writeBatch(toBatch([write]));
      } catch (error) {
        this.#options.onWriteFailed?.();
        this.#options.logger.error({ err: error, write: write.kind, callId: callIdOf(write) }, 'call journal write lost');
      }
    }
  }
}

function toBatch(writes: readonly Write[]): CallWriteBatch {
  const batch: CallWriteBatch = { newCalls: [], events: [], updates: [] };
  const updates = new Map<string, CallUpdate>();
  for (const write of writes) {
    if (write.kind === 'create') batch.newCalls.push(write.call);
    else if (write.kind === 'append') batch.events.push(write.event);
    else updates.set(write.id, { ...updates.get(write.id), ...write.update });
  }
  for (const [id, update] of updates) batch.updates.push({ id, update });
  return batch;
}

function callIdOf(write: Write): string {
  return write.kind === 'create' ? write.call.id : write.kind === 'append' ? write.event.callId : write.id;
}
