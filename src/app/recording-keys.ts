// The master key ring from configuration. A key's id is a fingerprint of the key itself (not secret: a
// SHA-256 prefix), so operators never have to name keys, every file says which key wraps it, and a new
// CALL_RECORDING_ENCRYPTION_KEY is recognisably a new key without any other setting.
import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.ts';
import { FieldCipher } from '../db/index.ts';
import { MasterKeys, parseMasterKey, type MasterKey } from '../recording/index.ts';
import type { Config } from './config.ts';

export function masterKeyFromBase64(base64: string, name: string): MasterKey {
  const key = parseMasterKey(base64, name);
  return { id: `k-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`, key };
}

/** The ring: the current key wraps new files, previous ones still open older files. */
export function masterKeysFromConfig(config: Pick<Config, 'recordingKey' | 'previousRecordingKeys'>): MasterKeys {
  if (config.recordingKey === undefined) {
    throw new ConfigError(['CALL_RECORDING_ENCRYPTION_KEY: is required to record calls and to read recordings (openssl rand -base64 32)']);
  }
  const current = masterKeyFromBase64(config.recordingKey, 'CALL_RECORDING_ENCRYPTION_KEY');
  // The current key listed among the previous ones too, or an old key listed twice, is harmless: once each.
  const previous = config.previousRecordingKeys
    .map((k) => masterKeyFromBase64(k, 'CALL_RECORDING_PREVIOUS_KEYS'))
    .filter((k, i, all) => k.id !== current.id && all.findIndex((other) => other.id === k.id) === i);
  return new MasterKeys({ current, previous });
}

/** The ring when a key is configured, else undefined (calls are then not recorded). */
export function optionalMasterKeys(config: Pick<Config, 'recordingKey' | 'previousRecordingKeys'>): MasterKeys | undefined {
  return config.recordingKey === undefined ? undefined : masterKeysFromConfig(config);
}

/** The cipher for encrypted columns (hand-off transcripts, outbound context) on the recordings' key ring. */
export function fieldCipherFor(keys: MasterKeys): FieldCipher {
  return new FieldCipher(keys.current, keys.previous);
}

/** The field cipher straight from configuration (one-off CLI commands); none without a key. */
export function fieldCipherFromConfig(config: Pick<Config, 'recordingKey' | 'previousRecordingKeys'>): FieldCipher | undefined {
  const keys = optionalMasterKeys(config);
  return keys && fieldCipherFor(keys);
}
