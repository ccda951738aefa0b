// Waits for one event matched by a key (BACKGROUND_JOB by Job-UUID, CHANNEL_EXECUTE_COMPLETE by
// Application-UUID). The key is chosen by us and sent with the command, and the waiter is registered
// BEFORE the command is written, so an event that overtakes the reply is never missed. Every wait has a
// timeout, and every exit path removes the entry and clears the timer.
import { EslCommandTimeoutError, type EslConnectionClosedError } from '../core/errors.ts';
import type { EslEvent } from './protocol/event.ts';

interface Waiter {
  resolve: (event: EslEvent) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface EventWait {
  promise: Promise<EslEvent>;
  /** Stops waiting with `error` (e.g. the command itself was refused). */
  cancel(error: Error): void;
}

export class EventWaiters {
  readonly #waiters = new Map<string, Waiter>();

  get size(): number {
    return this.#waiters.size;
  }

  wait(key: string, what: string, timeoutMs: number): EventWait {
    let cancel: (error: Error) => void = () => undefined;
    const promise = new Promise<EslEvent>((resolve, reject) => {
      if (this.#waiters.has(key)) {
        reject(new Error(`Already waiting for ${key}`));
        return;
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(key);
        reject(new EslCommandTimeoutError(what, timeoutMs));
      }, timeoutMs);
      const waiter: Waiter = { resolve, reject, timer };
      this.#waiters.set(key, waiter);
      cancel = (error) => {
        if (this.#waiters.get(key) !== waiter) return;
        clearTimeout(timer);
        this.#waiters.delete(key);
        reject(error);
      };
    });
    return { promise, cancel: (error) => cancel(error) };
  }

  /** Resolves the waiter for `key`, if any. */
  settle(key: string | undefined, event: EslEvent): void {
    if (key === undefined) return;
    const waiter = this.#waiters.get(key);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#waiters.delete(key);
    waiter.resolve(event);
  }

  failAll(error: EslConnectionClosedError): void {
    const waiters = [...this.#waiters.values()];
    this.#waiters.clear();
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }
}
