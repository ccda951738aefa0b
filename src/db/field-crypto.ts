// Encryption of sensitive columns (a transfer's transcript, an outbound call's context): AES-256-GCM with a
// fresh 12-byte IV per value, stored as `v2:<key id>:<iv>:<tag>:<ciphertext>` (base64 each). The key id
// names the master key that sealed the value, so a rotated key ring still opens it and `keys rotate` knows
// what to re-seal; `v1:` values (before key ids) are opened by trying each key — GCM's tag tells the right
// one. The row's id is bound in as associated data, so a ciphertext copied into another row fails to
// decrypt instead of showing the wrong patient's words.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../core/errors.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface FieldKey {
  id: string;
  key: Buffer;
}

export class FieldCipher {
  readonly #current: FieldKey;
  readonly #byId = new Map<string, Buffer>();

  /** `current` seals new values; `previous` keys still open what they sealed. */
  constructor(current: FieldKey, previous: readonly FieldKey[] = []) {
    for (const { id, key } of [current, ...previous]) {
      if (key.length !== 32) throw new ConfigError([`an AES-256 key is 32 bytes, got ${key.length}`]);
      if (!KEY_ID.test(id)) throw new ConfigError([`key id "${id}" must be 1-64 of A-Z a-z 0-9 . _ -`]);
      if (!this.#byId.has(id)) this.#byId.set(id, Buffer.from(key));
    }
    this.#current = { id: current.id, key: Buffer.from(current.key) };
  }

  /**
   * One key from base64 (32 bytes), named by its fingerprint as the recording key ring names it
   * (src/app/recording-keys.ts), so values and recordings sealed under one key carry the same id.
   */
  static fromBase64(text: string): FieldCipher {
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== 32 || key.toString('base64') !== text.trim()) {
      throw new ConfigError(['CALL_RECORDING_ENCRYPTION_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32)']);
    }
    return new FieldCipher({ id: `k-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`, key });
  }

  get currentKeyId(): string {
    return this.#current.id;
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v2', this.#current.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /** Throws on an unknown or wrong key, altered bytes, other associated data or an unknown format. */
  decrypt(value: string, associatedData: string): string {
    const parts = value.split(':');
    if (parts[0] === 'v2' && parts.length === 5) {
      const key = this.#byId.get(parts[1] as string);
      if (key === undefined) throw new Error(`encrypted field sealed under key ${parts[1]}, which is not configured`);
      return open(key, parts.slice(2), associatedData);
    }
    if (parts[0] === 'v1' && parts.length === 4) {
      for (const key of this.#byId.values()) {
        try {
          return open(key, parts.slice(1), associatedData);
        } catch {
          // Not this key: try the next.
        }
      }
      throw new Error('no configured key opens this encrypted field');
    }
    throw new Error('not an encrypted field');
  }

  /** True when the value was sealed under another key than the current one (rotation re-seals it). */
  sealedUnderOldKey(value: string): boolean {
    return !value.startsWith(`v2:${this.#current.id}:`);
  }
}

function open(key: Buffer, [iv64, tag64, ciphertext64]: string[], associatedData: string): string {
  const [iv, tag, ciphertext] = [iv64, tag64, ciphertext64].map((p) => Buffer.from(p ?? '', 'base64'));
  if (iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || ciphertext === undefined) throw new Error('malformed encrypted field');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
}

/** A stored sealed value: its row id (for paging and writing back) and the associated data it is bound to. */
export interface SealedValue {
  id: string;
  associatedData: string;
  value: string;
}

/**
 * Key rotation of one encrypted column: reads it a page at a time (rows after the last id seen), re-seals
 * every value not under the cipher's current key and writes it back. Values no configured key opens are
 * counted and left as they are.
 */
export async function resealColumn(
  cipher: FieldCipher,
  page: (afterId: string, limit: number) => Promise<SealedValue[]>,
  write: (id: string, value: string) => Promise<void>,
): Promise<{ resealed: number; unreadable: number }> {
  const PAGE = 200;
  let resealed = 0;
  let unreadable = 0;
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const rows = await page(after, PAGE);
    for (const row of rows) {
      if (!cipher.sealedUnderOldKey(row.value)) continue;
      let plaintext: string;
      try {
        plaintext = cipher.decrypt(row.value, row.associatedData);
      } catch {
        unreadable += 1;
        continue;
      }
      await write(row.id, cipher.encrypt(plaintext, row.associatedData));
      resealed += 1;
    }
    if (rows.length < PAGE) return { resealed, unreadable };
    after = rows[rows.length - 1]!.id;
  }
}
