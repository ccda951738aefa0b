// Test support for recording access and retention tests: real recordings made the way the controller makes
// them (a spooled WAV finished by the vault: encrypted, verified, stored, row written), on a real database.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/app/logger.ts';
import { masterKeyFromBase64 } from '../../src/app/recording-keys.ts';
import { RecordingVault } from '../../src/app/recording-vault.ts';
import { DrizzleRecordingStore, type Database, type RecordingRow } from '../../src/db/index.ts';
import { LocalRecordingStorage, MasterKeys } from '../../src/recording/index.ts';
import { wavHeader } from '../../src/voice/tts/wav.ts';

/** A 16-bit PCM WAV of `ms` milliseconds of noise (distinct bytes, so a mix-up shows). */
export function wavBytes(ms: number, channels = 2, sampleRate = 8000): Buffer {
  const data = randomBytes(Math.round((sampleRate * ms) / 1000) * channels * 2);
  const header = wavHeader({ encoding: 'LINEAR16', channels, sampleRate, dataBytes: data.length });
  return Buffer.concat([header, data]);
}

export const newKeyBase64 = (): string => randomBytes(32).toString('base64');

export interface VaultKit {
  vault: RecordingVault;
  store: DrizzleRecordingStore;
  storage: LocalRecordingStorage;
  storageDir: string;
  /** Spools a WAV and finishes it through the vault; returns its row and the original bytes. */
  record(options?: { ms?: number; recordedAt?: Date; callId?: string }): Promise<{ row: RecordingRow; wav: Buffer }>;
}

export async function vaultKit(database: Database, dir: string, options: { keyBase64: string; retentionYears?: number }): Promise<VaultKit> {
  const storageDir = join(dir, 'store');
  const spoolDir = join(dir, 'spool');
  await mkdir(spoolDir, { recursive: true });
  const storage = new LocalRecordingStorage(storageDir);
  const store = new DrizzleRecordingStore(database.db);
  const vault = new RecordingVault({
    storage,
    store,
    keys: new MasterKeys({ current: masterKeyFromBase64(options.keyBase64, 'test key'), previous: [] }),
    retentionYears: options.retentionYears ?? 7,
    logger: createLogger({ level: 'silent', format: 'json' }),
  });
  return {
    vault,
    store,
    storage,
    storageDir,
    async record({ ms = 500, recordedAt = new Date(), callId = randomUUID() } = {}) {
      const wav = wavBytes(ms);
      const spool = join(spoolDir, `${randomUUID()}.wav`);
      await writeFile(spool, wav);
      const row = await vault.finishSpooled(spool, { callId, recordedAt });
      return { row, wav };
    },
  };
}

/** Runs `work` while the audit log cannot be written (its table renamed away): a real database failure. */
export async function withAuditLogGone<T>(database: Database, work: () => Promise<T>): Promise<T> {
  await database.db.execute('alter table audit_log rename to audit_log_away');
  try {
    return await work();
  } finally {
    await database.db.execute('alter table audit_log_away rename to audit_log');
  }
}
