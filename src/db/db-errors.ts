// Driver errors → callbridge errors. drizzle wraps driver errors in DrizzleQueryError, whose message carries
// the query parameters (phone numbers among them); we keep only the driver's own error as the cause.
import { DrizzleQueryError } from 'drizzle-orm';
import { CallNotFoundError, DatabaseUnavailableError } from '../core/errors.ts';

// SQLSTATE classes that mean "the database is not there right now": 08 connection exception,
// 53 insufficient resources, 57P0x operator intervention / shutdown.
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const FOREIGN_KEY_VIOLATION = '23503';

function driverError(error: unknown): unknown {
  return error instanceof DrizzleQueryError && error.cause !== undefined ? error.cause : error;
}

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  // node-postgres reports a dropped or ended connection only in the message; PGlite after close() likewise.
  return /Connection terminated|Client was closed|Cannot use a pool after calling end|PGlite is closed/i.test(
    error.message,
  );
}

/** A foreign-key miss on a call's id becomes CallNotFoundError; a lost connection DatabaseUnavailableError. */
export function translateDbError(error: unknown, callId: string | undefined): Error {
  const cause = driverError(error);
  if (isUnavailable(cause)) {
    return new DatabaseUnavailableError(`Database unavailable: ${(cause as Error).message}`, { cause });
  }
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (code === FOREIGN_KEY_VIOLATION && callId !== undefined) return new CallNotFoundError(callId);
  return cause instanceof Error ? cause : new Error(String(cause));
}
