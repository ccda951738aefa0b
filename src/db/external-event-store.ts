// Call events 3CX reported (POST /v1/webhooks/3cx), and the call rows they may belong to. The unique
// (source, event_id) key is the replay protection: a repeated event id is stored once, across restarts.
import { and, gte, lte } from 'drizzle-orm';
import type { DrizzleDb } from './database.ts';
import { translateDbError } from './db-errors.ts';
import { calls, externalCallEvents } from './schema.ts';

export interface NewExternalCallEvent {
  source: string;
  eventId: string;
  eventType: string;
  occurredAt: Date;
  callId: string | null;
  correlation: string;
  data: Record<string, unknown>;
}

/** A call that may be the one an external event is about (numbers as FreeSWITCH gave them). */
export interface CandidateCall {
  id: string;
  fromNumber: string;
  toNumber: string;
  startedAt: Date;
}

export class DrizzleExternalEventStore {
  readonly #db: DrizzleDb;

  constructor(db: DrizzleDb) {
    this.#db = db;
  }

  /** Stores the event; false when this source already sent this event id (nothing is written). */
  async insert(event: NewExternalCallEvent): Promise<boolean> {
    try {
      const rows = await this.#db
        .insert(externalCallEvents)
        .values(event)
        .onConflictDoNothing({ target: [externalCallEvents.source, externalCallEvents.eventId] })
        .returning({ id: externalCallEvents.id });
      return rows.length > 0;
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }

  /** Calls that started between `from` and `to` (the started_at index keeps this a small range scan). */
  async callsStartedBetween(from: Date, to: Date, limit = 200): Promise<CandidateCall[]> {
    try {
      return await this.#db
        .select({ id: calls.id, fromNumber: calls.fromNumber, toNumber: calls.toNumber, startedAt: calls.startedAt })
        .from(calls)
        .where(and(gte(calls.startedAt, from), lte(calls.startedAt, to)))
        .limit(limit);
    } catch (error) {
      throw translateDbError(error, undefined);
    }
  }
}
