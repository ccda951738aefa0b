// Every error callbridge raises on purpose is a CallbridgeError with a stable code. Callers branch on the
// class or the code, never on the message text, and `retryable` says whether trying again can help.

export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  EslConnectionClosed: 'ESL_CONNECTION_CLOSED',
  EslCommandTimeout: 'ESL_COMMAND_TIMEOUT',
  EslCommandFailed: 'ESL_COMMAND_FAILED',
  EslAuthFailed: 'ESL_AUTH_FAILED',
  EslProtocol: 'ESL_PROTOCOL',
  CallNotFound: 'CALL_NOT_FOUND',
  DatabaseUnavailable: 'DATABASE_UNAVAILABLE',
  EslInvalidCommand: 'ESL_INVALID_COMMAND',
  RoutingInvalid: 'ROUTING_INVALID',
  AiEngineUnavailable: 'AI_ENGINE_UNAVAILABLE',
  AiEngineBadReply: 'AI_ENGINE_BAD_REPLY',
  AgentScriptInvalid: 'AGENT_SCRIPT_INVALID',
  SttUnavailable: 'STT_UNAVAILABLE',
  VocabularyInvalid: 'VOCABULARY_INVALID',
  TtsSynthesisFailed: 'TTS_SYNTHESIS_FAILED',
  RecordingTampered: 'RECORDING_TAMPERED',
  RecordingKeyUnknown: 'RECORDING_KEY_UNKNOWN',
  RecordingNotFound: 'RECORDING_NOT_FOUND',
  RecordingInvalid: 'RECORDING_INVALID',
  AccessDenied: 'ACCESS_DENIED',
  Unauthenticated: 'UNAUTHENTICATED',
  QueueUnavailable: 'QUEUE_UNAVAILABLE',
  TranscriptionFailed: 'TRANSCRIPTION_FAILED',
  WebhookRejected: 'WEBHOOK_REJECTED',
  AuditUnavailable: 'AUDIT_UNAVAILABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface CallbridgeErrorOptions {
  cause?: unknown;
  retryable?: boolean;
}

export class CallbridgeError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: CallbridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
  }
}

/** The ESL socket closed (or was never open) while a command was pending or about to be sent. */
export class EslConnectionClosedError extends CallbridgeError {
  constructor(message = 'ESL connection closed', options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.EslConnectionClosed, message, { retryable: true, ...options });
  }
}

/** No reply came within the command's timeout. The connection stays usable: the late reply is discarded. */
export class EslCommandTimeoutError extends CallbridgeError {
  readonly command: string;
  readonly timeoutMs: number;

  constructor(command: string, timeoutMs: number) {
    super(ErrorCode.EslCommandTimeout, `ESL command "${command}" got no reply within ${timeoutMs} ms`, {
      retryable: true,
    });
    this.command = command;
    this.timeoutMs = timeoutMs;
  }
}

/** FreeSWITCH answered with -ERR / -USAGE (or an application finished with an error response). */
export class EslCommandError extends CallbridgeError {
  readonly command: string;
  readonly reply: string;

  constructor(command: string, reply: string) {
    super(ErrorCode.EslCommandFailed, `ESL command "${command}" failed: ${reply.trim()}`);
    this.command = command;
    this.reply = reply;
  }
}

export class EslAuthError extends CallbridgeError {
  constructor(reply: string) {
    super(ErrorCode.EslAuthFailed, `ESL authentication refused: ${reply.trim()}`);
  }
}

/** Bytes on the socket that cannot be ESL (a framing error); the connection is closed. */
export class EslProtocolError extends CallbridgeError {
  constructor(message: string) {
    super(ErrorCode.EslProtocol, message);
  }
}

