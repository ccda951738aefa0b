// Envelope encryption of call recordings (AES-256-GCM), streamed in chunks so memory stays flat.
//
// Each recording gets a fresh random 32-byte data key. The data key encrypts the audio; a master key
// (CALL_RECORDING_ENCRYPTION_KEY, named by a key id) wraps the data key. Rotating the master key only
// re-wraps the data key in the header: the audio chunks are never touched.
//
// File format, version 1 (all integers big-endian):
//
//   offset 0    magic "CBREC1" (6 bytes)
//   offset 6    uint32 header JSON length, always HEADER_JSON_SIZE (502)
//   offset 10   header JSON, padded with spaces to 502 bytes, so the whole header is exactly 512 bytes:
//                 { version: 1, algorithm: "AES-256-GCM", chunkSize, fileId (16 random bytes, base64),
//                   noncePrefix (4 random bytes, base64), keyId,
//                   wrappedKey: { iv, tag, ciphertext } (base64; the data key under the master key) }
//   offset 512  chunks, each: uint32 ciphertext length | iv (12) | ciphertext | tag (16)
//
// - The header's immutable part (version, algorithm, chunkSize, fileId, noncePrefix) is hashed (SHA-256)
//   into the "binding". The data key wrap is authenticated with AAD = binding + keyId, so any change to
//   the header fields, the key id or the wrapped key fails the unwrap.
// - Each chunk's AAD = binding + uint64 chunk index + final flag (1 byte). Swapping chunks changes the
//   index; dropping the end leaves no chunk marked final; both fail. The last chunk is always marked
//   final (it may be empty, e.g. for an empty recording), and nothing may follow it.
// - Chunk nonce = noncePrefix (4) + uint64 chunk index (8). The data key is fresh per file, so a counter
//   can never repeat a nonce under one key; the random prefix is extra margin. Decryption insists the
//   stored iv equals the expected one.
// - The binding deliberately excludes keyId and wrappedKey: those change on rotation, and the chunk
//   authentication must survive rotation.
// - Rotation rewrites the 512-byte header in place (same length, one write at offset 0, then fsync).
//   512 bytes at offset 0 is one disk sector, which storage writes atomically in practice; even so the
//   old master key should stay in `previous` until rotation of every file has finished.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { ConfigError, RecordingKeyUnknownError, RecordingTamperedError } from '../core/errors.ts';

const MAGIC = Buffer.from('CBREC1', 'ascii');
const VERSION = 1;
const ALGORITHM = 'AES-256-GCM';
export const HEADER_SIZE = 512;
const HEADER_JSON_SIZE = HEADER_SIZE - MAGIC.length - 4;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_LENGTH = 32;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
// A chunk size bound keeps a forged length field from making the decryptor buffer without limit.
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface MasterKey {
  id: string;
  key: Buffer;
}

export interface MasterKeysInput {
  current: MasterKey;
  previous?: readonly MasterKey[];
}

/** The master keys: `current` wraps new recordings; `previous` keys still unwrap older ones. */
export class MasterKeys {
  readonly current: MasterKey;
  readonly previous: readonly MasterKey[];
  private readonly byId = new Map<string, Buffer>();

  constructor(input: MasterKeysInput) {
    validateMasterKeys(input);
    for (const { id, key } of [input.current, ...(input.previous ?? [])]) this.byId.set(id, key);
    this.current = input.current;
    this.previous = [...(input.previous ?? [])];
  }

  /** The key for this id, or a RecordingKeyUnknownError. */
  get(id: string): Buffer {
    const key = this.byId.get(id);
    if (key === undefined) throw new RecordingKeyUnknownError(id);
    return key;
  }
}

