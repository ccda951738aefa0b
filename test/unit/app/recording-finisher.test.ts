// RecordingFinisher: which spool files it takes, retries with backoff without ever touching the plaintext,
// one finish per file at a time, and the spool scans of crash recovery.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingFinisher, type SpoolVault } from '../../../src/app/recording-finisher.ts';
import { RecordingInvalidError } from '../../../src/core/errors.ts';
import type { RecordingRow } from '../../../src/db/index.ts';

let spool: string;
beforeEach(async () => {
  spool = await mkdtemp(join(tmpdir(), 'cb-finisher-'));
});
afterEach(async () => {
  await rm(spool, { recursive: true, force: true });
});

/** A vault that fails the first `failures` calls with `error`, then stores (and records what it was asked). */
function vault(failures = 0, error: Error = new Error('database unavailable')): SpoolVault & { calls: { path: string; callId: string; recordedAt: Date }[] } {
  const calls: { path: string; callId: string; recordedAt: Date }[] = [];
  return {
    calls,
    finishSpooled: async (path, meta) => {
      calls.push({ path, ...meta });
      await new Promise((r) => setTimeout(r, 5));
      if (calls.length <= failures) throw error;
      return { id: randomUUID(), callId: meta.callId } as RecordingRow;
    },
  };
}

function finisher(v: SpoolVault, registry?: Registry, retryDelaysMs = [1, 1, 1]): RecordingFinisher {
  return new RecordingFinisher({ vault: v, spoolDir: spool, logger: pino({ level: 'silent' }), retryDelaysMs, ...(registry ? { registry } : {}) });
}

async function spoolFile(callId = randomUUID(), ageMs = 0): Promise<{ callId: string; path: string; mtime: Date }> {
  const path = join(spool, `${callId}.wav`);
  await writeFile(path, 'RIFF');
  const mtime = new Date(Math.floor((Date.now() - ageMs) / 1000) * 1000);
  await utimes(path, mtime, mtime);
  return { callId, path, mtime };
}

describe('RecordingFinisher', () => {
  it('takes only `<call id>.wav` files directly in the spool', () => {
    const f = finisher(vault());
    const id = randomUUID();
    expect(f.callIdOf(join(spool, `${id}.wav`))).toBe(id);
    expect(f.callIdOf(join(spool, 'sub', `${id}.wav`))).toBeUndefined();
    expect(f.callIdOf(join(spool, '..', `${id}.wav`))).toBeUndefined();
    expect(f.callIdOf(join(spool, 'fsref_1.wav'))).toBeUndefined();
    expect(f.callIdOf(join(spool, `${id}.mp3`))).toBeUndefined();
  });

  it('retries a failing store with backoff until it works, and counts it', async () => {
    const v = vault(2);
    const registry = new Registry();
    const { callId, path } = await spoolFile();
    const at = new Date('2026-11-20T10:00:00Z');
    const row = await finisher(v, registry).finish(path, at);
    expect(row?.callId).toBe(callId);
    expect(v.calls).toEqual(Array.from({ length: 3 }, () => ({ path, callId, recordedAt: at })));
    expect(await registry.getSingleMetricAsString('callbridge_recordings_finished_total')).toMatch(/ 1$/m);
  });

  it('gives up after the last retry without touching the file, and counts the failure', async () => {
    const v = vault(100);
    const registry = new Registry();
    const { path, mtime } = await spoolFile(randomUUID(), 3_600_000);
    expect(await finisher(v, registry).finish(path, new Date())).toBeUndefined();
    expect(v.calls).toHaveLength(4);
    expect(await registry.getSingleMetricAsString('callbridge_recordings_failed_total')).toMatch(/reason="unavailable"} 1/);
    // The plaintext is left exactly as FreeSWITCH wrote it, for the next start to store.
    expect(await readFile(path, 'utf8')).toBe('RIFF');
    expect((await stat(path)).mtime).toEqual(mtime);
  });

  it('does not retry a file that is not a recording', async () => {
    const v = vault(100, new RecordingInvalidError('not a WAV file'));
    const { path } = await spoolFile();
    expect(await finisher(v).finish(path, new Date())).toBeUndefined();
    expect(v.calls).toHaveLength(1);
  });

  it('one finish per file: RECORD_STOP and the end of the call together store it once', async () => {
    const v = vault();
    const f = finisher(v);
    const { callId, path } = await spoolFile();
    const [a, b] = await Promise.all([f.finish(path, new Date()), f.finishIfPresent(callId, new Date())]);
    expect(a).toBeDefined();
    expect(b).toBeUndefined();
    expect(v.calls).toHaveLength(1);
    expect(await f.finishIfPresent(randomUUID())).toBeUndefined();
  });

  it('a scan stores files of calls no longer up, at their last write, and skips live calls and fresh files', async () => {
    const v = vault();
    const f = finisher(v);
    const old = await spoolFile(randomUUID(), 3_600_000);
    const live = await spoolFile(randomUUID(), 3_600_000);
    await spoolFile(randomUUID(), 0);
    await writeFile(join(spool, 'notes.txt'), 'not a recording');
    const result = await f.scan({ isLive: (id) => id === live.callId, minIdleMs: 60_000 });
    expect(result).toEqual({ finished: 1, failed: 0, skipped: 2 });
    expect(v.calls).toEqual([{ path: old.path, callId: old.callId, recordedAt: old.mtime }]);
  });

  it('close() ends retry waits at once and leaves the file for the next start', async () => {
    const v = vault(100);
    const f = finisher(v, undefined, [60_000]);
    const { path } = await spoolFile();
    const finishing = f.finish(path, new Date());
    await new Promise((r) => setTimeout(r, 30));
    await f.close();
    expect(await finishing).toBeUndefined();
    expect(v.calls).toHaveLength(1);
  });
});