export class ConfigError extends CallbridgeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(ErrorCode.ConfigInvalid, `Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** A command, header name or value that would break ESL framing (CR/LF: command injection); nothing was sent. */
export class EslInvalidCommandError extends CallbridgeError {
  constructor(message: string) {
    super(ErrorCode.EslInvalidCommand, message);
  }
}

/** No call with this id (or FreeSWITCH uuid) is stored. */
export class CallNotFoundError extends CallbridgeError {
  readonly callId: string;

  constructor(callId: string) {
    super(ErrorCode.CallNotFound, `Call ${callId} not found`);
    this.callId = callId;
  }
}

/** The database could not be reached or dropped the connection; trying again later can help. */
export class DatabaseUnavailableError extends CallbridgeError {
  constructor(message = 'Database unavailable', options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.DatabaseUnavailable, message, { retryable: true, ...options });
  }
}

/** The AI engine did not answer in time, refused the connection or answered with a server error. */
export class AiEngineUnavailableError extends CallbridgeError {
  /** HTTP status when the engine answered, otherwise undefined (timeout, connection refused). */
  readonly status: number | undefined;

  constructor(message: string, options: CallbridgeErrorOptions & { status?: number } = {}) {
    super(ErrorCode.AiEngineUnavailable, message, { retryable: true, ...options });
    this.status = options.status;
  }
}

/** The AI engine answered, but not with a reply the contract allows (bad JSON, wrong shape, 4xx). */
export class AiEngineBadReplyError extends CallbridgeError {
  readonly status: number;

  constructor(message: string, options: CallbridgeErrorOptions & { status: number }) {
    super(ErrorCode.AiEngineBadReply, message, { retryable: false, ...options });
    this.status = options.status;
  }
}

/** The built-in agent's script (dialplan/agent.yaml) does not match its schema; `problems` name each key. */
export class AgentScriptInvalidError extends CallbridgeError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(ErrorCode.AgentScriptInvalid, `Invalid agent script ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Speech-to-text could not start (or restart) a recognition session; the call goes on without STT. */
export class SttUnavailableError extends CallbridgeError {
  constructor(message: string, options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.SttUnavailable, message, options);
  }
}

/** The speech vocabulary file is unreadable or does not match its schema; each problem names its place. */
export class VocabularyError extends CallbridgeError {
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[], options: CallbridgeErrorOptions = {}) {
    super(
      ErrorCode.VocabularyInvalid,
      `Invalid vocabulary ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.problems = problems;
  }
}

/** Text-to-speech produced no usable audio (service error, timeout, unreadable audio); no file was cached. */
export class TtsSynthesisError extends CallbridgeError {
  constructor(message: string, options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.TtsSynthesisFailed, message, { retryable: true, ...options });
  }
}

/** An encrypted recording failed authentication: altered bytes, reordered or missing chunks, or the wrong key. */
export class RecordingTamperedError extends CallbridgeError {
  constructor(message: string, options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.RecordingTampered, message, options);
  }
}

/** An encrypted recording names a master key id the key ring does not hold (rotated away or misconfigured). */
export class RecordingKeyUnknownError extends CallbridgeError {
  readonly keyId: string;

  constructor(keyId: string) {
    super(ErrorCode.RecordingKeyUnknown, `Recording is encrypted under master key "${keyId}", which is not configured`);
    this.keyId = keyId;
  }
}

/** No recording (or transcript) with this id: never stored, or deleted by retention. */
export class RecordingNotFoundError extends CallbridgeError {
  readonly recordingId: string;

  constructor(recordingId: string, what = 'Recording') {
    super(ErrorCode.RecordingNotFound, `${what} ${recordingId} not found`);
    this.recordingId = recordingId;
  }
}

/** A spooled recording that cannot be finished as it is (not a WAV file FreeSWITCH wrote, or unreadable). */
export class RecordingInvalidError extends CallbridgeError {
  constructor(message: string, options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.RecordingInvalid, message, options);
  }
}

/** No credentials, or credentials that are unknown, expired or revoked. The message never says which. */
export class UnauthenticatedError extends CallbridgeError {
  constructor(message = 'A valid API token is required') {
    super(ErrorCode.Unauthenticated, message);
  }
}

/** Valid credentials whose roles do not grant the permission asked for. */
export class AccessDeniedError extends CallbridgeError {
  readonly permission: string;

  constructor(permission: string) {
    super(ErrorCode.AccessDenied, `This token does not grant ${permission}`);
    this.permission = permission;
  }
}

/** A webhook receiver did not take the event: `retryable` unless its answer says trying again cannot help. */
export class WebhookRejectedError extends CallbridgeError {
  /** The receiver's HTTP status; undefined when no answer came (network error, timeout). */
  readonly status: number | undefined;

  constructor(message: string, options: CallbridgeErrorOptions & { status?: number } = {}) {
    super(ErrorCode.WebhookRejected, message, options);
    this.status = options.status;
  }
}

/** An access to PHI was refused because its audit entry could not be written: no audit, no access. */
export class AuditUnavailableError extends CallbridgeError {
  constructor(options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.AuditUnavailable, 'The audit log is unavailable, so the access was refused', { retryable: true, ...options });
  }
}

/** The job queue (Redis) cannot take a job right now; the outbox keeps it and the relay tries again. */
export class QueueUnavailableError extends CallbridgeError {
  constructor(message: string, options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.QueueUnavailable, message, { retryable: true, ...options });
  }
}

/** Post-call transcription failed; `retryable` says whether another attempt can help. */
export class TranscriptionFailedError extends CallbridgeError {
  constructor(message: string, options: CallbridgeErrorOptions = {}) {
    super(ErrorCode.TranscriptionFailed, message, options);
  }
}