function validateMasterKeys(input: MasterKeysInput): void {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { id, key } of [input.current, ...(input.previous ?? [])]) {
    if (!KEY_ID_PATTERN.test(id)) problems.push(`recording key id "${id}" must be 1-64 of A-Z a-z 0-9 . _ -`);
    else if (seen.has(id)) problems.push(`recording key id "${id}" is given twice`);
    if (key.length !== KEY_LENGTH) problems.push(`recording key "${id}" must be ${KEY_LENGTH} bytes, got ${key.length}`);
    seen.add(id);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Decodes a base64 master key (e.g. CALL_RECORDING_ENCRYPTION_KEY); it must be exactly 32 bytes. */
export function parseMasterKey(base64: string, name = 'CALL_RECORDING_ENCRYPTION_KEY'): Buffer {
  const text = base64.trim();
  const key = Buffer.from(text, 'base64');
  // Buffer.from ignores junk characters, so compare the round trip to catch a mistyped value.
  const canonical = /^[A-Za-z0-9+/]*={0,2}$/.test(text) && key.toString('base64') === text;
  if (!canonical || key.length !== KEY_LENGTH) {
    throw new ConfigError([
      `${name} must be ${KEY_LENGTH} random bytes in base64 (44 characters; e.g. \`openssl rand -base64 32\`), ` +
        (canonical ? `got ${key.length} bytes` : 'got text that is not base64'),
    ]);
  }
  return key;
}

interface Header {
  version: number;
  algorithm: string;
  chunkSize: number;
  fileId: string;
  noncePrefix: string;
  keyId: string;
  wrappedKey: { iv: string; tag: string; ciphertext: string };
}

function bindingOf(h: Pick<Header, 'version' | 'algorithm' | 'chunkSize' | 'fileId' | 'noncePrefix'>): Buffer {
  const text = [MAGIC.toString('ascii'), h.version, h.algorithm, h.chunkSize, h.fileId, h.noncePrefix].join('|');
  return createHash('sha256').update(text).digest();
}

function wrapAad(binding: Buffer, keyId: string): Buffer {
  return Buffer.concat([binding, Buffer.from(keyId, 'utf8')]);
}

function wrapDataKey(dataKey: Buffer, master: MasterKey, binding: Buffer): Header['wrappedKey'] {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', master.key, iv);
  cipher.setAAD(wrapAad(binding, master.id));
  const ciphertext = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return { iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
}

function unwrapDataKey(header: Header, keys: MasterKeys, binding: Buffer): Buffer {
  const master = keys.get(header.keyId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', master, Buffer.from(header.wrappedKey.iv, 'base64'));
    decipher.setAAD(wrapAad(binding, header.keyId));
    decipher.setAuthTag(Buffer.from(header.wrappedKey.tag, 'base64'));
    const dataKey = Buffer.concat([decipher.update(Buffer.from(header.wrappedKey.ciphertext, 'base64')), decipher.final()]);
    if (dataKey.length !== KEY_LENGTH) throw new Error('data key has the wrong length');
    return dataKey;
  } catch (err) {
    throw new RecordingTamperedError(
      `Recording header does not authenticate under master key "${header.keyId}" (wrong key or altered header)`,
      { cause: err },
    );
  }
}

function serializeHeader(header: Header): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (json.length > HEADER_JSON_SIZE) throw new Error(`recording header is ${json.length} bytes, over ${HEADER_JSON_SIZE}`);
  const out = Buffer.alloc(HEADER_SIZE, 0x20);
  MAGIC.copy(out, 0);
  out.writeUInt32BE(HEADER_JSON_SIZE, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  return out;
}

function parseHeader(bytes: Buffer): Header {
  if (bytes.length < HEADER_SIZE || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new RecordingTamperedError('Not an encrypted callbridge recording (bad magic or short header)');
  }
  if (bytes.readUInt32BE(MAGIC.length) !== HEADER_JSON_SIZE) throw new RecordingTamperedError('Recording header length is wrong');
  let h: Header;
  try {
    h = JSON.parse(bytes.subarray(MAGIC.length + 4, HEADER_SIZE).toString('utf8')) as Header;
  } catch (err) {
    throw new RecordingTamperedError('Recording header is not valid JSON', { cause: err });
  }
  const valid =
    typeof h === 'object' && h !== null &&
    h.version === VERSION && h.algorithm === ALGORITHM &&
    Number.isInteger(h.chunkSize) && h.chunkSize > 0 && h.chunkSize <= MAX_CHUNK_SIZE &&
    typeof h.fileId === 'string' && typeof h.noncePrefix === 'string' &&
    Buffer.from(h.noncePrefix, 'base64').length === 4 &&
    typeof h.keyId === 'string' && typeof h.wrappedKey === 'object' && h.wrappedKey !== null &&
    typeof h.wrappedKey.iv === 'string' && typeof h.wrappedKey.tag === 'string' && typeof h.wrappedKey.ciphertext === 'string';
  if (!valid) throw new RecordingTamperedError('Recording header has missing or unsupported fields');
  return h;
}

function chunkNonce(prefix: Buffer, index: number): Buffer {
  const iv = Buffer.alloc(IV_LENGTH);
  prefix.copy(iv, 0);
  iv.writeBigUInt64BE(BigInt(index), 4);
  return iv;
}

function chunkAad(binding: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(binding.length + 9);
  binding.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), binding.length);
  aad[binding.length + 8] = final ? 1 : 0;
  return aad;
}

