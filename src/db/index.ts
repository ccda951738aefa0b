// The db adapter's public surface; src/app/ wires it to the CallStore port.
export { openDatabase, type Database, type DrizzleDb, type OpenDatabaseOptions } from './database.ts';
export { migrate, MIGRATIONS_FOLDER, type MigrateOptions } from './migrate.ts';
export { DrizzleCallStore } from './call-store.ts';
export { schema, calls, callEvents, type Schema } from './schema.ts';
export {
  DrizzleTransferStore,
  type NewTransfer,
  type TransferCompletion,
  type TransferRecord,
  type TranscriptStatus,
  type TranscriptTurn,
} from './transfer-store.ts';
export { FieldCipher } from './field-crypto.ts';
export { transfers, TransferOutcomes, TransferUrgencies, type TransferOutcome, type TransferUrgency } from './schema.ts';
export {
  DrizzleOutboundStore,
  type ContextStatus,
  type DoNotCallEntry,
  type NewOutboundCall,
  type OutboundCallRecord,
  type OutboundCompletion,
  type OutboundContext,
} from './outbound-store.ts';
export { outboundCalls, doNotCall, OutboundStatuses, type OutboundStatus } from './schema.ts';
export { DrizzleOutboxStore, type DbOrTx, type OutboxJob, type PendingJob } from './outbox-store.ts';
export {
  DrizzleRecordingStore,
  type NewRecordingRow,
  type NewTranscriptRow,
  type RecordingRow,
  type TranscriptRow,
} from './recording-store.ts';
export { recordings, transcripts, outbox, auditLog, apiTokens, externalCallEvents } from './schema.ts';
export { DrizzleTokenStore, hashToken, type ApiTokenInfo, type NewApiToken } from './token-store.ts';
export {
  DrizzleAuditStore,
  GENESIS_HASH,
  type AuditEntry,
  type AuditListQuery,
  type AuditProblem,
  type AuditVerification,
  type NewAuditEntry,
} from './audit-store.ts';
