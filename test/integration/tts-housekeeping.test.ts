// The TTS cache stays bounded: old files and crash leftovers go, foreign files stay, and a pruned prompt is
// simply synthesized again (through the real Google client and the local peer).
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedTts, GoogleTts, pruneCache } from '../../src/voice/tts/index.ts';
import { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';

const NOW = Date.parse('2026-03-02T12:00:00Z');
const HOUR = 3_600_000;
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callbridge-tts-prune-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, bytes: number, ageMs: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Buffer.alloc(bytes));
  const when = new Date(NOW - ageMs);
  await utimes(path, when, when);
  return name;
}

const hex = (c: string): string => c.repeat(64);

describe('pruneCache', () => {
  it('removes cache files older than the age limit and stale temp files, and nothing else', async () => {
    const old = await file(`${hex('a')}.wav`, 100, 48 * HOUR);
    const fresh = await file(`${hex('b')}.wav`, 100, HOUR);
    const staleTemp = await file(`${hex('c')}.wav.123.abcd.tmp`, 10, HOUR);
    const liveTemp = await file(`${hex('d')}.wav.123.abcd.tmp`, 10, 1000);
    const prompt = await file('generic-prompt.wav', 100, 100 * HOUR);
    const result = await pruneCache({ dir, maxAgeMs: 24 * HOUR, now: NOW });
    expect((await readdir(dir)).sort()).toEqual([fresh, liveTemp, prompt].sort());
    expect(result).toEqual({ removed: 2, removedBytes: 110, keptFiles: 1, keptBytes: 100 });
    for (const gone of [old, staleTemp]) expect(await readdir(dir)).not.toContain(gone);
  });

  it('removes the oldest files until the size limit holds', async () => {
    const a = await file(`${hex('a')}.wav`, 400, 3 * HOUR);
    const b = await file(`${hex('b')}.wav`, 400, 2 * HOUR);
    const c = await file(`${hex('c')}.wav`, 400, HOUR);
    const result = await pruneCache({ dir, maxBytes: 900, now: NOW });
    expect((await readdir(dir)).sort()).toEqual([b, c]);
    expect(result).toMatchObject({ removed: 1, keptBytes: 800 });
    expect(await readdir(dir)).not.toContain(a);
  });

  it('does nothing when the directory does not exist yet', async () => {
    expect(await pruneCache({ dir: join(dir, 'missing'), maxBytes: 0 })).toEqual({ removed: 0, removedBytes: 0, keptFiles: 0, keptBytes: 0 });
  });
});

describe('CachedTts.housekeep', () => {
  let peer: GoogleTtsPeer;
  let google: GoogleTts;

  beforeEach(async () => {
    peer = await GoogleTtsPeer.start();
    google = new GoogleTts({ baseUrl: peer.url, apiKey: 'k' });
  });

  afterEach(async () => {
    await google.close();
    await peer.close();
  });

  it('synthesizes a pruned prompt again instead of handing out a missing file', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir });
    const request = { text: 'Our office is closed.', voice: 'en-US-Neural2-F', language: 'en-US', sampleRate: 8000 } as const;
    const first = await tts.synthesize(request);
    expect((await tts.synthesize(request)).cached).toBe(true);
    expect((await tts.housekeep({ maxBytes: 0 })).removed).toBe(1);
    const again = await tts.synthesize(request);
    expect(again).toMatchObject({ path: first.path, cached: false });
    expect(peer.requests).toHaveLength(2);
  });
});
