// Durable call history: one row per call, and its events in the order the controller saw them.
// Check constraints mirror the domain enums so that a bad write fails here instead of confusing a reader later.
import { sql } from 'drizzle-orm';
import {
  bigserial,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

import type { VoiceQuality } from '../core/voice-quality.ts';

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const calls = pgTable(
  'calls',
  {
    id: uuid('id').primaryKey(),
    fsUuid: text('fs_uuid').notNull().unique(),
    direction: text('direction').notNull(),
    fromNumber: text('from_number').notNull(),
    toNumber: text('to_number').notNull(),
    location: text('location'),
    state: text('state').notNull(),
    startedAt: timestamptz('started_at').notNull(),
    answeredAt: timestamptz('answered_at'),
    endedAt: timestamptz('ended_at'),
    hangupCause: text('hangup_cause'),
    /** RTP statistics at hangup (mos, packet loss, jitter, poor); null for calls without RTP. */
    voiceQuality: jsonb('voice_quality').$type<VoiceQuality>(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // The dashboard lists newest first, optionally by state; id breaks ties so pages never overlap.
    index('calls_started_at_idx').on(t.startedAt.desc(), t.id.desc()),
    index('calls_state_started_at_idx').on(t.state, t.startedAt.desc(), t.id.desc()),
    // Reconciliation after a restart reads only the live calls, a small slice of a large table.
    index('calls_unended_idx').on(t.startedAt).where(sql`${t.state} <> 'ended'`),
    check('calls_direction_check', sql`${t.direction} in ('inbound', 'outbound')`),
    check(
      'calls_state_check',
      sql`${t.state} in ('ringing', 'answered', 'in_conversation', 'transferring', 'bridged', 'ended')`,
    ),
  ],
);

export const callEvents = pgTable(
  'call_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    callId: uuid('call_id')
      .notNull()
      .references(() => calls.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    fromState: text('from_state'),
    toState: text('to_state'),
    at: timestamptz('at').notNull(),
    monotonicMs: doublePrecision('monotonic_ms').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  // The unique (call_id, seq) index also serves "events of a call ordered by seq".
  (t) => [unique('call_events_call_id_seq_key').on(t.callId, t.seq)],
);

/** What became of a hand-off to a person; null while it is still ringing. */
export const TransferOutcomes = ['bridged', 'no_answer', 'failed', 'cancelled'] as const;
export type TransferOutcome = (typeof TransferOutcomes)[number];
export const TransferUrgencies = ['normal', 'urgent', 'emergency'] as const;
export type TransferUrgency = (typeof TransferUrgencies)[number];

// One row per hand-off, written before anything rings so the agent's screen can show the context the moment
// the call arrives. The transcript is ciphertext (field-crypto.ts) or null when no key is configured.
export const transfers = pgTable(
  'transfers',
  {
    id: uuid('id').primaryKey(),
    callId: uuid('call_id')
      .notNull()
      .references(() => calls.id, { onDelete: 'cascade' }),
    requestedAt: timestamptz('requested_at').notNull(),
    bridgedAt: timestamptz('bridged_at'),
    completedAt: timestamptz('completed_at'),
    outcome: text('outcome'),
    /** `ring_group`, `external`, `voicemail`, `extension` … and its name (`billing`, a number). */
    targetKind: text('target_kind').notNull(),
    targetName: text('target_name').notNull(),
    agentExtension: text('agent_extension'),
    reason: text('reason').notNull(),
    summary: text('summary'),
    intent: text('intent'),
    urgency: text('urgency').notNull().default('normal'),
    callerNumber: text('caller_number'),
    /** `v1:<iv>:<tag>:<ciphertext>` of the JSON transcript, or null. */
    transcript: text('transcript'),
    /** Request → bridged (or → given up), in ms. */
    durationMs: integer('duration_ms'),
  },
  (t) => [
    // "The latest transfer of a call" is the context lookup.
    index('transfers_call_id_requested_at_idx').on(t.callId, t.requestedAt.desc()),
    check('transfers_outcome_check', sql`${t.outcome} is null or ${t.outcome} in ('bridged', 'no_answer', 'failed', 'cancelled')`),
    check('transfers_urgency_check', sql`${t.urgency} in ('normal', 'urgent', 'emergency')`),
  ],
);

/** Where an outbound AI call stands; `scheduled` and `placing` are the live ones. */
export const OutboundStatuses = ['scheduled', 'placing', 'answered', 'machine', 'no_answer', 'failed', 'refused', 'cancelled'] as const;
export type OutboundStatus = (typeof OutboundStatuses)[number];

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '));

// One row per outbound call request (POST /v1/calls/outbound), from scheduling to its result. The context is
// ciphertext (field-crypto.ts, bound to the row id) or null when no key is configured: never in clear.
export const outboundCalls = pgTable(
  'outbound_calls',
  {
    id: uuid('id').primaryKey(),
    toNumber: text('to_number').notNull(),
    purpose: text('purpose').notNull(),
    /** `v1:<iv>:<tag>:<ciphertext>` of the JSON context, or null. */
    context: text('context'),
    notBefore: timestamptz('not_before'),
    notAfter: timestamptz('not_after'),
    /** IANA zone whose wall clock the calling hours are read on (the patient's). */
    timeZone: text('time_zone').notNull(),
    status: text('status').notNull(),
    /** When the dialer should (next) place it. */
    scheduledAt: timestamptz('scheduled_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** Start of the latest attempt: the rate limits count these. */
    lastAttemptAt: timestamptz('last_attempt_at'),
    /** Our call id once the leg is up. */
    callId: uuid('call_id'),
    /** Why it ended (a hangup cause, a refusal reason) or why the last attempt failed. */
    result: text('result'),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    updatedAt: timestamptz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // The dialer's "what is due" reads only the scheduled rows.
    index('outbound_calls_due_idx').on(t.scheduledAt).where(sql`${t.status} = 'scheduled'`),
    index('outbound_calls_last_attempt_at_idx').on(t.lastAttemptAt),
    check('outbound_calls_status_check', sql`${t.status} in (${inList(OutboundStatuses)})`),
    check('outbound_calls_purpose_check', sql`${t.purpose} in ('appointment_reminder', 'follow_up', 'results_ready', 'reschedule')`),
  ],
);

/** Numbers that must never get an outbound AI call (E.164). */
export const doNotCall = pgTable('do_not_call', {
  number: text('number').primaryKey(),
  addedAt: timestamptz('added_at').notNull().defaultNow(),
  reason: text('reason'),
});

export const schema = { calls, callEvents, transfers, outboundCalls, doNotCall };
export type Schema = typeof schema;