export interface EncryptOptions {
  /** Plaintext bytes per chunk; default 64 KiB. */
  chunkSize?: number;
}

/**
 * A Transform: plaintext in, encrypted recording out. Use with `pipeline(source, encryptStream(keys), sink)`.
 * Memory stays around one chunk whatever the recording's length.
 */
export function encryptStream(keys: MasterKeys, options: EncryptOptions = {}): Transform {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize <= 0 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}`);
  }
  const dataKey = randomBytes(KEY_LENGTH);
  const prefix = randomBytes(4);
  const fields = { version: VERSION, algorithm: ALGORITHM, chunkSize, fileId: randomBytes(16).toString('base64'), noncePrefix: prefix.toString('base64') };
  const binding = bindingOf(fields);
  const header = serializeHeader({ ...fields, keyId: keys.current.id, wrappedKey: wrapDataKey(dataKey, keys.current, binding) });

  let index = 0;
  let pending: Buffer[] = [];
  let pendingLength = 0;

  const sealChunk = (plain: Buffer, final: boolean): Buffer => {
    const iv = chunkNonce(prefix, index);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(chunkAad(binding, index, final));
    const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(ciphertext.length);
    index += 1;
    return Buffer.concat([length, iv, ciphertext, cipher.getAuthTag()]);
  };

  return new Transform({
    construct(callback) {
      this.push(header);
      callback();
    },
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      pending.push(data);
      pendingLength += data.length;
      // Hold back at least one byte: only at the end do we know which chunk is final.
      if (pendingLength > chunkSize) {
        let all = Buffer.concat(pending);
        while (all.length > chunkSize) {
          this.push(sealChunk(all.subarray(0, chunkSize), false));
          all = all.subarray(chunkSize);
        }
        pending = [all];
        pendingLength = all.length;
      }
      callback();
    },
    flush(callback: TransformCallback) {
      this.push(sealChunk(Buffer.concat(pending), true));
      pending = [];
      callback();
    },
  });
}

export interface DecryptOptions {
  /** The file id the recording's row holds (from `inspectHeader` when it was stored). */
  expectedFileId?: string;
}

/** The envelope's file id and master key id, read from its 512-byte header (no key needed). */
export function inspectHeader(headerBytes: Buffer): { fileId: string; keyId: string } {
  const header = parseHeader(headerBytes);
  return { fileId: header.fileId, keyId: header.keyId };
}

/**
 * A Transform: encrypted recording in, plaintext out. Errors with RecordingTamperedError on any altered,
 * reordered or missing bytes (including a missing final chunk) and RecordingKeyUnknownError when the
 * header names a master key the ring lacks. Plaintext of a chunk is released only after its tag verifies,
 * but earlier chunks have already been emitted when a later one fails: treat the output as bad on error.
 */
export function decryptStream(keys: MasterKeys, options: DecryptOptions = {}): Transform {
  let buffered: Buffer = Buffer.alloc(0);
  let state: { binding: Buffer; dataKey: Buffer; prefix: Buffer; chunkSize: number } | undefined;
  let index = 0;
  let finished = false;

  const openChunk = (iv: Buffer, ciphertext: Buffer, tag: Buffer, final: boolean): Buffer | undefined => {
    if (state === undefined) return undefined;
    if (!iv.equals(chunkNonce(state.prefix, index))) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', state.dataKey, iv);
      decipher.setAAD(chunkAad(state.binding, index, final));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      return undefined;
    }
  };

  const step = (push: (b: Buffer) => void): void => {
    if (state === undefined) {
      if (buffered.length < HEADER_SIZE) return;
      const header = parseHeader(buffered.subarray(0, HEADER_SIZE));
      // The file id is bound into every chunk, so a header moved onto other chunks fails anyway; this
      // check catches a whole file swapped in from another recording, which would otherwise decrypt.
      if (options.expectedFileId !== undefined && header.fileId !== options.expectedFileId) {
        throw new RecordingTamperedError('Recording file belongs to another recording');
      }
      const binding = bindingOf(header);
      state = { binding, dataKey: unwrapDataKey(header, keys, binding), prefix: Buffer.from(header.noncePrefix, 'base64'), chunkSize: header.chunkSize };
      buffered = buffered.subarray(HEADER_SIZE);
    }
    for (;;) {
      if (buffered.length === 0) return;
      if (finished) throw new RecordingTamperedError('Recording has bytes after its final chunk');
      if (buffered.length < 4) return;
      const length = buffered.readUInt32BE(0);
      if (length > state.chunkSize) throw new RecordingTamperedError(`Recording chunk ${index} has an impossible length`);
      const total = 4 + IV_LENGTH + length + TAG_LENGTH;
      if (buffered.length < total) return;
      const iv = buffered.subarray(4, 4 + IV_LENGTH);
      const ciphertext = buffered.subarray(4 + IV_LENGTH, 4 + IV_LENGTH + length);
      const tag = buffered.subarray(4 + IV_LENGTH + length, total);
      // A chunk is final or not; try the likely case first (a full chunk is rarely the last one).
      const likelyFinal = length < state.chunkSize;
      let plain = openChunk(iv, ciphertext, tag, likelyFinal);
      let final = likelyFinal;
      if (plain === undefined) {
        plain = openChunk(iv, ciphertext, tag, !likelyFinal);
        final = !likelyFinal;
      }
      if (plain === undefined) throw new RecordingTamperedError(`Recording chunk ${index} failed authentication`);
      if (!final && length !== state.chunkSize) throw new RecordingTamperedError(`Recording chunk ${index} is short`);
      push(plain);
      index += 1;
      finished = final;
      buffered = buffered.subarray(total);
    }
  };

  return new Transform({
    transform(data: Buffer, _encoding, callback: TransformCallback) {
      buffered = buffered.length === 0 ? data : Buffer.concat([buffered, data]);
      try {
        step((b) => this.push(b));
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback: TransformCallback) {
      if (!finished || buffered.length > 0) {
        callback(new RecordingTamperedError('Recording is truncated: its final chunk is missing'));
        return;
      }
      callback();
    },
  });
}

/**
 * Re-wraps the data key in a recording header under `newKey`, returning a header of the same 512 bytes.
 * The chunks do not depend on the wrapping, so they stay valid as they are.
 */
export function rewrapHeader(headerBytes: Buffer, keys: MasterKeys, newKey: MasterKey): Buffer {
  const header = parseHeader(headerBytes);
  const binding = bindingOf(header);
  const dataKey = unwrapDataKey(header, keys, binding);
  validateMasterKeys({ current: newKey });
  return serializeHeader({ ...header, keyId: newKey.id, wrappedKey: wrapDataKey(dataKey, newKey, binding) });
}

/** Rotation of one file: reads its header, re-wraps it under `newKey` and writes it back in place. */
export async function rewrapFile(file: FileHandle, keys: MasterKeys, newKey: MasterKey): Promise<void> {
  const headerBytes = Buffer.alloc(HEADER_SIZE);
  const { bytesRead } = await file.read(headerBytes, 0, HEADER_SIZE, 0);
  const updated = rewrapHeader(headerBytes.subarray(0, bytesRead), keys, newKey);
  await file.write(updated, 0, HEADER_SIZE, 0);
  await file.sync();
}
