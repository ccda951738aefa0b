// Transfer records: written when a hand-off is requested (so the context is there before anyone rings),
// completed once with its outcome. Runs on node-postgres and PGlite alike. Transcripts are encrypted with
// the FieldCipher when a key is configured; without one they are not stored at all (null), never in clear.
import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, gt, isNotNull, isNull, sql } from 'drizzle-orm';
import { CallNotFoundError } from '../core/errors.ts';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { resealColumn, type FieldCipher } from './field-crypto.ts';
import { transfers, type TransferOutcome, type TransferUrgency } from './schema.ts';

/** One turn of the conversation before the hand-off. */
export interface TranscriptTurn {
  speaker: 'caller' | 'agent';
  text: string;
}

export interface NewTransfer {
  callId: string;
  requestedAt: Date;
  /** `ring_group`, `external`, `voicemail`, `extension`, … */
  targetKind: string;
  /** The group id, number or extension. */
  targetName: string;
  reason: string;
  summary: string | null;
  intent: string | null;
  urgency: TransferUrgency;
  callerNumber: string | null;
  transcript: readonly TranscriptTurn[] | null;
}

export interface TransferCompletion {
  outcome: TransferOutcome;
  /** When the outcome was known (for a bridge: the bridge). */
  completedAt: Date;
  bridgedAt?: Date | null;
  agentExtension?: string | null;
}

/** `available`: decrypted; `not_stored`: no key when it was written (or no transcript); `unreadable`: wrong or missing key now. */
export type TranscriptStatus = 'available' | 'not_stored' | 'unreadable';

export interface TransferRecord {
  id: string;
  callId: string;
  requestedAt: Date;
  bridgedAt: Date | null;
  completedAt: Date | null;
  /** null while the hand-off is still in progress. */
  outcome: TransferOutcome | null;
  targetKind: string;
  targetName: string;
  agentExtension: string | null;
  reason: string;
  summary: string | null;
  intent: string | null;
  urgency: TransferUrgency;
  callerNumber: string | null;
  transcript: TranscriptTurn[] | null;
  transcriptStatus: TranscriptStatus;
  /** Request → bridged, or request → given up; null while in progress. */
  durationMs: number | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class DrizzleTransferStore {
  readonly #db: DrizzleDb;
  readonly #cipher: FieldCipher | undefined;

  constructor(options: { db: DrizzleDb; cipher?: FieldCipher }) {
    this.#db = options.db;
    this.#cipher = options.cipher;
  }

  /** Whether transcripts are kept (a key is configured); without one they are stored as null. */
  get storesTranscripts(): boolean {
    return this.#cipher !== undefined;
  }

  /**
   * Key rotation: re-seals every stored transcript not under the cipher's current key (rows it cannot
   * open are counted, left as they are). Pages by id so memory stays flat.
   */
  async resealTranscripts(): Promise<{ resealed: number; unreadable: number }> {
    const cipher = this.#cipher;
    if (cipher === undefined) return { resealed: 0, unreadable: 0 };
    return resealColumn(
      cipher,
      async (after, limit) =>
        (
          await this.#run(undefined, () =>
            this.#db
              .select({ id: transfers.id, callId: transfers.callId, transcript: transfers.transcript })
              .from(transfers)
              .where(and(isNotNull(transfers.transcript), gt(transfers.id, after)))
              .orderBy(asc(transfers.id))
              .limit(limit),
          )
        ).map((r) => ({ id: r.id, associatedData: r.callId, value: r.transcript ?? '' })),
      async (id, value) => {
        await this.#run(undefined, () => this.#db.update(transfers).set({ transcript: value }).where(eq(transfers.id, id)));
      },
    );
  }

  /** Stores the request; returns the transfer's id. CallNotFoundError for an unknown call. */
  async create(transfer: NewTransfer): Promise<string> {
    if (!UUID.test(transfer.callId)) throw new CallNotFoundError(transfer.callId);
    const id = randomUUID();
    const transcript =
      transfer.transcript === null || this.#cipher === undefined
        ? null
        : this.#cipher.encrypt(JSON.stringify(transfer.transcript), transfer.callId);
    await this.#run(transfer.callId, () =>
      this.#db.insert(transfers).values({
        id,
        callId: transfer.callId,
        requestedAt: transfer.requestedAt,
        targetKind: transfer.targetKind,
        targetName: transfer.targetName,
        reason: transfer.reason,
        summary: transfer.summary,
        intent: transfer.intent,
        urgency: transfer.urgency,
        callerNumber: transfer.callerNumber,
        transcript,
      }),
    );
    return id;
  }

  /**
   * Records the outcome once: the first completion wins, later ones change nothing and answer false (as
   * does an unknown id). The duration is measured from the stored request time to the bridge (or the end).
   */
  async complete(id: string, completion: TransferCompletion): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const bridgedAt = completion.bridgedAt ?? null;
    const end = bridgedAt ?? completion.completedAt;
    const updated = await this.#run(undefined, () =>
      this.#db
        .update(transfers)
        .set({
          outcome: completion.outcome,
          completedAt: completion.completedAt,
          bridgedAt,
          agentExtension: completion.agentExtension ?? null,
          durationMs: sql`greatest(0, round(extract(epoch from (${end.toISOString()}::timestamptz - ${transfers.requestedAt})) * 1000))::integer`,
        })
        .where(and(eq(transfers.id, id), isNull(transfers.outcome)))
        .returning({ id: transfers.id }),
    );
    return updated.length > 0;
  }

  /** The call's most recent transfer with its transcript decrypted, or undefined. */
  async getLatestForCall(callId: string): Promise<TransferRecord | undefined> {
    if (!UUID.test(callId)) return undefined;
    const [row] = await this.#run(callId, () =>
      this.#db
        .select()
        .from(transfers)
        .where(eq(transfers.callId, callId))
        .orderBy(desc(transfers.requestedAt), desc(transfers.id))
        .limit(1),
    );
    if (row === undefined) return undefined;
    const { transcript, transcriptStatus } = this.#readTranscript(row.transcript, row.callId);
    return {
      id: row.id,
      callId: row.callId,
      requestedAt: row.requestedAt,
      bridgedAt: row.bridgedAt,
      completedAt: row.completedAt,
      outcome: row.outcome as TransferOutcome | null,
      targetKind: row.targetKind,
      targetName: row.targetName,
      agentExtension: row.agentExtension,
      reason: row.reason,
      summary: row.summary,
      intent: row.intent,
      urgency: row.urgency as TransferUrgency,
      callerNumber: row.callerNumber,
      transcript,
      transcriptStatus,
      durationMs: row.durationMs,
    };
  }

  #readTranscript(stored: string | null, callId: string): { transcript: TranscriptTurn[] | null; transcriptStatus: TranscriptStatus } {
    if (stored === null) return { transcript: null, transcriptStatus: 'not_stored' };
    if (this.#cipher === undefined) return { transcript: null, transcriptStatus: 'unreadable' };
    try {
      return { transcript: JSON.parse(this.#cipher.decrypt(stored, callId)) as TranscriptTurn[], transcriptStatus: 'available' };
    } catch {
      // A rotated or wrong key: the rest of the context is still worth showing.
      return { transcript: null, transcriptStatus: 'unreadable' };
    }
  }

  async #run<T>(callId: string | undefined, query: () => PromiseLike<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDbError(error, callId);
    }
  }
}
