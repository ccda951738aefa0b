// Recording and transcript rows. A recording row and its post-call job go in together (one transaction
// with the outbox), so a stored recording is always either queued for transcription or not stored at all.
// The rows hold no audio and no words: those are in recording storage, encrypted.
import { and, asc, desc, eq, gt, inArray, lt, ne } from 'drizzle-orm';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { DrizzleOutboxStore, type OutboxJob } from './outbox-store.ts';
import { recordings, transcripts } from './schema.ts';

export type RecordingRow = typeof recordings.$inferSelect;
export type NewRecordingRow = typeof recordings.$inferInsert;
export type TranscriptRow = typeof transcripts.$inferSelect;
export type NewTranscriptRow = typeof transcripts.$inferInsert;

export class DrizzleRecordingStore {
  readonly #db: DrizzleDb;

  constructor(db: DrizzleDb) {
    this.#db = db;
  }

  async #run<T>(work: () => Promise<T>, callId?: string): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translateDbError(error, callId);
    }
  }

  /**
   * Inserts the recording and its jobs in one transaction. A row for the same spool file already there
   * (a retry after a crash) wins: it is returned and nothing else is written.
   */
  insertWithJobs(row: NewRecordingRow, jobs: readonly OutboxJob[]): Promise<RecordingRow> {
    return this.#run(() =>
      this.#db.transaction(async (tx) => {
        const [inserted] = await tx.insert(recordings).values(row).onConflictDoNothing({ target: recordings.spoolFile }).returning();
        if (inserted === undefined) {
          const [existing] = await tx.select().from(recordings).where(eq(recordings.spoolFile, row.spoolFile));
          if (existing === undefined) throw new Error('recording row vanished during insert');
          return existing;
        }
        await new DrizzleOutboxStore(this.#db).enqueue(jobs, tx);
        return inserted;
      }),
    );
  }

  async get(id: string): Promise<RecordingRow | undefined> {
    return this.#run(async () => (await this.#db.select().from(recordings).where(eq(recordings.id, id)))[0]);
  }

  async findBySpoolFile(spoolFile: string): Promise<RecordingRow | undefined> {
    return this.#run(async () => (await this.#db.select().from(recordings).where(eq(recordings.spoolFile, spoolFile)))[0]);
  }

  listByCall(callId: string): Promise<RecordingRow[]> {
    return this.#run(() => this.#db.select().from(recordings).where(eq(recordings.callId, callId)).orderBy(asc(recordings.recordedAt)));
  }

  /** Past their retention date and not on legal hold, oldest first. */
  expired(now: Date, limit: number): Promise<RecordingRow[]> {
    return this.#run(() =>
      this.#db
        .select()
        .from(recordings)
        .where(and(lt(recordings.retainUntil, now), eq(recordings.legalHold, false)))
        .orderBy(asc(recordings.retainUntil))
        .limit(limit),
    );
  }

  async setLegalHold(id: string, hold: boolean, reason: string | null): Promise<RecordingRow | undefined> {
    return this.#run(async () => {
      const [row] = await this.#db.update(recordings).set({ legalHold: hold, legalHoldReason: hold ? reason : null }).where(eq(recordings.id, id)).returning();
      return row;
    });
  }

  /** Deletes the recording row; its transcript row goes with it (cascade). */
  async delete(id: string): Promise<boolean> {
    return this.#run(async () => (await this.#db.delete(recordings).where(eq(recordings.id, id)).returning({ id: recordings.id })).length > 0);
  }

  /** Recordings whose data key is wrapped under a key other than `currentKeyId`, by id after `afterId`. */
  recordingsUnderOtherKeys(currentKeyId: string, afterId: string, limit: number): Promise<RecordingRow[]> {
    return this.#run(() =>
      this.#db
        .select()
        .from(recordings)
        .where(and(ne(recordings.keyId, currentKeyId), gt(recordings.id, afterId)))
        .orderBy(asc(recordings.id))
        .limit(limit),
    );
  }

  /** Transcripts whose data key is wrapped under a key other than `currentKeyId`, by id after `afterId`. */
  transcriptsUnderOtherKeys(currentKeyId: string, afterId: string, limit: number): Promise<TranscriptRow[]> {
    return this.#run(() =>
      this.#db
        .select()
        .from(transcripts)
        .where(and(ne(transcripts.keyId, currentKeyId), gt(transcripts.recordingId, afterId)))
        .orderBy(asc(transcripts.recordingId))
        .limit(limit),
    );
  }

  async setRecordingKeyId(id: string, keyId: string): Promise<void> {
    await this.#run(() => this.#db.update(recordings).set({ keyId }).where(eq(recordings.id, id)));
  }

  async setTranscriptKeyId(recordingId: string, keyId: string): Promise<void> {
    await this.#run(() => this.#db.update(transcripts).set({ keyId }).where(eq(transcripts.recordingId, recordingId)));
  }

  /** Stores the transcript row and the jobs that follow it (its webhook) at once; a second save is a no-op. */
  insertTranscriptWithJobs(row: NewTranscriptRow, jobs: readonly OutboxJob[]): Promise<{ inserted: boolean }> {
    return this.#run(() =>
      this.#db.transaction(async (tx) => {
        const [inserted] = await tx.insert(transcripts).values(row).onConflictDoNothing({ target: transcripts.recordingId }).returning();
        if (inserted === undefined) return { inserted: false };
        await new DrizzleOutboxStore(this.#db).enqueue(jobs, tx);
        return { inserted: true };
      }),
    );
  }

  async getTranscript(recordingId: string): Promise<TranscriptRow | undefined> {
    return this.#run(async () => (await this.#db.select().from(transcripts).where(eq(transcripts.recordingId, recordingId)))[0]);
  }

  /** Which of these recordings have a transcript (one query for a whole listing). */
  async withTranscripts(recordingIds: readonly string[]): Promise<Set<string>> {
    if (recordingIds.length === 0) return new Set();
    return this.#run(async () => {
      const rows = await this.#db.select({ id: transcripts.recordingId }).from(transcripts).where(inArray(transcripts.recordingId, [...recordingIds]));
      return new Set(rows.map((r) => r.id));
    });
  }

  /** Newest first, optionally for one call; for listings (no PHI in these rows). */
  list(options: { callId?: string; limit: number }): Promise<RecordingRow[]> {
    return this.#run(() =>
      this.#db
        .select()
        .from(recordings)
        .where(options.callId === undefined ? undefined : eq(recordings.callId, options.callId))
        .orderBy(desc(recordings.recordedAt), desc(recordings.id))
        .limit(options.limit),
    );
  }
}
