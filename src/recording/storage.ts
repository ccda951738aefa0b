// Where encrypted recordings and transcripts live. A small interface so an S3-compatible bucket can take the
// local directory's place (RECORDING_STORAGE_* is the documented extension point): objects are written
// whole or not at all, read as streams, and deleted idempotently. Only ciphertext ever reaches storage.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RecordingNotFoundError } from '../core/errors.ts';

export interface RecordingStorage {
  /** Stores `source` under `key`; nothing is visible under the key until every byte is written and synced. */
  write(key: string, source: Readable): Promise<{ bytes: number }>;
  /** The object's bytes; RecordingNotFoundError when there is none. */
  read(key: string): Promise<Readable>;
  /** The first `length` bytes (an envelope header). */
  readHead(key: string, length: number): Promise<Buffer>;
  /** Replaces the first `head.length` bytes in place (key rotation re-wraps the 512-byte header). */
  rewriteHead(key: string, head: Buffer): Promise<void>;
  exists(key: string): Promise<boolean>;
  /** Removes the object; no error when it is already gone. */
  delete(key: string): Promise<void>;
  /**
   * Removes half-written objects a crash left behind; returns how many. `olderThanMs` spares writes still
   * going on (another process sharing the storage, a finish in progress): only leftovers untouched that long go.
   */
  sweepIncomplete(options?: { olderThanMs?: number }): Promise<number>;
  /** Every complete object whose key starts with `prefix` (e.g. `recordings/`), with when it was last written. */
  list(prefix: string): AsyncIterable<{ key: string; modifiedAt: Date }>;
}

// Keys are ours (ids and fixed prefixes), but a key must never climb out of the storage directory.
const KEY_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;
const PARTIAL_MARK = '.partial-';

export class LocalRecordingStorage implements RecordingStorage {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  #path(key: string): string {
    if (!KEY_PATTERN.test(key) || key.split('/').some((part) => part === '..' || part.includes(PARTIAL_MARK))) {
      throw new RangeError(`invalid storage key ${JSON.stringify(key)}`);
    }
    return join(this.#root, ...key.split('/'));
  }

  async write(key: string, source: Readable): Promise<{ bytes: number }> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const partial = `${path}${PARTIAL_MARK}${randomBytes(6).toString('hex')}`;
    let bytes = 0;
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    try {
      await pipeline(source, createWriteStream(partial, { mode: 0o600 }));
      const handle = await open(partial, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, path);
      await syncDirectory(dirname(path));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    return { bytes };
  }

  async read(key: string): Promise<Readable> {
    // Open first so a missing object is a typed error here, not a stream error later.
    const handle = await openExisting(this.#path(key), key, 'r');
    return createReadStream('', { fd: handle });
  }

  async readHead(key: string, length: number): Promise<Buffer> {
    return readHeadOf(await openExisting(this.#path(key), key, 'r'), length);
  }

  async rewriteHead(key: string, head: Buffer): Promise<void> {
    const handle = await openExisting(this.#path(key), key, 'r+');
    try {
      await handle.write(head, 0, head.length, 0);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async exists(key: string): Promise<boolean> {
    return stat(this.#path(key)).then(
      () => true,
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<{ key: string; modifiedAt: Date }> {
    const entries = await readdir(this.#root, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.includes(PARTIAL_MARK)) continue;
      const key = relative(this.#root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (!key.startsWith(prefix) || !KEY_PATTERN.test(key)) continue;
      const info = await stat(join(entry.parentPath, entry.name)).catch(() => undefined);
      if (info !== undefined) yield { key, modifiedAt: info.mtime };
    }
  }

  async sweepIncomplete(options: { olderThanMs?: number } = {}): Promise<number> {
    const cutoff = Date.now() - (options.olderThanMs ?? 0);
    let removed = 0;
    const entries = await readdir(this.#root, { recursive: true, withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.includes(PARTIAL_MARK)) continue;
      const path = join(entry.parentPath, entry.name);
      if (relative(this.#root, path).startsWith(`..${sep}`)) continue;
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || info.mtimeMs > cutoff) continue;
      await rm(path, { force: true });
      removed += 1;
    }
    return removed;
  }
}

async function openExisting(path: string, key: string, flags: 'r' | 'r+'): Promise<FileHandle> {
  return open(path, flags).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new RecordingNotFoundError(key, 'Stored object');
    throw error;
  });
}

// A rename is durable only once its directory entry is: fsync the directory (a no-op where unsupported).
async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync().catch(() => undefined);
  } finally {
    await handle.close();
  }
}

/** The first `length` bytes of an open file (fewer if it is shorter); closes the handle. */
export async function readHeadOf(handle: FileHandle, length: number): Promise<Buffer> {
  try {
    const head = Buffer.alloc(length);
    const { bytesRead } = await handle.read(head, 0, length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
