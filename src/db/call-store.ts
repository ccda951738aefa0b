// CallStore on drizzle: the same code runs on node-postgres and on PGlite.
import { and, asc, desc, eq, gte, ne, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { CallDirection, CallEventRecord, CallRecord, CallState, CallWithEvents } from '../core/call.ts';
import { CallNotFoundError } from '../core/errors.ts';
import type { CallerRoute, CallListQuery, CallStore, CallUpdate, CallWriteBatch } from '../core/ports.ts';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { callEvents, calls } from './schema.ts';

type CallRow = typeof calls.$inferSelect;
type EventRow = typeof callEvents.$inferSelect;

// Postgres rejects a malformed uuid with an error; for a lookup "no such call" is the honest answer.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class DrizzleCallStore implements CallStore {
  readonly #db: DrizzleDb;

  constructor(options: { db: DrizzleDb }) {
    this.#db = options.db;
  }

  async createCall(call: CallRecord): Promise<void> {
    await this.#run(call.id, () => this.#db.insert(calls).values(toCallRow(call)));
  }

  async updateCall(id: string, update: CallUpdate): Promise<void> {
    if (!UUID.test(id)) throw new CallNotFoundError(id);
    const set = toUpdateSet(update);
    const updated = await this.#run(id, () =>
      this.#db.update(calls).set(set).where(eq(calls.id, id)).returning({ id: calls.id }),
    );
    if (updated.length === 0) throw new CallNotFoundError(id);
  }

  async writeBatch(batch: CallWriteBatch): Promise<void> {
    for (const event of batch.events) if (!UUID.test(event.callId)) throw new CallNotFoundError(event.callId);
    for (const { id } of batch.updates) if (!UUID.test(id)) throw new CallNotFoundError(id);
    await this.#run(undefined, () =>
      this.#db.transaction(async (tx) => {
        if (batch.newCalls.length > 0) await tx.insert(calls).values(batch.newCalls.map(toCallRow));
        if (batch.events.length > 0) await tx.insert(callEvents).values(batch.events.map(toEventRow));
        for (const { id, update } of batch.updates) {
          const updated = await tx.update(calls).set(toUpdateSet(update)).where(eq(calls.id, id)).returning({ id: calls.id });
          if (updated.length === 0) throw new CallNotFoundError(id);
        }
      }),
    );
  }

  async appendEvent(event: CallEventRecord): Promise<void> {
    if (!UUID.test(event.callId)) throw new CallNotFoundError(event.callId);
    await this.#run(event.callId, () => this.#db.insert(callEvents).values(toEventRow(event)));
  }

  async listCalls(query: CallListQuery): Promise<CallRecord[]> {
    const rows = await this.#run(undefined, () =>
      this.#db
        .select()
        .from(calls)
        .where(query.state === undefined ? undefined : eq(calls.state, query.state))
        .orderBy(desc(calls.startedAt), desc(calls.id))
        .limit(query.limit)
        .offset(query.offset ?? 0),
    );
    return rows.map(toCallRecord);
  }

  async getCall(id: string): Promise<CallWithEvents | undefined> {
    if (!UUID.test(id)) return undefined;
    const [row] = await this.#run(id, () => this.#db.select().from(calls).where(eq(calls.id, id)).limit(1));
    if (row === undefined) return undefined;
    const events = await this.#run(id, () =>
      this.#db.select().from(callEvents).where(eq(callEvents.callId, id)).orderBy(asc(callEvents.seq)),
    );
    return { ...toCallRecord(row), events: events.map(toEventRecord) };
  }

  async listUnendedCalls(): Promise<CallRecord[]> {
    const rows = await this.#run(undefined, () =>
      this.#db
        .select()
        .from(calls)
        .where(ne(calls.state, 'ended'))
        .orderBy(asc(calls.startedAt), asc(calls.id)),
    );
    return rows.map(toCallRecord);
  }

  async recentCallerRoutes(since: Date): Promise<CallerRoute[]> {
    // The ring group is in the journal entry of the routing decision ('offered' → data.route.ringGroup).
    const ringGroup = sql<string | null>`${callEvents.data} -> 'route' ->> 'ringGroup'`;
    const rows = await this.#run(undefined, () =>
      this.#db
        .select({ fromNumber: calls.fromNumber, startedAt: calls.startedAt, ringGroup })
        .from(calls)
        .leftJoin(callEvents, and(eq(callEvents.callId, calls.id), eq(callEvents.type, 'offered')))
        .where(gte(calls.startedAt, since))
        .orderBy(asc(calls.startedAt)),
    );
    return rows.map((row) => ({ fromNumber: row.fromNumber, startedAt: row.startedAt, ringGroup: row.ringGroup ?? null }));
  }

  async ping(): Promise<void> {
    await this.#run(undefined, () => this.#db.execute(sql`select 1`));
  }

  async #run<T>(callId: string | undefined, query: () => PromiseLike<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDbError(error, callId);
    }
  }
}

function toCallRow(call: CallRecord): typeof calls.$inferInsert {
  return {
    id: call.id,
    fsUuid: call.fsUuid,
    direction: call.direction,
    fromNumber: call.fromNumber,
    toNumber: call.toNumber,
    location: call.location,
    state: call.state,
    startedAt: call.startedAt,
    answeredAt: call.answeredAt,
    endedAt: call.endedAt,
    hangupCause: call.hangupCause,
    voiceQuality: call.voiceQuality ?? null,
  };
}

function toEventRow(event: CallEventRecord): typeof callEvents.$inferInsert {
  return {
    callId: event.callId,
    seq: event.seq,
    type: event.type,
    fromState: event.fromState,
    toState: event.toState,
    at: event.at,
    monotonicMs: event.monotonicMs,
    data: event.data,
  };
}

/** Only the fields present in the update are written; `undefined` means "leave as is", null clears. */
function toUpdateSet(update: CallUpdate): PgUpdateSetSource<typeof calls> {
  const set: PgUpdateSetSource<typeof calls> = { updatedAt: sql`now()` };
  if (update.state !== undefined) set.state = update.state;
  if (update.answeredAt !== undefined) set.answeredAt = update.answeredAt;
  if (update.endedAt !== undefined) set.endedAt = update.endedAt;
  if (update.hangupCause !== undefined) set.hangupCause = update.hangupCause;
  if (update.location !== undefined) set.location = update.location;
  if (update.voiceQuality !== undefined) set.voiceQuality = update.voiceQuality;
  return set;
}

function toCallRecord(row: CallRow): CallRecord {
  return {
    id: row.id,
    fsUuid: row.fsUuid,
    direction: row.direction as CallDirection,
    fromNumber: row.fromNumber,
    toNumber: row.toNumber,
    location: row.location,
    state: row.state as CallState,
    startedAt: row.startedAt,
    answeredAt: row.answeredAt,
    endedAt: row.endedAt,
    hangupCause: row.hangupCause,
    voiceQuality: row.voiceQuality ?? null,
  };
}

function toEventRecord(row: EventRow): CallEventRecord {
  return {
    callId: row.callId,
    seq: row.seq,
    type: row.type,
    fromState: row.fromState as CallState | null,
    toState: row.toState as CallState | null,
    at: row.at,
    monotonicMs: row.monotonicMs,
    data: row.data,
  };
}
