// Outbound AI call requests and the do-not-call list. A request is written when it is accepted (or refused,
// for the record); the dialer claims due rows one at a time (scheduled → placing, so two dialers never place
// the same call), then completes them or puts them back with a later time. The context is encrypted with the
// FieldCipher bound to the row's id; without a key it is not stored at all (null), never in clear.
import { randomUUID } from 'node:crypto';
import { and, asc, eq, gt, gte, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { OutboundAttempt, OutboundPurpose } from '../core/outbound-policy.ts';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { resealColumn, type FieldCipher } from './field-crypto.ts';
import { doNotCall, outboundCalls, type OutboundStatus } from './schema.ts';

export type OutboundContext = Record<string, unknown>;

export interface NewOutboundCall {
  to: string;
  purpose: OutboundPurpose;
  context: OutboundContext | null;
  notBefore: Date | null;
  notAfter: Date | null;
  /** IANA zone of the patient: calling hours are read on its wall clock. */
  timeZone: string;
  /** `scheduled`, or `refused` to keep a record of a request the policy turned down. */
  status: 'scheduled' | 'refused';
  scheduledAt: Date;
  /** The refusal reason, for a refused request. */
  result?: string | null;
}

/** `available`: decrypted; `not_stored`: no key when written (or no context); `unreadable`: wrong or missing key now. */
export type ContextStatus = 'available' | 'not_stored' | 'unreadable';

export interface OutboundCallRecord {
  id: string;
  to: string;
  purpose: OutboundPurpose;
  context: OutboundContext | null;
  contextStatus: ContextStatus;
  notBefore: Date | null;
  notAfter: Date | null;
  timeZone: string;
  status: OutboundStatus;
  scheduledAt: Date;
  attempts: number;
  lastAttemptAt: Date | null;
  callId: string | null;
  result: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** How a placed call ended (or was given up). */
export interface OutboundCompletion {
  status: Extract<OutboundStatus, 'answered' | 'machine' | 'no_answer' | 'failed' | 'cancelled'>;
  result?: string | null;
  callId?: string | null;
  at: Date;
}

export interface DoNotCallEntry {
  number: string;
  addedAt: Date;
  reason: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
type Row = typeof outboundCalls.$inferSelect;

export class DrizzleOutboundStore {
  readonly #db: DrizzleDb;
  readonly #cipher: FieldCipher | undefined;

  constructor(options: { db: DrizzleDb; cipher?: FieldCipher }) {
    this.#db = options.db;
    this.#cipher = options.cipher;
  }

  async create(call: NewOutboundCall): Promise<OutboundCallRecord> {
    const id = randomUUID();
    const context = call.context === null || this.#cipher === undefined ? null : this.#cipher.encrypt(JSON.stringify(call.context), id);
    const [row] = await this.#run(() =>
      this.#db
        .insert(outboundCalls)
        .values({
          id,
          toNumber: call.to,
          purpose: call.purpose,
          context,
          notBefore: call.notBefore,
          notAfter: call.notAfter,
          timeZone: call.timeZone,
          status: call.status,
          scheduledAt: call.scheduledAt,
          result: call.result ?? null,
        })
        .returning(),
    );
    return this.#record(row as Row);
  }

  async get(id: string): Promise<OutboundCallRecord | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.#run(() => this.#db.select().from(outboundCalls).where(eq(outboundCalls.id, id)));
    return row === undefined ? undefined : this.#record(row);
  }

  /** Scheduled requests whose time has come, oldest first. */
  async due(now: Date, limit = 50): Promise<OutboundCallRecord[]> {
    const rows = await this.#run(() =>
      this.#db
        .select()
        .from(outboundCalls)
        .where(and(eq(outboundCalls.status, 'scheduled'), lte(outboundCalls.scheduledAt, now)))
        .orderBy(asc(outboundCalls.scheduledAt), asc(outboundCalls.id))
        .limit(limit),
    );
    return rows.map((r) => this.#record(r));
  }

  /** Claims a scheduled request for an attempt starting `at` (counts it); false if it is not scheduled any more. */
  async markPlacing(id: string, at: Date): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.#run(() =>
      this.#db
        .update(outboundCalls)
        .set({ status: 'placing', attempts: sql`${outboundCalls.attempts} + 1`, lastAttemptAt: at, updatedAt: at })
        .where(and(eq(outboundCalls.id, id), eq(outboundCalls.status, 'scheduled')))
        .returning({ id: outboundCalls.id }),
    );
    return rows.length > 0;
  }

  /** Puts a request back in the queue for `at` (a retry, or a policy delay); only from scheduled or placing. */
  async reschedule(id: string, at: Date, options: { result?: string | null; now: Date }): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.#run(() =>
      this.#db
        .update(outboundCalls)
        .set({ status: 'scheduled', scheduledAt: at, result: options.result ?? null, updatedAt: options.now })
        .where(and(eq(outboundCalls.id, id), inArray(outboundCalls.status, ['scheduled', 'placing'])))
        .returning({ id: outboundCalls.id }),
    );
    return rows.length > 0;
  }

  /**
   * Records how the request ended, once: only a live request (scheduled or placing) changes; a finished one
   * (or an unknown id) answers false.
   */
  async complete(id: string, completion: OutboundCompletion): Promise<boolean> {
    return this.#finish(id, completion.status, completion.at, completion.result ?? null, completion.callId ?? null);
  }

  /**
   * What the answered call turned out to be, from the session that took it over: our call id, and whether a
   * person or a machine answered. Accepted while placing (the socket can connect before the originate's
   * result arrives) or answered; false otherwise.
   */
  async noteAnswered(id: string, answer: { callId?: string; machine?: boolean; at: Date }): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.#run(() =>
      this.#db
        .update(outboundCalls)
        .set({
          status: answer.machine === true ? 'machine' : 'answered',
          updatedAt: answer.at,
          ...(answer.callId === undefined ? {} : { callId: answer.callId }),
        })
        .where(and(eq(outboundCalls.id, id), inArray(outboundCalls.status, ['placing', 'answered'])))
        .returning({ id: outboundCalls.id }),
    );
    return rows.length > 0;
  }

  /** Turns a live request down (the policy refused it when it came due, e.g. the number went on the list). */
  async refuse(id: string, reason: string, at: Date): Promise<boolean> {
    return this.#finish(id, 'refused', at, reason, null);
  }

  /** Attempts started since `since` (for the rate limits). */
  async recentAttempts(since: Date): Promise<OutboundAttempt[]> {
    const rows = await this.#run(() =>
      this.#db
        .select({ to: outboundCalls.toNumber, at: outboundCalls.lastAttemptAt })
        .from(outboundCalls)
        .where(and(isNotNull(outboundCalls.lastAttemptAt), gte(outboundCalls.lastAttemptAt, since))),
    );
    return rows.map((r) => ({ to: r.to, at: r.at as Date }));
  }

  async addDoNotCall(number: string, options: { reason?: string | null; at: Date }): Promise<void> {
    await this.#run(() =>
      this.#db
        .insert(doNotCall)
        .values({ number, addedAt: options.at, reason: options.reason ?? null })
        .onConflictDoUpdate({ target: doNotCall.number, set: { reason: options.reason ?? null } }),
    );
  }

  /** False when the number was not on the list. */
  async removeDoNotCall(number: string): Promise<boolean> {
    const rows = await this.#run(() => this.#db.delete(doNotCall).where(eq(doNotCall.number, number)).returning({ number: doNotCall.number }));
    return rows.length > 0;
  }

  async isDoNotCall(number: string): Promise<boolean> {
    const rows = await this.#run(() => this.#db.select({ number: doNotCall.number }).from(doNotCall).where(eq(doNotCall.number, number)));
    return rows.length > 0;
  }

  async listDoNotCall(): Promise<DoNotCallEntry[]> {
    return this.#run(() => this.#db.select().from(doNotCall).orderBy(asc(doNotCall.number)));
  }

  async #finish(id: string, status: OutboundStatus, at: Date, result: string | null, callId: string | null): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const rows = await this.#run(() =>
      this.#db
        .update(outboundCalls)
        .set({ status, result, updatedAt: at, ...(callId === null ? {} : { callId }) })
        .where(and(eq(outboundCalls.id, id), inArray(outboundCalls.status, ['scheduled', 'placing'])))
        .returning({ id: outboundCalls.id }),
    );
    return rows.length > 0;
  }

  #record(row: Row): OutboundCallRecord {
    const { context, contextStatus } = this.#readContext(row.context, row.id);
    return {
      id: row.id,
      to: row.toNumber,
      purpose: row.purpose as OutboundPurpose,
      context,
      contextStatus,
      notBefore: row.notBefore,
      notAfter: row.notAfter,
      timeZone: row.timeZone,
      status: row.status as OutboundStatus,
      scheduledAt: row.scheduledAt,
      attempts: row.attempts,
      lastAttemptAt: row.lastAttemptAt,
      callId: row.callId,
      result: row.result,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    };
  }

  /** Key rotation: re-seals every stored context not under the cipher's current key (see the transfer store). */
  async resealContexts(): Promise<{ resealed: number; unreadable: number }> {
    const cipher = this.#cipher;
    if (cipher === undefined) return { resealed: 0, unreadable: 0 };
    return resealColumn(
      cipher,
      async (after, limit) =>
        (
          await this.#run(() =>
            this.#db
              .select({ id: outboundCalls.id, context: outboundCalls.context })
              .from(outboundCalls)
              .where(and(isNotNull(outboundCalls.context), gt(outboundCalls.id, after)))
              .orderBy(asc(outboundCalls.id))
              .limit(limit),
          )
        ).map((r) => ({ id: r.id, associatedData: r.id, value: r.context ?? '' })),
      async (id, value) => {
        await this.#run(() => this.#db.update(outboundCalls).set({ context: value }).where(eq(outboundCalls.id, id)));
      },
    );
  }

  #readContext(stored: string | null, id: string): { context: OutboundContext | null; contextStatus: ContextStatus } {
    if (stored === null) return { context: null, contextStatus: 'not_stored' };
    if (this.#cipher === undefined) return { context: null, contextStatus: 'unreadable' };
    try {
      return { context: JSON.parse(this.#cipher.decrypt(stored, id)) as OutboundContext, contextStatus: 'available' };
    } catch {
      return { context: null, contextStatus: 'unreadable' };
    }
  }

  async #run<T>(query: () => PromiseLike<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }
}
