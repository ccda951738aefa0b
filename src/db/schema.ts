// Durable call history: one row per call, and its events in the order the controller saw them.
// Check constraints mirror the domain enums so that a bad write fails here instead of confusing a reader later.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
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
    /** `v2:<key id>:<iv>:<tag>:<ciphertext>` of the JSON transcript (field-crypto.ts), or null. */
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
    /** `v2:<key id>:<iv>:<tag>:<ciphertext>` of the JSON context (field-crypto.ts), or null. */
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

export type Schema = typeof schema;

// ---- Recordings, transcripts, the outbox, audit, API tokens, 3CX events (issue 7) ----

/**
 * One encrypted recording. The audio lives in recording storage under `storageKey` (CBREC1 envelope);
 * `fileId` is the envelope's own random id, checked on every read so a file swapped in from another
 * recording is refused. `spoolFile` (the plaintext's name in the spool) makes finishing idempotent.
 */
export const recordings = pgTable(
  'recordings',
  {
    id: uuid('id').primaryKey(),
    callId: uuid('call_id').notNull(),
    spoolFile: text('spool_file').notNull().unique(),
    storageKey: text('storage_key').notNull(),
    keyId: text('key_id').notNull(),
    fileId: text('file_id').notNull(),
    plaintextBytes: bigint('plaintext_bytes', { mode: 'number' }).notNull(),
    plaintextSha256: text('plaintext_sha256').notNull(),
    encryptedBytes: bigint('encrypted_bytes', { mode: 'number' }).notNull(),
    durationMs: integer('duration_ms'),
    channels: integer('channels'),
    sampleRate: integer('sample_rate'),
    recordedAt: timestamptz('recorded_at').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    /** recordedAt + RETENTION_PERIOD_YEARS; the retention job deletes past it unless on legal hold. */
    retainUntil: timestamptz('retain_until').notNull(),
    legalHold: boolean('legal_hold').notNull().default(false),
    legalHoldReason: text('legal_hold_reason'),
  },
  (t) => [index('recordings_call_id_idx').on(t.callId), index('recordings_retain_until_idx').on(t.retainUntil)],
);

/** A recording's transcript: the words are in storage (CBREC1 envelope), only counts and stats here. */
export const transcripts = pgTable('transcripts', {
  recordingId: uuid('recording_id')
    .primaryKey()
    .references(() => recordings.id, { onDelete: 'cascade' }),
  callId: uuid('call_id').notNull(),
  storageKey: text('storage_key').notNull(),
  keyId: text('key_id').notNull(),
  fileId: text('file_id').notNull(),
  language: text('language').notNull(),
  wordCount: integer('word_count').notNull(),
  /** Talk/silence per channel (ms), overlap and longest silence: no words. */
  stats: jsonb('stats').$type<Record<string, unknown>>().notNull(),
  providerJobId: text('provider_job_id'),
  createdAt: timestamptz('created_at').notNull().defaultNow(),
});

/**
 * Jobs waiting to reach the queue. Written in the same transaction as the fact they follow from (a
 * recording row, an event), moved to BullMQ by the relay; `jobId` is the BullMQ job id, so a row relayed
 * twice (crash between add and mark) is still one job.
 */
export const outbox = pgTable(
  'outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    queue: text('queue').notNull(),
    jobName: text('job_name').notNull(),
    jobId: text('job_id').notNull().unique(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    relayedAt: timestamptz('relayed_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('outbox_pending_idx').on(t.id).where(sql`${t.relayedAt} is null`)],
);

/**
 * Append-only audit trail. Each entry's hash covers the previous entry's hash and its own fields, so an
 * edited, removed or reordered entry breaks the chain (`callbridge audit verify`). A trigger in the
 * migration refuses UPDATE and DELETE.
 */
export const auditLog = pgTable('audit_log', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  at: timestamptz('at').notNull(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  targetType: text('target_type').notNull(),
  targetId: text('target_id'),
  reason: text('reason'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull().unique(),
});

/** API tokens for the HTTP API and the CLI: only a SHA-256 of the secret is kept. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    roles: text('roles').array().notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
    expiresAt: timestamptz('expires_at').notNull(),
    revokedAt: timestamptz('revoked_at'),
    lastUsedAt: timestamptz('last_used_at'),
  },
  (t) => [check('api_tokens_roles_check', sql`${t.roles} <@ array['admin','manager','agent','auditor','service']::text[]`)],
);

/** Call events reported by 3CX (POST /v1/webhooks/3cx); `eventId` unique makes a replay a no-op. */
export const externalCallEvents = pgTable(
  'external_call_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    source: text('source').notNull(),
    eventId: text('event_id').notNull(),
    eventType: text('event_type').notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
    callId: uuid('call_id'),
    correlation: text('correlation').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [unique('external_call_events_source_event_id_key').on(t.source, t.eventId), index('external_call_events_call_id_idx').on(t.callId)],
);

export const schema = {
  calls,
  callEvents,
  transfers,
  outboundCalls,
  doNotCall,
  recordings,
  transcripts,
  outbox,
  auditLog,
  apiTokens,
  externalCallEvents,
};
