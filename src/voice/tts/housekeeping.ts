// Keeps the TTS cache directory bounded. Only files the cache itself names (`<sha256>.wav`, and `.tmp`
// leftovers of a crash mid-write) are touched, so a generic prompt or anything an operator puts in the same
// directory survives. Age is the file's mtime, i.e. when it was synthesized: access times are unreliable
// (noatime mounts) and touching files on every hit would put disk writes on the reply path. Removing a file
// FreeSWITCH is playing is safe on POSIX: the open handle keeps the bytes until playback ends; a later
// request simply synthesizes it again.
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface PruneOptions {
  dir: string;
  /** Remove cache files synthesized longer ago than this. */
  maxAgeMs?: number;
  /** Then remove the oldest files until the cache is at most this many bytes. */
  maxBytes?: number;
  /** Epoch ms; defaults to Date.now(). */
  now?: number;
}

export interface PruneResult {
  removed: number;
  removedBytes: number;
  keptFiles: number;
  keptBytes: number;
}

const CACHE_FILE = /^[0-9a-f]{64}\.wav$/;
const TEMP_FILE = /^[0-9a-f]{64}\.wav\.\d+\.[0-9a-f]+\.tmp$/;
// A write takes milliseconds; a temp file this old belongs to a process that died mid-write.
const STALE_TEMP_MS = 10 * 60_000;

interface Entry { path: string; size: number; mtimeMs: number }

export async function pruneCache(options: PruneOptions): Promise<PruneResult> {
  const now = options.now ?? Date.now();
  const result: PruneResult = { removed: 0, removedBytes: 0, keptFiles: 0, keptBytes: 0 };
  let names: string[];
  try {
    names = await readdir(options.dir);
  } catch {
    return result; // No directory yet: nothing was ever cached.
  }
  const kept: Entry[] = [];
  const remove = async (entry: Entry): Promise<void> => {
    // Another process may have removed it first; that is the outcome we wanted anyway.
    await unlink(entry.path).catch(() => undefined);
    result.removed += 1;
    result.removedBytes += entry.size;
  };
  for (const name of names) {
    const isCache = CACHE_FILE.test(name);
    if (!isCache && !TEMP_FILE.test(name)) continue;
    const path = join(options.dir, name);
    const info = await stat(path).catch(() => null);
    if (info === null || !info.isFile()) continue;
    const entry = { path, size: info.size, mtimeMs: info.mtimeMs };
    const age = now - info.mtimeMs;
    if (!isCache ? age > STALE_TEMP_MS : options.maxAgeMs !== undefined && age > options.maxAgeMs) await remove(entry);
    else if (isCache) kept.push(entry);
  }
  let total = kept.reduce((sum, e) => sum + e.size, 0);
  if (options.maxBytes !== undefined && total > options.maxBytes) {
    kept.sort((a, b) => a.mtimeMs - b.mtimeMs);
    while (kept.length > 0 && total > options.maxBytes) {
      const oldest = kept.shift() as Entry;
      await remove(oldest);
      total -= oldest.size;
    }
  }
  result.keptFiles = kept.length;
  result.keptBytes = total;
  return result;
}
