// The outbox: jobs written in the same transaction as the fact they follow from (a finished recording, an
// event to send), so a crash or a Redis outage between "it happened" and "it is queued" loses nothing. The
// relay (src/queue/) reads pending rows in order, adds them to BullMQ under their job id and marks them.
import { and, asc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { outbox } from './schema.ts';

export interface OutboxJob {
  queue: string;
  jobName: string;
  /** The BullMQ job id: adding the same id twice yields one job. */
  jobId: string;
  payload: Record<string, unknown>;
}

export interface PendingJob extends OutboxJob {
  id: number;
  attempts: number;
}

/** A drizzle database or an open transaction on one (so callers can enqueue inside their own). */
export type DbOrTx = Pick<DrizzleDb, 'insert' | 'select' | 'update'>;

export class DrizzleOutboxStore {
  readonly #db: DrizzleDb;

  constructor(db: DrizzleDb) {
    this.#db = db;
  }

  /** Adds jobs; a job id already present is left as it is (enqueueing is idempotent). */
  async enqueue(jobs: readonly OutboxJob[], tx: DbOrTx = this.#db): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await tx
        .insert(outbox)
        .values(jobs.map((j) => ({ queue: j.queue, jobName: j.jobName, jobId: j.jobId, payload: j.payload })))
        .onConflictDoNothing({ target: outbox.jobId });
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }

  /** The oldest jobs not yet relayed, of `queues` only when given. */
  async pending(limit: number, queues?: readonly string[]): Promise<PendingJob[]> {
    if (queues?.length === 0) return [];
    try {
      const rows = await this.#db
        .select()
        .from(outbox)
        .where(queues === undefined ? isNull(outbox.relayedAt) : and(isNull(outbox.relayedAt), inArray(outbox.queue, [...queues])))
        .orderBy(asc(outbox.id))
        .limit(limit);
      return rows.map((r) => ({ id: r.id, queue: r.queue, jobName: r.jobName, jobId: r.jobId, payload: r.payload, attempts: r.attempts }));
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }

  async markRelayed(ids: readonly number[], at: Date = new Date()): Promise<void> {
    if (ids.length === 0) return;
    try {
      await this.#db.update(outbox).set({ relayedAt: at }).where(inArray(outbox.id, [...ids]));
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }

  /** Counts a failed relay attempt; the row stays pending. */
  async markFailed(id: number, reason: string): Promise<void> {
    try {
      await this.#db
        .update(outbox)
        .set({ attempts: sql`${outbox.attempts} + 1`, lastError: reason.slice(0, 500) })
        .where(eq(outbox.id, id));
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }

  /** Housekeeping: removes rows relayed before `before` (the queue has had them long since); returns how many. */
  async deleteRelayedBefore(before: Date): Promise<number> {
    try {
      const rows = await this.#db.delete(outbox).where(lt(outbox.relayedAt, before)).returning({ id: outbox.id });
      return rows.length;
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }

  async countPending(): Promise<number> {
    try {
      const [row] = await this.#db.select({ n: sql<number>`count(*)::int` }).from(outbox).where(isNull(outbox.relayedAt));
      return row?.n ?? 0;
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }
}
