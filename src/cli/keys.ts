// `callbridge keys rotate|id`: the recording master key from the operator's side. Rotation re-wraps every
// recording's and transcript's data key under CALL_RECORDING_ENCRYPTION_KEY (the audio is not touched),
// opening the old wrapping with the keys in CALL_RECORDING_PREVIOUS_KEYS. Having the master keys in the
// environment is the authority here (as for the controller itself); the run is audited as the local user.
import { userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import { ConfigError } from '../core/errors.ts';
import { DrizzleOutboundStore, DrizzleTransferStore } from '../db/index.ts';
import { withCliDatabase } from './session.ts';
import type { Config } from '../app/config.ts';
import { buildVault } from '../app/post-call.ts';
import { fieldCipherFromConfig, masterKeysFromConfig } from '../app/recording-keys.ts';

const EXIT_OK = 0;
const EXIT_FAILED = 1;
/** Progress on stderr every this many files. */
const PROGRESS_EVERY = 100;

/** Prints the current master key's id (a fingerprint, not the key): what new recordings are wrapped under. */
export function printKeyId(config: Config, out: Writable = process.stdout): number {
  const keys = masterKeysFromConfig(config);
  out.write(`${keys.current.id}\n`);
  return EXIT_OK;
}

/** Re-wraps every data key not under the current key; exit 1 when any file could not be re-wrapped. */
export async function rotateKeys(config: Config, streams: { out: Writable; err: Writable } = { out: process.stdout, err: process.stderr }): Promise<number> {
  const keys = masterKeysFromConfig(config);
  return withCliDatabase(config, {}, async ({ database, logger, audit }) => {
    const vault = buildVault(config, database, logger);
    // masterKeysFromConfig has refused a missing key already; this keeps the type honest.
    if (vault === undefined) throw new ConfigError(['CALL_RECORDING_ENCRYPTION_KEY: is required to rotate keys']);
    streams.err.write(`re-wrapping data keys under ${keys.current.id}\n`);
    const result = await vault.rotate((done) => {
      if (done % PROGRESS_EVERY === 0) streams.err.write(`  ${done} re-wrapped\n`);
    });
    // Hand-off transcripts and outbound contexts are sealed per value in Postgres: re-sealed under the new key.
    const cipher = fieldCipherFromConfig(config);
    const columns = [
      await new DrizzleTransferStore({ db: database.db, ...(cipher ? { cipher } : {}) }).resealTranscripts(),
      await new DrizzleOutboundStore({ db: database.db, ...(cipher ? { cipher } : {}) }).resealContexts(),
    ];
    const resealed = columns.reduce((n, c) => n + c.resealed, 0);
    const unreadable = columns.reduce((n, c) => n + c.unreadable, 0);
    await audit
      .record({
        actor: `cli:${userInfo().username}`,
        action: 'keys.rotate',
        targetType: 'system',
        targetId: keys.current.id,
        reason: null,
        details: { rewrapped: result.rewrapped, failed: result.failed.length, fieldsResealed: resealed, fieldsUnreadable: unreadable },
      })
      .catch(() => streams.err.write('warning: the rotation could not be written to the audit log\n'));
    for (const failure of result.failed) {
      streams.err.write(`failed ${failure.kind === 'recording' ? 'recording' : 'transcript of recording'} ${failure.id}: ${failure.error}\n`);
    }
    streams.out.write(`${result.rewrapped} file(s) re-wrapped under ${keys.current.id}, ${result.failed.length} failed\n`);
    streams.out.write(`${resealed} encrypted field(s) re-sealed (hand-off transcripts, outbound contexts), ${unreadable} unreadable\n`);
    if (unreadable > 0) streams.err.write('some encrypted fields open with none of the configured keys: add the key that sealed them to CALL_RECORDING_PREVIOUS_KEYS\n');
    if (result.failed.length > 0 || unreadable > 0) {
      streams.out.write('keep the old key(s) in CALL_RECORDING_PREVIOUS_KEYS until a run reports 0 failed\n');
      return EXIT_FAILED;
    }
    return EXIT_OK;
  });
}
