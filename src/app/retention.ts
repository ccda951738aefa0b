// Retention: recordings past their retain-until date, and not on legal hold, are destroyed (encrypted audio
// and transcript files, then their rows) by a daily repeatable job on the worker's maintenance queue and by
// `callbridge retention run`. Every deletion is on the audit trail (actor `retention`; ids and dates only,
// nothing about the call's content) and the entry is written before the files go: when the audit log is
// unavailable nothing is deleted, so no recording ever disappears without a trace.
import type { Logger } from 'pino';
import { CallbridgeError } from '../core/errors.ts';
import type { DrizzleOutboxStore, DrizzleRecordingStore, RecordingRow } from '../db/index.ts';
import type { AuditTrail } from './audit.ts';
import type { RecordingVault } from './recording-vault.ts';

const RETENTION_ACTOR = 'retention';
// `recording.delete` is written before the files go; `recording.delete_failed` follows it when they could not.
const RetentionActions = { delete: 'recording.delete', deleteFailed: 'recording.delete_failed' } as const;

/** The worker registers this as a repeatable BullMQ job (upsertJobScheduler) with `retentionProcessor`. */
export const RETENTION_SCHEDULE = { queue: 'maintenance', jobName: 'retention', every: 24 * 60 * 60 * 1000 } as const;

export interface RetentionOptions {
  vault: Pick<RecordingVault, 'deleteRecording'>;
  store: Pick<DrizzleRecordingStore, 'expired'>;
  audit: Pick<AuditTrail, 'record'>;
  now: Date;
  /** List what would be deleted and change nothing. */
  dryRun: boolean;
  batchSize: number;
  logger: Logger;
  /** Called with each recording that is (or, in a dry run, would be) deleted. */
  onRecording?: (recording: ExpiredRecording) => void;
}

export interface ExpiredRecording {
  id: string;
  callId: string;
  recordedAt: Date;
  retainUntil: Date;
}

export interface RetentionResult {
  dryRun: boolean;
  /** Deleted, or in a dry run: would be deleted. */
  deleted: number;
  failed: number;
}

export async function runRetention(options: RetentionOptions): Promise<RetentionResult> {
  const { logger } = options;
  const result = options.dryRun ? await dryRun(options) : await deleteExpired(options);
  logger.info({ ...result, now: options.now.toISOString() }, options.dryRun ? 'retention dry run finished' : 'retention run finished');
  return result;
}

async function deleteExpired(options: RetentionOptions): Promise<RetentionResult> {
  const { store, vault, audit, now, batchSize, logger } = options;
  // Rows whose deletion failed come back in every batch: asked for on top of the batch and skipped, so one
  // stuck file neither stops the run nor loops it.
  const failedIds = new Set<string>();
  let deleted = 0;
  for (;;) {
    const batch = (await store.expired(now, batchSize + failedIds.size)).filter((row) => !failedIds.has(row.id));
    if (batch.length === 0) break;
    for (const row of batch) {
      const entry = { actor: RETENTION_ACTOR, targetType: 'recording', targetId: row.id, details: facts(row) };
      // Awaited and not caught: without its audit entry, nothing is deleted (the run stops here).
      await audit.record({ ...entry, action: RetentionActions.delete });
      try {
        // False: another run deleted it meanwhile.
        if (await vault.deleteRecording(row.id)) {
          deleted += 1;
          options.onRecording?.(expiredRecording(row));
        }
      } catch (error) {
        failedIds.add(row.id);
        logger.error({ err: error, recordingId: row.id }, 'retention: recording could not be deleted; it stays for the next run');
        await audit.record({ ...entry, action: RetentionActions.deleteFailed, details: { ...facts(row), error: errorCode(error) } }).catch(() => undefined);
      }
    }
    logger.info({ deleted, failed: failedIds.size }, 'retention progress');
  }
  return { dryRun: false, deleted, failed: failedIds.size };
}

async function dryRun(options: RetentionOptions): Promise<RetentionResult> {
  const { store, now, batchSize, logger } = options;
  // Nothing is deleted, so the oldest rows come back each time: ask for more each round and report only
  // the new ones (the limit doubles, so every row is read at most a few times).
  let seen = 0;
  for (let limit = batchSize; ; limit *= 2) {
    const rows = await store.expired(now, limit);
    for (const row of rows.slice(seen)) options.onRecording?.(expiredRecording(row));
    seen = rows.length;
    logger.info({ wouldDelete: seen }, 'retention dry run progress');
    if (rows.length < limit) break;
  }
  return { dryRun: true, deleted: seen, failed: 0 };
}

/** Relayed outbox rows are kept this long (for requeuing by hand after a Redis loss), then removed. */
const OUTBOX_KEEP_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * A processor for the worker's repeatable retention job: deletes what expired by the time it runs, then
 * the outbox rows relayed more than 30 days ago (so the table does not grow with every call forever).
 */
export function retentionProcessor(
  deps: Omit<RetentionOptions, 'now' | 'dryRun' | 'onRecording'> & { now?: () => Date; outbox?: Pick<DrizzleOutboxStore, 'deleteRelayedBefore'> },
) {
  // Progress is the number of recordings deleted so far.
  return async (job: { updateProgress(progress: number): Promise<unknown> }): Promise<RetentionResult> => {
    let done = 0;
    const now = (deps.now ?? (() => new Date()))();
    const result = await runRetention({
      ...deps,
      now,
      dryRun: false,
      onRecording: () => {
        done += 1;
        void job.updateProgress(done).catch(() => undefined);
      },
    });
    const outboxRowsRemoved = (await deps.outbox?.deleteRelayedBefore(new Date(now.getTime() - OUTBOX_KEEP_MS))) ?? 0;
    if (outboxRowsRemoved > 0) deps.logger.info({ outboxRowsRemoved }, 'relayed outbox rows removed');
    return result;
  };
}

function expiredRecording(row: RecordingRow): ExpiredRecording {
  return { id: row.id, callId: row.callId, recordedAt: row.recordedAt, retainUntil: row.retainUntil };
}

/** Ids and dates only: nothing that says who called or what was said. */
function facts(row: RecordingRow): Record<string, unknown> {
  return { callId: row.callId, recordedAt: row.recordedAt, retainUntil: row.retainUntil };
}

function errorCode(error: unknown): string {
  return error instanceof CallbridgeError ? error.code : 'UNEXPECTED';
}
