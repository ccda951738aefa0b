// Writes one call's record and events to the store strictly in order, off the call's hot path: the session
// sends its FreeSWITCH commands first and the database catches up behind it. A write that fails is retried
// with backoff (a database restart must not lose a call's history); a write that still fails after the last
// attempt is logged with the call id and counted, and the journal goes on with the next one.
import type { Logger } from 'pino';
import type { CallEventRecord, CallRecord } from '../core/call.ts';
import type { CallStore, CallUpdate } from '../core/ports.ts';

export interface CallJournalOptions {
  store: CallStore;
  logger: Logger;
  /** Waits between attempts of one write (ms); its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
  onWriteFailed?: () => void;
}

const DEFAULT_RETRY_DELAYS_MS = [50, 250, 1000];

export class CallJournal {
  readonly #options: CallJournalOptions;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(options: CallJournalOptions) {
    this.#options = options;
  }

  /** Writes still queued or running. */
  get pending(): number {
    return this.#pending;
  }

  create(call: CallRecord): void {
    this.#enqueue('create call', () => this.#options.store.createCall({ ...call }));
  }

  update(callId: string, update: CallUpdate): void {
    this.#enqueue('update call', () => this.#options.store.updateCall(callId, update));
  }

  append(event: CallEventRecord): void {
    this.#enqueue(`append ${event.type}`, () => this.#options.store.appendEvent(event));
  }

  /** Resolves when every write queued so far has finished (or given up). Never rejects. */
  flush(): Promise<void> {
    return this.#tail;
  }

  #enqueue(what: string, write: () => Promise<void>): void {
    this.#pending++;
    this.#tail = this.#tail.then(async () => {
      try {
        await this.#withRetries(what, write);
      } finally {
        this.#pending--;
      }
    });
  }

  async #withRetries(what: string, write: () => Promise<void>): Promise<void> {
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        await write();
        return;
      } catch (error) {
        const delay = delays[attempt];
        if (delay === undefined) {
          this.#options.onWriteFailed?.();
          this.#options.logger.error({ err: error, write: what }, 'call journal write failed; giving up');
          return;
        }
        this.#options.logger.warn({ err: error, write: what, attempt: attempt + 1 }, 'call journal write failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
