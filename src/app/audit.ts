// The audit trail as the rest of the app uses it. Two ways in:
// - record(): awaited, throws. For access to PHI (playing a recording, exporting a transcript) the caller
//   refuses the access when the entry could not be written: no audit, no access.
// - recordInBackground(): for everything else (API requests, system events). A failure must never break
//   the request or the call that caused it, so it is logged loudly and counted instead.
import type { Logger } from 'pino';
import type { Clock } from '../core/ports.ts';
import type { SystemEvent } from '../core/notify-ports.ts';
import type { AuditEntry, AuditListQuery, AuditVerification, DrizzleAuditStore, NewAuditEntry } from '../db/index.ts';

export type AuditRecord = Omit<NewAuditEntry, 'at'> & { at?: Date };

/** System events worth an entry: the ones people answer for afterwards. */
const AUDITED_EVENTS: Partial<Record<SystemEvent['type'], { action: string; targetType: string }>> = {
  EMERGENCY_ALERT: { action: 'emergency.alert', targetType: 'call' },
  CALL_TRANSFERRED: { action: 'call.transferred', targetType: 'call' },
  SYSTEM_MODE_CHANGED: { action: 'system.mode_changed', targetType: 'system' },
};

export interface AuditTrailOptions {
  store: Pick<DrizzleAuditStore, 'append' | 'list' | 'verify'>;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
}

export class AuditTrail {
  readonly #o: AuditTrailOptions;
  #tail: Promise<void> = Promise.resolve();
  #failedAppends = 0;

  constructor(options: AuditTrailOptions) {
    this.#o = options;
  }

  /** Appends an entry; rejects when it could not be written (the caller must then refuse what it audits). */
  async record(entry: AuditRecord): Promise<AuditEntry> {
    try {
      return await this.#o.store.append({ ...entry, at: entry.at ?? this.#o.clock.now() });
    } catch (error) {
      this.#failed(entry, error);
      throw error;
    }
  }

  /** Appends without making the caller wait or fail; entries land in the order they were recorded. */
  recordInBackground(entry: AuditRecord): void {
    const at = entry.at ?? this.#o.clock.now();
    // One after another: on a pool, concurrent appends would take the chain's lock in any order.
    const append = this.#tail.then(() => this.#o.store.append({ ...entry, at })).then(
      () => undefined,
      (error: unknown) => this.#failed(entry, error),
    );
    this.#tail = append;
  }

  /** Records the audited system events as they are published; returns the unsubscribe. */
  follow(events: { subscribe(listener: (event: SystemEvent) => void): () => void }): () => void {
    return events.subscribe((event) => {
      const kind = AUDITED_EVENTS[event.type];
      if (kind === undefined) return;
      this.recordInBackground({ at: event.at, actor: 'system', ...kind, targetId: event.callId ?? null, details: event.data });
    });
  }

  list(query: AuditListQuery): Promise<AuditEntry[]> {
    return this.#o.store.list(query);
  }

  verify(): Promise<AuditVerification> {
    return this.#o.store.verify();
  }

  /** Entries that could not be written since start (each also logged at error level). */
  get failedAppends(): number {
    return this.#failedAppends;
  }

  /** Resolves once the background appends started so far are written or given up (before the database closes). */
  async settled(): Promise<void> {
    await this.#tail;
  }

  #failed(entry: AuditRecord, error: unknown): void {
    this.#failedAppends += 1;
    // Who did what to which target survives in the log; the stated reason and details stay out (free text).
    this.#o.logger.error(
      { err: error, audit: { actor: entry.actor, action: entry.action, targetType: entry.targetType, targetId: entry.targetId ?? null }, failedAppends: this.#failedAppends },
      'AUDIT ENTRY NOT WRITTEN',
    );
  }
}
