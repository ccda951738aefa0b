import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RecordingKeyUnknownError, RecordingTamperedError } from '../../../src/core/errors.ts';
import {
  HEADER_SIZE,
  MasterKeys,
  decryptStream,
  encryptStream,
  parseMasterKey,
  rewrapFile,
  rewrapHeader,
} from '../../../src/recording/index.ts';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const ring1 = new MasterKeys({ current: k1 });

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function encrypt(plain: Buffer, keys = ring1, chunkSize?: number): Promise<Buffer> {
  return collect(Readable.from([plain]).pipe(encryptStream(keys, chunkSize === undefined ? {} : { chunkSize })));
}

async function decrypt(file: Buffer, keys = ring1): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    // Feed in odd-sized pieces so the parser's buffering across boundaries is exercised.
    Readable.from((function* () {
      for (let i = 0; i < file.length; i += 7001) yield file.subarray(i, i + 7001);
    })()),
    decryptStream(keys),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

// Chunk boundaries of an encrypted file: [start, end) of each chunk record after the header.
function chunkRecords(file: Buffer): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = HEADER_SIZE;
  while (at < file.length) {
    const end = at + 4 + 12 + file.readUInt32BE(at) + 16;
    out.push([at, end]);
    at = end;
  }
  return out;
}

// Buffers live outside the V8 heap, so heapUsed alone would not see a pipeline that holds the file.
function used(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

// What the pipeline still holds, not garbage waiting for the collector: collect first, then measure (the test
// process runs without --expose-gc, so the collector is fetched this way).
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
function live(): number {
  // Buffers' memory is released a moment after the collection that frees them: the second pass sees it gone.
  collectGarbage();
  collectGarbage();
  return used();
}

describe('round trip', () => {
  it.each([
    ['empty', 0],
    ['small', 100],
    ['exactly one chunk', 65536],
    ['1 MiB over many chunks', 1024 * 1024 + 3],
  ])('%s', async (_name, size) => {
    const plain = randomBytes(size);
    const file = await encrypt(plain);
    expect(file.subarray(0, 6).toString()).toBe('CBREC1');
    if (size >= 64) expect(file.includes(plain.subarray(0, 64))).toBe(false); // no plaintext in the clear
    expect((await decrypt(file)).equals(plain)).toBe(true);
  });

  it('honours a custom chunk size and writes a fresh data key per recording', async () => {
    const plain = randomBytes(10_000);
    const a = await encrypt(plain, ring1, 1000);
    const b = await encrypt(plain, ring1, 1000);
    expect(chunkRecords(a)).toHaveLength(10);
    expect(a.subarray(HEADER_SIZE).equals(b.subarray(HEADER_SIZE))).toBe(false);
    expect((await decrypt(a)).equals(plain)).toBe(true);
  });

  it('streams 50 MB through files with flat memory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cbrec-'));
    try {
      const total = 50 * 1024 * 1024;
      const piece = randomBytes(64 * 1024);
      const before = live();
      let peak = before;
      // Sampled every 4 MB on both sides of the file.
      const source = () =>
        Readable.from((function* () {
          for (let sent = 0; sent < total; sent += piece.length) {
            if (sent % (4 * 1024 * 1024) === 0) peak = Math.max(peak, live());
            yield piece;
          }
        })());
      const path = join(dir, 'rec.cbrec');
      const fh = await open(path, 'w');
      await pipeline(source(), encryptStream(ring1), fh.createWriteStream());
      let seen = 0;
      let same = true;
      const rh = await open(path, 'r');
      await pipeline(
        rh.createReadStream(),
        decryptStream(ring1),
        new Writable({
          write(chunk: Buffer, _e, cb) {
            // Compare against the repeating plaintext without keeping the output.
            for (let i = 0; i < chunk.length; i += 4096) {
              if (chunk[i] !== piece[(seen + i) % piece.length]) same = false;
            }
            if (Math.floor((seen + chunk.length) / (4 * 1024 * 1024)) > Math.floor(seen / (4 * 1024 * 1024))) peak = Math.max(peak, live());
            seen += chunk.length;
            cb();
          },
        }),
      );
      expect(seen).toBe(total);
      expect(same).toBe(true);
      // Holding the file would need 50 MB; a streaming pipeline holds a few chunks' worth.
      expect(peak - before).toBeLessThan(8 * 1024 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('tampering', () => {
  let plain: Buffer;
  let file: Buffer;
  beforeAll(async () => {
    plain = randomBytes(5000);
    file = await encrypt(plain, ring1, 1000); // five chunks, the last one final and full
  });

  const flipped = (at: number): Buffer => {
    const copy = Buffer.from(file);
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    return copy;
  };

  it('detects a flipped byte in the wrapped data key', async () => {
    const at = file.indexOf('"ciphertext":"') + 20;
    await expect(decrypt(flipped(at))).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('detects a changed immutable header field (chunk size)', async () => {
    const copy = Buffer.from(file.toString('latin1').replace('"chunkSize":1000', '"chunkSize":1001'), 'latin1');
    await expect(decrypt(copy)).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('detects a damaged magic', async () => {
    await expect(decrypt(flipped(0))).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('detects a flipped byte in chunk ciphertext and in a tag', async () => {
    const [, [start, end]] = chunkRecords(file) as [[number, number], [number, number]];
    await expect(decrypt(flipped(start + 4 + 12 + 10))).rejects.toBeInstanceOf(RecordingTamperedError);
    await expect(decrypt(flipped(end - 1))).rejects.toBeInstanceOf(RecordingTamperedError);
    await expect(decrypt(flipped(start + 5))).rejects.toBeInstanceOf(RecordingTamperedError); // iv
  });

  it('detects a dropped final chunk, a cut mid-chunk and bytes after the end', async () => {
    const records = chunkRecords(file);
    const lastStart = records[records.length - 1]![0];
    await expect(decrypt(file.subarray(0, lastStart))).rejects.toBeInstanceOf(RecordingTamperedError);
    await expect(decrypt(file.subarray(0, file.length - 3))).rejects.toBeInstanceOf(RecordingTamperedError);
    await expect(decrypt(file.subarray(0, HEADER_SIZE))).rejects.toBeInstanceOf(RecordingTamperedError);
    await expect(decrypt(Buffer.concat([file, Buffer.from([0])]))).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('detects two swapped chunks', async () => {
    const [a, b, ...rest] = chunkRecords(file) as Array<[number, number]>;
    const swapped = Buffer.concat([
      file.subarray(0, HEADER_SIZE),
      file.subarray(b![0], b![1]),
      file.subarray(a![0], a![1]),
      ...rest.map(([s, e]) => file.subarray(s, e)),
    ]);
    expect(swapped.length).toBe(file.length);
    await expect(decrypt(swapped)).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('rejects a chunk moved in from another recording under the same key', async () => {
    const other = await encrypt(randomBytes(5000), ring1, 1000);
    const [s, e] = chunkRecords(other)[1]!;
    const [ts, te] = chunkRecords(file)[1]!;
    const spliced = Buffer.concat([file.subarray(0, ts), other.subarray(s, e), file.subarray(te)]);
    await expect(decrypt(spliced)).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('refuses the wrong key under the right id', async () => {
    const wrong = new MasterKeys({ current: { id: 'k1', key: randomBytes(32) } });
    await expect(decrypt(file, wrong)).rejects.toBeInstanceOf(RecordingTamperedError);
  });

  it('names an unknown key id', async () => {
    const err = await decrypt(file, new MasterKeys({ current: k2 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordingKeyUnknownError);
    expect((err as RecordingKeyUnknownError).keyId).toBe('k1');
  });

  it('still decrypts the untouched file', async () => {
    expect((await decrypt(file)).equals(plain)).toBe(true);
  });
});

describe('rotation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cbrec-rot-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('re-wraps the header in place; only the new key is needed afterwards and the chunks are unchanged', async () => {
    const plain = randomBytes(200_000);
    const before = await encrypt(plain);
    const path = join(dir, 'a.cbrec');
    await writeFile(path, before);

    const fh = await open(path, 'r+');
    try {
      await rewrapFile(fh, new MasterKeys({ current: k2, previous: [k1] }), k2);
    } finally {
      await fh.close();
    }
    const after = await readFile(path);
    expect(after.length).toBe(before.length);
    expect(after.subarray(HEADER_SIZE).equals(before.subarray(HEADER_SIZE))).toBe(true);
    expect(after.subarray(0, HEADER_SIZE).equals(before.subarray(0, HEADER_SIZE))).toBe(false);

    expect((await decrypt(after, new MasterKeys({ current: k2 }))).equals(plain)).toBe(true);
    await expect(decrypt(after, ring1)).rejects.toBeInstanceOf(RecordingKeyUnknownError);
  });

  it('rewrapHeader keeps the header size and refuses a header it cannot unwrap', async () => {
    const file = await encrypt(randomBytes(10));
    const header = file.subarray(0, HEADER_SIZE);
    expect(rewrapHeader(header, ring1, k2)).toHaveLength(HEADER_SIZE);
    expect(() => rewrapHeader(header, new MasterKeys({ current: k2 }), k2)).toThrow(RecordingKeyUnknownError);
    expect(() => rewrapHeader(header, ring1, { id: 'bad id', key: randomBytes(32) })).toThrow(ConfigError);
  });
});

describe('keys', () => {
  it('parseMasterKey accepts 32 bytes of base64', () => {
    const key = randomBytes(32);
    expect(parseMasterKey(key.toString('base64'))).toEqual(key);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64'), /got 16 bytes/],
    ['not base64', 'not-a-key!', /not base64/],
    ['empty', '', /got 0 bytes/],
  ])('parseMasterKey rejects %s with a message naming the variable', (_name, value, detail) => {
    expect(() => parseMasterKey(value)).toThrow(ConfigError);
    expect(() => parseMasterKey(value)).toThrow(/CALL_RECORDING_ENCRYPTION_KEY/);
    expect(() => parseMasterKey(value)).toThrow(detail);
  });

  it('MasterKeys rejects wrong-length keys and duplicate ids', () => {
    expect(() => new MasterKeys({ current: { id: 'a', key: randomBytes(31) } })).toThrow(ConfigError);
    expect(() => new MasterKeys({ current: k1, previous: [{ id: 'k1', key: randomBytes(32) }] })).toThrow(/given twice/);
  });
});
