// `callbridge recordings …` and `callbridge retention run`: the same access rules as the HTTP API, for
// operators at a shell. Every run authenticates an API token (--token or CALLBRIDGE_API_TOKEN) for the one
// permission it needs, and plays, exports and reads go through RecordingsService, so they are audited
// (actor = the token's name, with the stated reason) before a byte is decrypted. Decrypted audio goes only
// where the operator says: a pipe (never a terminal) or a new file of their naming, mode 0600.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Permission, Principal } from '../core/access.ts';
import { ConfigError, RecordingNotFoundError } from '../core/errors.ts';
import { DrizzleRecordingStore, type Database } from '../db/index.ts';
import type { RecordingView } from '../http/recordings.ts';
import type { AuditTrail } from '../app/audit.ts';
import { textTable } from './format.ts';
import { withCliSession } from './session.ts';
import { systemClock } from '../app/clock.ts';
import type { Config } from '../app/config.ts';
import { buildVault } from '../app/post-call.ts';
import type { RecordingVault } from '../app/recording-vault.ts';
import { RecordingsService } from '../app/recordings-api.ts';
import { runRetention } from '../app/retention.ts';

export const EXIT_OK = 0;
export const EXIT_REFUSED = 1;

const RETENTION_BATCH = 100;

interface Session {
  principal: Principal;
  store: DrizzleRecordingStore;
  audit: AuditTrail;
  recordings: RecordingsService;
  /** Listing and holds need no master key: built on first use, or at once for `keys`. */
  vault(): RecordingVault;
  logger: Logger;
}

interface SessionNeeds {
  permission: Permission;
  /** Opens recordings: the master key is checked before anything is audited (a missing key is exit 2, not an audited failure). */
  keys: boolean;
  logLevel?: Config['log']['level'];
}

/** Opens the database, authenticates the token for `permission`, and hands over the pieces; closes after. */
async function withSession<T>(config: Config, token: string | undefined, needs: SessionNeeds, run: (session: Session) => Promise<T>): Promise<T> {
  return withCliSession(
    config,
    token,
    needs.permission,
    async ({ principal, database, audit, logger }) => {
      const store = new DrizzleRecordingStore(database.db);
      let vault: RecordingVault | undefined;
      const getVault = (): RecordingVault => (vault ??= requireVault(config, database, logger));
      if (needs.keys) getVault();
      const recordings = new RecordingsService({
        vault: { openAudio: (id) => getVault().openAudio(id), openTranscript: (id) => getVault().openTranscript(id) },
        store,
        audit,
        logger,
      });
      return run({ principal, store, audit, recordings, vault: getVault, logger });
    },
    // Quiet by default: stdout may be carrying audio, and the operator wants the result, not the log.
    { logLevel: needs.logLevel ?? 'warn' },
  );
}

function requireVault(config: Config, database: Database, logger: Logger): RecordingVault {
  const vault = buildVault(config, database, logger);
  if (vault === undefined) throw new ConfigError(['CALL_RECORDING_ENCRYPTION_KEY: is required to read recordings (openssl rand -base64 32)']);
  return vault;
}

export interface ListOptions {
  token: string | undefined;
  callId?: string;
  limit: number;
  json?: boolean;
}

export async function listRecordings(config: Config, options: ListOptions, out: Writable = process.stdout): Promise<number> {
  return withSession(config, options.token, { permission: 'recordings:read', keys: false }, async ({ recordings }) => {
    const list = await recordings.list({ limit: options.limit, ...(options.callId === undefined ? {} : { callId: options.callId }) });
    if (options.json) out.write(`${JSON.stringify(list, null, 2)}\n`);
    else out.write(list.length === 0 ? 'no recordings\n' : `${formatRecordingTable(list)}\n`);
    return EXIT_OK;
  });
}

export interface AccessOptions {
  token: string | undefined;
  id: string;
  reason: string;
}

/** Decrypted WAV to stdout, for a pipe (`| aplay`, `> file` is the operator's own choice); refused on a terminal. */
export async function playRecording(config: Config, options: AccessOptions, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  if (out.isTTY) {
    process.stderr.write('callbridge: refusing to write audio to a terminal; pipe it to a player, or use `recordings export --out FILE`\n');
    return EXIT_REFUSED;
  }
  return withSession(config, options.token, { permission: 'recordings:play', keys: true }, async ({ principal, recordings }) => {
    const { stream } = await recordings.openAudio(options.id, { principal, reason: options.reason });
    try {
      await pipeline(stream, out, { end: false });
    } catch (error) {
      // The player stopped reading (`| head`, a closed player): its choice, not a failure.
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      stream.destroy();
    }
    return EXIT_OK;
  });
}

