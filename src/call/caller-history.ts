// What the controller remembers of recent callers, for the repeat-caller rule ("within N days → the same
// ring group if possible"). Kept in memory so routing a call never waits for the database; filled from the
// database at start (so a restart forgets nothing) and updated as calls are routed.
import type { CallStore } from '../core/ports.ts';
import type { CallerHistory as History } from '../core/routing/types.ts';

/** Bound on remembered callers; the oldest are forgotten first. */
const MAX_CALLERS = 100_000;

export class CallerHistory {
  readonly #byNumber = new Map<string, History>();

  /** Loads the calls of the last `days` days. */
  async preload(store: CallStore, options: { days: number; now: Date }): Promise<void> {
    const since = new Date(options.now.getTime() - options.days * 24 * 60 * 60 * 1000);
    for (const call of await store.recentCallerRoutes(since)) {
      this.record(call.fromNumber, { at: call.startedAt, ringGroup: call.ringGroup });
    }
  }

  get(fromNumber: string): History | undefined {
    return this.#byNumber.get(fromNumber);
  }

  /** A call from `fromNumber` was routed at `at`, to `ringGroup` if it went to people. */
  record(fromNumber: string, call: { at: Date; ringGroup: string | null }): void {
    if (fromNumber === '') return;
    const previous = this.#byNumber.get(fromNumber);
    this.#byNumber.delete(fromNumber);
    this.#byNumber.set(fromNumber, {
      lastCallAt: call.at,
      // A later call that did not reach people keeps the group that served the caller before.
      ...(call.ringGroup !== null ? { lastRingGroup: call.ringGroup } : previous?.lastRingGroup ? { lastRingGroup: previous.lastRingGroup } : {}),
    });
    if (this.#byNumber.size > MAX_CALLERS) {
      const oldest = this.#byNumber.keys().next().value;
      if (oldest !== undefined) this.#byNumber.delete(oldest);
    }
  }

  get size(): number {
    return this.#byNumber.size;
  }
}
