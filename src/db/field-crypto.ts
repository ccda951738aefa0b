// Encryption of sensitive columns (a transfer's transcript): AES-256-GCM with a fresh 12-byte IV per value,
// stored as `v1:<iv>:<tag>:<ciphertext>` (base64 each). The version prefix lets a later key or scheme
// coexist with old rows. The row's call id is bound in as associated data, so a ciphertext copied into
// another call's row fails to decrypt instead of showing the wrong patient's words.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../core/errors.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class FieldCipher {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new ConfigError([`an AES-256 key is 32 bytes, got ${key.length}`]);
    this.#key = Buffer.from(key);
  }

  /** From `CALL_RECORDING_ENCRYPTION_KEY`: base64 of 32 random bytes (`openssl rand -base64 32`). */
  static fromBase64(text: string): FieldCipher {
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== 32 || key.toString('base64') !== text.trim()) {
      throw new ConfigError(['CALL_RECORDING_ENCRYPTION_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32)']);
    }
    return new FieldCipher(key);
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** Throws on a wrong key, altered bytes, other associated data or an unknown format. */
  decrypt(value: string, associatedData: string): string {
    const parts = value.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('not a v1 encrypted field');
    const [, iv, tag, ciphertext] = parts.map((p) => Buffer.from(p, 'base64'));
    if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === undefined) throw new Error('malformed encrypted field');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  }
}