/** Writes the decrypted WAV to a new file the operator named (never overwritten), readable by its owner only. */
export async function exportRecording(config: Config, options: AccessOptions & { out: string }): Promise<number> {
  return withSession(config, options.token, { permission: 'recordings:play', keys: true }, async ({ principal, recordings }) => {
    // Nothing is opened or audited when the file cannot be created: `wx` refuses an existing one. `flush`
    // syncs it before the descriptor closes, so "wrote" means on disk.
    const file = createWriteStream(options.out, { flags: 'wx', mode: 0o600, flush: true });
    const created = await once(file, 'open').then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        process.stderr.write(`callbridge: cannot create ${options.out}: ${error.code === 'EEXIST' ? 'it already exists (not overwritten)' : error.code ?? error.message}\n`);
        return false;
      },
    );
    if (!created) return EXIT_REFUSED;
    let complete = false;
    try {
      const { stream, bytes } = await recordings.openAudio(options.id, { principal, reason: options.reason });
      await pipeline(stream, file);
      complete = true;
      process.stderr.write(`wrote ${bytes} bytes to ${options.out}\n`);
      return EXIT_OK;
    } finally {
      if (!complete) {
        // A partial plaintext file is worse than none.
        file.destroy();
        await rm(options.out, { force: true });
      }
    }
  });
}

export async function showTranscript(config: Config, options: AccessOptions, out: Writable = process.stdout): Promise<number> {
  return withSession(config, options.token, { permission: 'recordings:play', keys: true }, async ({ principal, recordings }) => {
    const transcript = await recordings.readTranscript(options.id, { principal, reason: options.reason });
    out.write(`${JSON.stringify(transcript, null, 2)}\n`);
    return EXIT_OK;
  });
}

export async function setLegalHold(config: Config, options: AccessOptions & { hold: boolean }, out: Writable = process.stdout): Promise<number> {
  return withSession(config, options.token, { permission: 'recordings:hold', keys: false }, async ({ principal, recordings }) => {
    const recording = await recordings.setLegalHold(options.id, options.hold, { principal, reason: options.reason });
    if (recording === undefined) throw new RecordingNotFoundError(options.id);
    out.write(`recording ${recording.id}: legal hold ${recording.legalHold ? 'on' : 'off'}\n`);
    return EXIT_OK;
  });
}

export async function runRetentionCommand(config: Config, options: { token: string | undefined; dryRun: boolean }, out: Writable = process.stdout): Promise<number> {
  return withSession(config, options.token, { permission: 'retention:run', keys: true, logLevel: config.log.level }, async ({ store, audit, vault, logger }) => {
    const result = await runRetention({
      vault: vault(),
      store,
      audit,
      now: systemClock.now(),
      dryRun: options.dryRun,
      batchSize: RETENTION_BATCH,
      logger,
      onRecording: (r) => out.write(`${options.dryRun ? 'would delete' : 'deleted'} ${r.id} (call ${r.callId}, recorded ${r.recordedAt.toISOString()}, retain until ${r.retainUntil.toISOString()})\n`),
    });
    out.write(options.dryRun ? `${result.deleted} recording(s) would be deleted (dry run: nothing changed)\n` : `${result.deleted} recording(s) deleted, ${result.failed} failed\n`);
    return result.failed > 0 ? EXIT_REFUSED : EXIT_OK;
  });
}

/** A plain table; ids, times and flags only. */
function formatRecordingTable(list: readonly RecordingView[]): string {
  const rows = list.map((r) => [
    r.id,
    r.callId,
    r.recordedAt.toISOString(),
    r.durationMs === null ? '-' : `${Math.round(r.durationMs / 100) / 10}s`,
    r.legalHold ? 'hold' : '-',
    r.retainUntil.toISOString().slice(0, 10),
    r.hasTranscript ? 'yes' : 'no',
  ]);
  return textTable(['id', 'call', 'recorded', 'duration', 'legal hold', 'retain until', 'transcript'], rows);
}
