// RecordingVault on a real database (PGlite) and real files: finishing a spooled recording is all or nothing
// and safe to repeat, a spool file is only ever deleted once its encrypted copy is on record, transcripts and
// deletion, and key rotation of recordings and transcripts with failures named.
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { masterKeyFromBase64 } from '../../src/app/recording-keys.ts';
import { RecordingVault } from '../../src/app/recording-vault.ts';
import { RecordingInvalidError, RecordingNotFoundError } from '../../src/core/errors.ts';
import { DrizzleRecordingStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { outbox } from '../../src/db/schema.ts';
import { LocalRecordingStorage, MasterKeys } from '../../src/recording/index.ts';
import { wavBytes } from './recordings-fixture.ts';

const KEY_A = Buffer.alloc(32, 21).toString('base64');
const KEY_B = Buffer.alloc(32, 22).toString('base64');

let database: Database;
beforeAll(async () => {
  database = await openDatabase({ pgliteDataDir: 'memory://' });
  await migrate(database);
});
afterAll(async () => {
  await database.close();
});

let dir: string;
let spool: string;
let storageDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cb-vault-'));
  spool = join(dir, 'spool');
  storageDir = join(dir, 'store');
  await mkdir(spool);
  // Each test's files live in its own directory: rows of earlier tests would name files that are gone.
  await database.db.execute(sql`delete from recordings`);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function vault(current = KEY_A, previous: string[] = []): RecordingVault {
  return new RecordingVault({
    storage: new LocalRecordingStorage(storageDir),
    store: new DrizzleRecordingStore(database.db),
    keys: new MasterKeys({ current: masterKeyFromBase64(current, 'current'), previous: previous.map((k) => masterKeyFromBase64(k, 'previous')) }),
    retentionYears: 7,
    logger: pino({ level: 'silent' }),
  });
}

async function spooled(bytes = wavBytes(500)): Promise<{ callId: string; path: string; bytes: Buffer }> {
  const callId = randomUUID();
  const path = join(spool, `${callId}.wav`);
  await writeFile(path, bytes);
  return { callId, path, bytes };
}

async function storedObjects(): Promise<string[]> {
  const entries = await readdir(storageDir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('RecordingVault.finishSpooled', () => {
  it('stores the recording encrypted with its row and post-call job, then deletes the plaintext; opening gives the same bytes', async () => {
    const v = vault();
    const { callId, path, bytes } = await spooled();
    const recordedAt = new Date('2026-11-01T09:30:00Z');
    const row = await v.finishSpooled(path, { callId, recordedAt });
    expect(row).toMatchObject({ callId, channels: 2, sampleRate: 8000, durationMs: 500, plaintextBytes: bytes.length, recordedAt });
    expect(row.retainUntil).toEqual(new Date('2033-11-01T09:30:00Z'));
    expect(await exists(path)).toBe(false);
    expect(await database.db.select().from(outbox).where(eq(outbox.jobId, row.id))).toHaveLength(1);
    expect((await buffer((await v.openAudio(row.id)).stream)).equals(bytes)).toBe(true);
  });

  it('is safe to repeat: the same file again (a crash before its delete) gives the stored row and is removed', async () => {
    const v = vault();
    const { callId, path, bytes } = await spooled();
    const first = await v.finishSpooled(path, { callId, recordedAt: new Date() });
    await writeFile(path, bytes);
    const again = await v.finishSpooled(path, { callId, recordedAt: new Date() });
    expect(again.id).toBe(first.id);
    expect(await exists(path)).toBe(false);
    expect(await storedObjects()).toHaveLength(1);
  });

  it('never deletes another recording spooled under a stored name', async () => {
    const v = vault();
    const { callId, path } = await spooled();
    await v.finishSpooled(path, { callId, recordedAt: new Date() });
    await writeFile(path, wavBytes(900));
    await expect(v.finishSpooled(path, { callId, recordedAt: new Date() })).rejects.toBeInstanceOf(RecordingInvalidError);
    expect(await exists(path)).toBe(true);
  });

  it('refuses a spool file that is not a WAV, keeping it and storing nothing', async () => {
    const { callId, path } = await spooled(Buffer.from('this is not audio at all, just text'));
    await expect(vault().finishSpooled(path, { callId, recordedAt: new Date() })).rejects.toBeInstanceOf(RecordingInvalidError);
    expect(await exists(path)).toBe(true);
    expect(await storedObjects()).toEqual([]);
  });

  it('when the row cannot be written, the encrypted copy is removed again and the plaintext stays', async () => {
    await database.db.execute(sql`create or replace function refuse_recordings() returns trigger language plpgsql as $$ begin raise exception 'no'; end $$`);
    await database.db.execute(sql`create trigger refuse before insert on recordings for each row execute function refuse_recordings()`);
    try {
      const { callId, path } = await spooled();
      await expect(vault().finishSpooled(path, { callId, recordedAt: new Date() })).rejects.toThrow();
      expect(await exists(path)).toBe(true);
      expect(await storedObjects()).toEqual([]);
      expect(await new DrizzleRecordingStore(database.db).findBySpoolFile(`${callId}.wav`)).toBeUndefined();
    } finally {
      await database.db.execute(sql`drop trigger if exists refuse on recordings`);
    }
  });
});

describe('RecordingVault.sweepOrphans', () => {
  it('removes encrypted objects no row refers to once they are old, and nothing else', async () => {
    const v = vault();
    const kept = await v.finishSpooled((await spooled()).path, { callId: randomUUID(), recordedAt: new Date() });
    await v.saveTranscript(kept.id, { results: [] }, { language: 'en', wordCount: 0, stats: {}, providerJobId: null }, []);
    // What a crash between storing and recording leaves behind: a complete object without a row.
    const storage = new LocalRecordingStorage(storageDir);
    const orphan = `recordings/${randomUUID()}.cbrec`;
    const orphanTranscript = `transcripts/${kept.id}-${randomUUID()}.json.cbrec`;
    for (const key of [orphan, orphanTranscript]) await storage.write(key, Readable.from([Buffer.from('ciphertext')]));
    const foreign = 'recordings/README';
    await storage.write(foreign, Readable.from([Buffer.from('not ours')]));

    // Young objects may still be on their way to a row: left alone.
    expect(await v.sweepOrphans(60 * 60_000)).toBe(0);
    const anHourLater = new Date(Date.now() + 2 * 60 * 60_000);
    expect(await v.sweepOrphans(60 * 60_000, anHourLater)).toBe(2);
    expect(await storage.exists(orphan)).toBe(false);
    expect(await storage.exists(orphanTranscript)).toBe(false);
    expect(await storage.exists(foreign)).toBe(true);
    // The recording and its transcript on record still open.
    expect((await buffer((await v.openAudio(kept.id)).stream)).length).toBe(kept.plaintextBytes);
    expect((await v.openTranscript(kept.id)).transcript).toEqual({ results: [] });
  });
});

describe('transcripts, deletion and rotation', () => {
  const meta = { language: 'en', wordCount: 3, stats: {}, providerJobId: null };

  it('keeps one encrypted transcript per recording; deleting a recording removes its files and rows', async () => {
    const v = vault();
    const { callId, path } = await spooled();
    const row = await v.finishSpooled(path, { callId, recordedAt: new Date() });
    expect(await v.saveTranscript(row.id, { words: ['chest', 'pain', 'today'] }, meta, [])).toEqual({ inserted: true });
    expect(await v.saveTranscript(row.id, { words: ['other'] }, meta, [])).toEqual({ inserted: false });
    expect((await v.openTranscript(row.id)).transcript).toEqual({ words: ['chest', 'pain', 'today'] });
    const files = await storedObjects();
    expect(files).toHaveLength(2);
    for (const f of files) expect((await readFile(join(storageDir, f.endsWith('.json.cbrec') ? 'transcripts' : 'recordings', f))).includes(Buffer.from('chest'))).toBe(false);

    expect(await v.deleteRecording(row.id)).toBe(true);
    expect(await storedObjects()).toEqual([]);
    await expect(v.openAudio(row.id)).rejects.toBeInstanceOf(RecordingNotFoundError);
    await expect(v.openTranscript(row.id)).rejects.toBeInstanceOf(RecordingNotFoundError);
    expect(await v.deleteRecording(row.id)).toBe(false);
  });

  it('rotation re-wraps recordings and transcripts under the new key and names what it could not open', async () => {
    const a = vault(KEY_A);
    const first = await spooled();
    const row = await a.finishSpooled(first.path, { callId: first.callId, recordedAt: new Date() });
    await a.saveTranscript(row.id, { text: 'hello' }, meta, []);
    // One more recording whose stored file is gone: rotation cannot re-wrap it.
    const second = await spooled();
    const lost = await a.finishSpooled(second.path, { callId: second.callId, recordedAt: new Date() });
    await rm(join(storageDir, ...lost.storageKey.split('/')));

    const b = vault(KEY_B, [KEY_A]);
    const progress: number[] = [];
    const result = await b.rotate((done) => progress.push(done));
    const keyB = masterKeyFromBase64(KEY_B, 'b').id;
    expect(result.rewrapped).toBe(2);
    expect(result.failed).toEqual([expect.objectContaining({ id: lost.id, kind: 'recording' })]);
    expect(progress.at(-1)).toBe(result.rewrapped);
    const store = new DrizzleRecordingStore(database.db);
    expect((await store.get(row.id))?.keyId).toBe(keyB);
    expect((await store.getTranscript(row.id))?.keyId).toBe(keyB);

    // The old key can go: both still open under the new one alone.
    const onlyB = vault(KEY_B);
    expect((await buffer((await onlyB.openAudio(row.id)).stream)).equals(first.bytes)).toBe(true);
    expect((await onlyB.openTranscript(row.id)).transcript).toEqual({ text: 'hello' });
    // A second run has nothing left but the lost file.
    expect((await b.rotate()).failed.map((f) => f.id)).toEqual([lost.id]);
  });
});
