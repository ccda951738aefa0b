// LocalRecordingStorage: an object is there whole or not at all, half-written leftovers are swept (but not
// writes still going on), and keys can never reach outside the storage directory.
import { mkdtemp, readdir, readFile, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingNotFoundError } from '../../../src/core/errors.ts';
import { LocalRecordingStorage } from '../../../src/recording/index.ts';

let root: string;
let storage: LocalRecordingStorage;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cb-storage-'));
  storage = new LocalRecordingStorage(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function text(stream: Readable): Promise<string> {
  let out = '';
  for await (const chunk of stream) out += (chunk as Buffer).toString();
  return out;
}

/** Files under the root, relative, recursively. */
async function files(): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(root.length + 1)).sort();
}

describe('LocalRecordingStorage', () => {
  it('writes, reads, reads the head, rewrites the head in place and deletes (twice without error)', async () => {
    expect(await storage.write('recordings/a.cbrec', Readable.from([Buffer.from('hello '), Buffer.from('world')]))).toEqual({ bytes: 11 });
    expect(await storage.exists('recordings/a.cbrec')).toBe(true);
    expect(await text(await storage.read('recordings/a.cbrec'))).toBe('hello world');
    expect((await storage.readHead('recordings/a.cbrec', 5)).toString()).toBe('hello');
    await storage.rewriteHead('recordings/a.cbrec', Buffer.from('HOWDY'));
    expect(await readFile(join(root, 'recordings', 'a.cbrec'), 'utf8')).toBe('HOWDY world');
    await storage.delete('recordings/a.cbrec');
    await storage.delete('recordings/a.cbrec');
    expect(await storage.exists('recordings/a.cbrec')).toBe(false);
  });

  it('a missing object is RecordingNotFoundError for read, readHead and rewriteHead', async () => {
    await expect(storage.read('recordings/none.cbrec')).rejects.toBeInstanceOf(RecordingNotFoundError);
    await expect(storage.readHead('recordings/none.cbrec', 512)).rejects.toBeInstanceOf(RecordingNotFoundError);
    await expect(storage.rewriteHead('recordings/none.cbrec', Buffer.alloc(4))).rejects.toBeInstanceOf(RecordingNotFoundError);
  });

  it('a source that fails half way leaves nothing: no object, no partial file', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(100_000, 1);
        throw new Error('disk source went away');
      })(),
    );
    await expect(storage.write('recordings/b.cbrec', failing)).rejects.toThrow('disk source went away');
    expect(await storage.exists('recordings/b.cbrec')).toBe(false);
    expect(await files()).toEqual([]);
  });

  it('a failed write does not touch an object already stored under the key', async () => {
    await storage.write('recordings/c.cbrec', Readable.from([Buffer.from('first')]));
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('second, but');
        throw new Error('cut');
      })(),
    );
    await expect(storage.write('recordings/c.cbrec', failing)).rejects.toThrow('cut');
    expect(await text(await storage.read('recordings/c.cbrec'))).toBe('first');
  });

  it('sweeps half-written leftovers, sparing fresh ones (a write still going on) and whole objects', async () => {
    await storage.write('recordings/kept.cbrec', Readable.from([Buffer.from('whole')]));
    await mkdir(join(root, 'transcripts'), { recursive: true });
    const old = join(root, 'recordings', 'x.cbrec.partial-aaaaaaaaaaaa');
    const oldNested = join(root, 'transcripts', 'y.json.cbrec.partial-bbbbbbbbbbbb');
    const fresh = join(root, 'recordings', 'z.cbrec.partial-cccccccccccc');
    for (const p of [old, oldNested, fresh]) await writeFile(p, 'partial');
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(old, anHourAgo, anHourAgo);
    await utimes(oldNested, anHourAgo, anHourAgo);

    expect(await storage.sweepIncomplete({ olderThanMs: 60_000 })).toBe(2);
    expect(await files()).toEqual(['recordings/kept.cbrec', 'recordings/z.cbrec.partial-cccccccccccc']);
    expect(await storage.sweepIncomplete()).toBe(1);
    expect(await files()).toEqual(['recordings/kept.cbrec']);
  });

  it('sweeping a storage directory that does not exist yet finds nothing', async () => {
    expect(await new LocalRecordingStorage(join(root, 'not-yet')).sweepIncomplete()).toBe(0);
  });

  it.each(['../escape', 'recordings/../../escape', '/etc/passwd', 'recordings//a', '.hidden', 'a\\b', 'recordings/x.cbrec.partial-1', ''])(
    'refuses the key %j',
    async (key) => {
      await expect(storage.write(key, Readable.from([Buffer.from('x')]))).rejects.toBeInstanceOf(RangeError);
      await expect(storage.read(key)).rejects.toBeInstanceOf(RangeError);
      await expect(storage.delete(key)).rejects.toBeInstanceOf(RangeError);
      expect(await files()).toEqual([]);
    },
  );
});
