// Small bounded waits used by the STT stream. Each one removes its listener and clears its timer whatever
// happens, so a stream that closes never leaves a pending timer or a stale callback behind.

/** Callbacks to re-check a condition whenever the stream's state moves (ack, end of transcript, close). */
export class ChangeSignal {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves true once `condition()` holds, false after `timeoutMs` (or at once when timeoutMs <= 0). */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const check = (): void => {
        if (condition()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.waiters.add(check);
    });
  }

  get size(): number {
    return this.waiters.size;
  }
}

/** A delay that can be cut short (close() during a reconnect back-off must not wait the back-off out). */
export class CancellableDelay {
  private pending: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  wait(ms: number): Promise<void> {
    this.cancel();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve();
      }, ms);
      this.pending = { timer, resolve };
    });
  }

  cancel(): void {
    if (this.pending === undefined) return;
    clearTimeout(this.pending.timer);
    const { resolve } = this.pending;
    this.pending = undefined;
    resolve();
  }
}

export class AttemptTimeoutError extends Error {}
export class AttemptAbortedError extends Error {}

/**
 * Runs one connection attempt with a deadline and an abort hook. The client library's own start timeout
 * does not cover the WebSocket handshake, and a closed socket does not end its wait for RecognitionStarted;
 * this race does both, and `onGiveUp` closes the half-open socket.
 */
export function boundedAttempt<T>(
  run: Promise<T>,
  timeoutMs: number,
  register: (abort: () => void) => void,
  onGiveUp: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      register(() => undefined);
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() => {
          onGiveUp();
          reject(new AttemptTimeoutError(`no RecognitionStarted within ${timeoutMs} ms`));
        }),
      timeoutMs,
    );
    register(() =>
      settle(() => {
        onGiveUp();
        reject(new AttemptAbortedError('attempt aborted by close()'));
      }),
    );
    run.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(asError(error))),
    );
  });
}

// The client rejects with the WebSocket's ErrorEvent (not an Error) when the connection itself fails.
function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  const message = (error as { message?: unknown } | null)?.message;
  return new Error(typeof message === 'string' && message !== '' ? message : 'connection failed');
}
