// The append-only audit trail. Each entry's hash covers the previous entry's hash and the entry itself (its
// seq included), so an edited, removed or reordered entry breaks the chain where it happened; the database
// refuses UPDATE and DELETE on the table (trigger in the migration), and `verify()` proves the rest.
// Appends are serialized across processes (controller, CLI) by a transaction-scoped advisory lock: two
// writers reading the same "last entry" would fork the chain.
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, gte, lt, sql, type SQL } from 'drizzle-orm';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { auditLog } from './schema.ts';

export const GENESIS_HASH = '0'.repeat(64);
// Any fixed number works; it only has to be the same for every writer of this table.
const APPEND_LOCK_KEY = 7_286_532_105;
const VERIFY_PAGE = 500;

export interface NewAuditEntry {
  at: Date;
  /** Who: a token's name, `bootstrap`, `system` … never a secret. */
  actor: string;
  /** What, as a dotted verb: `token.create`, `recording.play`, `http.request` … */
  action: string;
  targetType: string;
  targetId?: string | null;
  /** The reason the actor stated (required for playing recordings). */
  reason?: string | null;
  /** PHI-free facts. Stored as JSON: dates become ISO strings, undefined values are dropped. */
  details?: Record<string, unknown>;
}

import type { AuditEntry, AuditProblem, AuditVerification } from '../core/audit.ts';

export type { AuditEntry, AuditProblem, AuditVerification } from '../core/audit.ts';

export interface AuditListQuery {
  limit: number;
  /** Only entries at or after this time. */
  since?: Date;
  action?: string;
  /** Paging: only entries older than this seq (newest first). */
  beforeSeq?: number;
}

type Row = typeof auditLog.$inferSelect;

export class DrizzleAuditStore {
  readonly #db: DrizzleDb;

  constructor(options: { db: DrizzleDb }) {
    this.#db = options.db;
  }

  async append(entry: NewAuditEntry): Promise<AuditEntry> {
    return this.#run(() =>
      this.#db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(String(APPEND_LOCK_KEY))})`);
        const [last] = await tx.select({ seq: auditLog.seq, hash: auditLog.hash }).from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
        const fields = {
          seq: (last?.seq ?? 0) + 1,
          at: entry.at,
          actor: entry.actor,
          action: entry.action,
          targetType: entry.targetType,
          targetId: entry.targetId ?? null,
          reason: entry.reason ?? null,
          // The JSON round trip is what the database will give back: hashing it makes verify() agree.
          details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>,
        };
        const prevHash = last?.hash ?? GENESIS_HASH;
        const [row] = await tx.insert(auditLog).values({ ...fields, prevHash, hash: entryHash(prevHash, fields) }).returning();
        return row as AuditEntry;
      }),
    );
  }

  /** Newest first. */
  async list(query: AuditListQuery): Promise<AuditEntry[]> {
    const conditions: SQL[] = [];
    if (query.since !== undefined) conditions.push(gte(auditLog.at, query.since));
    if (query.action !== undefined) conditions.push(eq(auditLog.action, query.action));
    if (query.beforeSeq !== undefined) conditions.push(lt(auditLog.seq, query.beforeSeq));
    const rows = await this.#run(() =>
      this.#db
        .select()
        .from(auditLog)
        .where(conditions.length === 0 ? undefined : and(...conditions))
        .orderBy(desc(auditLog.seq))
        .limit(query.limit),
    );
    return rows as AuditEntry[];
  }

  /** Walks the whole chain oldest first, a page at a time (memory stays flat however long the log). */
  async verify(): Promise<AuditVerification> {
    let expectedSeq = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    for (;;) {
      const page: Row[] = await this.#run(() =>
        this.#db.select().from(auditLog).where(gt(auditLog.seq, expectedSeq - 1)).orderBy(asc(auditLog.seq)).limit(VERIFY_PAGE),
      );
      for (const row of page) {
        const bad = (firstBadSeq: number, problem: AuditProblem, message: string): AuditVerification => ({ ok: false, checked, firstBadSeq, problem, message });
        if (row.seq !== expectedSeq) return bad(expectedSeq, 'missing', `entry ${expectedSeq} is missing (next present is ${row.seq})`);
        // Its seq is hashed too: an entry moved to another place fails here as well.
        if (entryHash(row.prevHash, row) !== row.hash) return bad(row.seq, 'altered', `entry ${row.seq} was altered after it was written`);
        // This entry is intact, yet it recorded another hash for its predecessor, which checked out on its own:
        // the predecessor was replaced by a self-consistent forgery.
        if (row.prevHash !== prevHash) {
          const replaced = Math.max(1, row.seq - 1);
          return bad(replaced, 'broken_link', `entry ${replaced} was replaced: entry ${row.seq} recorded another hash for its predecessor`);
        }
        checked += 1;
        expectedSeq += 1;
        prevHash = row.hash;
      }
      if (page.length < VERIFY_PAGE) break;
    }
    return { ok: true, checked, ...(checked === 0 ? {} : { head: { seq: expectedSeq - 1, hash: prevHash } }) };
  }

  async #run<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }
}

type HashedFields = Pick<AuditEntry, 'seq' | 'at' | 'actor' | 'action' | 'targetType' | 'targetId' | 'reason' | 'details'>;

/** sha256(prevHash + canonical JSON of the entry): keys sorted at every level, time as ISO 8601 UTC. */
export function entryHash(prevHash: string, entry: HashedFields): string {
  const canonical = canonicalJson({
    seq: entry.seq,
    at: entry.at.toISOString(),
    actor: entry.actor,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    reason: entry.reason,
    details: entry.details,
  });
  return createHash('sha256').update(prevHash + canonical, 'utf8').digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
