// Call recording end to end: the real controller against the simulator (which writes real WAV files), the
// recordings encrypted into storage with their rows and post-call jobs, and everything that can go wrong on
// the way: no key, a crash (spool files and half-written ciphertext left behind), the database refusing the
// row, an altered file, a missing key, and key rotation through the CLI as an operator runs it.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { eq, sql } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import { masterKeyFromBase64, masterKeysFromConfig } from '../../src/app/recording-keys.ts';
import { RecordingVault } from '../../src/app/recording-vault.ts';
import { RecordingKeyUnknownError, RecordingTamperedError } from '../../src/core/errors.ts';
import { DrizzleRecordingStore, migrate, openDatabase, type Database, type RecordingRow } from '../../src/db/index.ts';
import { outbox } from '../../src/db/schema.ts';
import { LocalRecordingStorage } from '../../src/recording/index.ts';
import { SpokenAudioDecoder } from '../../src/simulator/spoken-audio.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { runCli } from '../support/cli.ts';
import { eventually, startHarness, TEST_ROUTING_FILE, type Harness } from '../support/controller-harness.ts';
import { startVoicePeers, TEST_RECORDING_KEY, type VoicePeers } from '../support/voice-peers.ts';
import { createScratchPostgres } from './db-fixture.ts';
import { wavHeader } from '../../src/voice/tts/wav.ts';

const RECORDED_AI_LINE = '+15559870100';
const UNRECORDED_AI_LINE = '+15559870300';
const CALLER = '+15551230001';
const KEY_B = Buffer.alloc(32, 9).toString('base64');
const KEY_C = Buffer.alloc(32, 11).toString('base64');
const quiet = pino({ level: 'silent' });
const ANNOUNCEMENT = 'This call is recorded for your medical record.';

let peers: VoicePeers;
/** One embedded database for the file (opening one costs seconds); tests look only at their own calls. */
let pglite: Database | undefined;
beforeAll(async () => {
  peers = await startVoicePeers();
});
afterAll(async () => {
  await peers.close();
  await pglite?.close();
});

interface Setup {
  harness: Harness;
  database: Database;
  spool: string;
  storage: string;
  sessions: CallSession[];
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openDb(kind: 'pglite' | 'postgres'): Promise<{ database: Database; url?: string }> {
  if (kind === 'pglite') {
    if (pglite === undefined) {
      pglite = await openDatabase({ pgliteDataDir: 'memory://' });
      await migrate(pglite);
    }
    return { database: pglite };
  }
  const scratch = await createScratchPostgres();
  cleanups.push(() => scratch.drop());
  const database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
  await migrate(database);
  cleanups.push(() => database.close());
  return { database, url: scratch.url };
}

async function dirs(): Promise<{ spool: string; storage: string }> {
  const spool = await mkdtemp(join(tmpdir(), 'cb-spool-'));
  const storage = await mkdtemp(join(tmpdir(), 'cb-store-'));
  cleanups.push(() => rm(spool, { recursive: true, force: true }), () => rm(storage, { recursive: true, force: true }));
  return { spool, storage };
}

async function start(options: {
  database: Database;
  spool: string;
  storage: string;
  env?: Record<string, string>;
  beforeController?: () => Promise<void>;
}): Promise<Setup> {
  const sessions: CallSession[] = [];
  const harness = await startHarness({
    database: options.database,
    env: { ...peers.env, RECORDINGS_DIR: options.spool, RECORDING_STORAGE_DIR: options.storage, ...options.env },
    controller: { onSession: (s) => sessions.push(s), recordings: { retryDelaysMs: Array.from({ length: 20 }, () => 250) } },
    ...(options.beforeController ? { beforeController: options.beforeController } : {}),
  });
  cleanups.push(() => harness.close());
  return { harness, database: options.database, spool: options.spool, storage: options.storage, sessions };
}

function vault(database: Database, storage: string, current: string, previous: string[] = []): RecordingVault {
  return new RecordingVault({
    storage: new LocalRecordingStorage(storage),
    store: new DrizzleRecordingStore(database.db),
    keys: masterKeysFromConfig({ recordingKey: current, previousRecordingKeys: previous }),
    retentionYears: 7,
    logger: quiet,
  });
}

/** Format and per-channel samples of a 16-bit PCM WAV. */
function parseWav(wav: Buffer): { channels: number; rate: number; channel(n: number): Int16Array } {
  expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
  const channels = wav.readUInt16LE(22);
  const frames = wav.readUInt32LE(40) / (2 * channels);
  return {
    channels,
    rate: wav.readUInt32LE(24),
    channel: (n) => Int16Array.from({ length: frames }, (_v, i) => wav.readInt16LE(44 + (i * channels + n) * 2)),
  };
}

/** What the spoken-audio decoder hears in 20 ms frames of a channel. */
function heard(samples: Int16Array): string[] {
  const decoder = new SpokenAudioDecoder();
  const out: string[] = [];
  for (let i = 0; i + 160 <= samples.length; i += 160) {
    const u = decoder.push(Buffer.from(samples.slice(i, i + 160).buffer)).utterance;
    if (u !== undefined) out.push(u.text);
  }
  return out;
}

async function wavsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.endsWith('.wav'));
}

/** A caller on the recorded AI line says one sentence after the greeting, hears the reply and hangs up. */
async function recordedCall(s: Setup, sentence = 'I would like to book a cleaning please'): Promise<{ session: CallSession; row: RecordingRow }> {
  const call = s.harness.simulator.placeCall({ from: CALLER, to: RECORDED_AI_LINE, say: [] });
  await eventually(() => call.playbacks.length >= 1, 'the greeting', 10_000);
  call.say(sentence);
  await eventually(() => call.playbacks.length >= 2, 'the reply', 10_000);
  call.hangup();
  await eventually(() => s.sessions.length === 1, 'the session');
  const session = s.sessions[0]!;
  await session.done;
  const store = new DrizzleRecordingStore(s.database.db);
  let rows: RecordingRow[] = [];
  await eventually(async () => (rows = await store.listByCall(session.callId)).length > 0, 'the recording row', 10_000);
  return { session, row: rows[0]! };
}

describe.each(['pglite', 'postgres'] as const)('a recorded call (%s)', (kind) => {
  it('ends encrypted in storage: spool empty, one row, a post-call job, and a stereo file whose left channel is what the caller said', async () => {
    const { database } = await openDb(kind);
    const s = await start({ database, ...(await dirs()) });
    const { session, row } = await recordedCall(s);

    await eventually(async () => (await wavsIn(s.spool)).length === 0, 'the plaintext removed');
    expect(await new DrizzleRecordingStore(database.db).listByCall(session.callId)).toHaveLength(1);
    expect(row).toMatchObject({ channels: 2, sampleRate: 8000, spoolFile: `${session.callId}.wav`, keyId: masterKeyFromBase64(TEST_RECORDING_KEY, 'k').id });
    expect(row.durationMs).toBeGreaterThan(0);
    const jobs = await database.db.select().from(outbox).where(eq(outbox.jobId, row.id));
    expect(jobs).toEqual([expect.objectContaining({ queue: 'post-call', jobName: 'transcribe', payload: { recordingId: row.id, callId: session.callId } })]);

    // No plaintext in storage: the stored object is the envelope.
    const stored = await readFile(join(s.storage, ...row.storageKey.split('/')));
    expect(stored.subarray(0, 6).toString()).toBe('CBREC1');
    expect(stored.includes(Buffer.from('RIFF'))).toBe(false);

    const { stream } = await vault(database, s.storage, TEST_RECORDING_KEY).openAudio(row.id);
    const wav = parseWav(await buffer(stream));
    expect({ channels: wav.channels, rate: wav.rate }).toEqual({ channels: 2, rate: 8000 });
    expect(heard(wav.channel(0))).toEqual(['I would like to book a cleaning please']);
    expect(heard(wav.channel(1))).toEqual([]);
    // The agent's side carries what was played (greeting and reply), not silence.
    expect(wav.channel(1).some((v) => Math.abs(v) > 1000)).toBe(true);

    const events = (await s.harness.controller.store.getCall(session.callId))?.events ?? [];
    await eventually(async () => ((await s.harness.controller.store.getCall(session.callId))?.events ?? []).some((e) => e.type === 'recording_stored'), 'the journal entry');
    const entry = ((await s.harness.controller.store.getCall(session.callId))?.events ?? []).find((e) => e.type === 'recording_stored');
    expect(entry?.data).toMatchObject({ recordingId: row.id, durationMs: row.durationMs, bytes: row.encryptedBytes });
    expect(events.some((e) => e.type === 'record_start')).toBe(true);
    const metrics = await s.harness.controller.metrics.registry.getSingleMetricAsString('callbridge_recordings_finished_total');
    expect(metrics).toMatch(/callbridge_recordings_finished_total 1/);
  });
});

describe('call recording (pglite)', () => {
  it('an unrecorded number leaves no recording anywhere', async () => {
    const { database } = await openDb('pglite');
    const s = await start({ database, ...(await dirs()) });
    const call = s.harness.simulator.placeCall({ from: CALLER, to: UNRECORDED_AI_LINE, say: [] });
    await eventually(() => call.playbacks.length >= 1, 'the greeting', 10_000);
    call.hangup();
    await eventually(() => s.sessions.length === 1, 'the session');
    await s.sessions[0]!.done;
    expect(call.applications.map((a) => a.app)).not.toContain('record_session');
    expect(await wavsIn(s.spool)).toEqual([]);
    expect(await new DrizzleRecordingStore(database.db).listByCall(s.sessions[0]!.callId)).toEqual([]);
  });

  it('without an encryption key a recorded number is neither recorded nor announced as recorded, and the journal says why', async () => {
    const { database } = await openDb('pglite');
    const d = await dirs();
    // The recorded number with a recording announcement.
    const routing = join(d.spool, 'routing.yaml');
    const original = await readFile(TEST_ROUTING_FILE, 'utf8');
    await writeFile(routing, original.replace('recording: { enabled: true }', `recording: { enabled: true, announcement: "${ANNOUNCEMENT}" }`));
    // Said with the practice's voice (the cached TTS file), or by FreeSWITCH's own when TTS cannot.
    const announcement = (h: Harness) => h.controller.voice!.tts.pathFor({ text: ANNOUNCEMENT, voice: 'en-US-Neural2-F', language: 'en-US', sampleRate: 16000 });
    const announced = (c: SimulatedCall, h: Harness) => c.applications.some((a) => a.arg === announcement(h) || a.arg?.includes(ANNOUNCEMENT) === true);

    const keyed = await start({ database, ...d, env: { ROUTING_FILE: routing } });
    const heard = keyed.harness.simulator.placeCall({ from: CALLER, to: RECORDED_AI_LINE, say: [] });
    await eventually(() => heard.playbacks.length >= 2, 'the announcement and the greeting', 10_000);
    heard.hangup();
    await eventually(() => keyed.sessions.length === 1, 'the session');
    await keyed.sessions[0]!.done;
    expect(announced(heard, keyed.harness)).toBe(true);
    await keyed.harness.close();

    const s = await start({ database, ...d, env: { ROUTING_FILE: routing, CALL_RECORDING_ENCRYPTION_KEY: '' } });
    expect(s.harness.logLines.some((l) => l.includes('calls are NOT recorded'))).toBe(true);
    const call = s.harness.simulator.placeCall({ from: CALLER, to: RECORDED_AI_LINE, say: [] });
    await eventually(() => call.playbacks.length >= 1, 'the greeting', 10_000);
    call.hangup();
    await eventually(() => s.sessions.length === 1, 'the session');
    await s.sessions[0]!.done;
    expect(call.applications.map((a) => a.app)).not.toContain('record_session');
    expect(announced(call, s.harness)).toBe(false);
    expect(await wavsIn(s.spool)).toEqual([]);
    const events = (await s.harness.controller.store.getCall(s.sessions[0]!.callId))?.events ?? [];
    expect(events.find((e) => e.type === 'recording_skipped')?.data).toMatchObject({ reason: 'no_encryption_key' });
  });

  it('after a crash: a spooled recording with no row is stored at start, and half-written ciphertext is removed', async () => {
    const { database } = await openDb('pglite');
    const d = await dirs();
    const orphanCall = randomUUID();
    const orphan = join(d.spool, `${orphanCall}.wav`);
    const partial = join(d.storage, 'recordings', `${randomUUID()}.cbrec.partial-0123abcd`);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    const s = await start({
      database,
      ...d,
      beforeController: async () => {
        // One second of stereo audio, as FreeSWITCH would have left it when the controller died.
        const data = Buffer.alloc(8000 * 4, 1);
        const header = wavHeader({ encoding: 'LINEAR16', channels: 2, sampleRate: 8000, dataBytes: data.length });
        await writeFile(orphan, Buffer.concat([header, data]));
        await utimes(orphan, anHourAgo, anHourAgo);
        await mkdir(join(d.storage, 'recordings'), { recursive: true });
        await writeFile(partial, 'half an envelope');
        await utimes(partial, anHourAgo, anHourAgo);
      },
    });
    const store = new DrizzleRecordingStore(database.db);
    let rows: RecordingRow[] = [];
    await eventually(async () => (rows = await store.listByCall(orphanCall)).length === 1, 'the recovered recording', 10_000);
    expect(rows[0]).toMatchObject({ durationMs: 1000, channels: 2, recordedAt: anHourAgo });
    await eventually(async () => (await wavsIn(s.spool)).length === 0, 'the plaintext removed');
    expect(await stat(partial).catch(() => undefined)).toBeUndefined();
    const { stream } = await vault(database, s.storage, TEST_RECORDING_KEY).openAudio(rows[0]!.id);
    expect((await buffer(stream)).length).toBe(44 + 8000 * 4);
    // The summary is logged once recovery is over (after the sweep of orphaned objects, too).
    await eventually(
      () => s.harness.logLines.some((l) => l.includes('recording spool recovered') && l.includes('"finished":1') && l.includes('"partialsRemoved":1') && l.includes('"orphansRemoved":0')),
      'the recovery summary',
    );
  });

  it('when the database refuses the row the plaintext stays in the spool, and the recording is stored on a retry', async () => {
    const { database } = await openDb('pglite');
    await database.db.execute(sql`create or replace function refuse_recordings() returns trigger language plpgsql as $$ begin raise exception 'database unavailable'; end $$`);
    await database.db.execute(sql`create trigger refuse before insert on recordings for each row execute function refuse_recordings()`);
    cleanups.push(() => database.db.execute(sql`drop trigger if exists refuse on recordings`));
    const s = await start({ database, ...(await dirs()) });
    const call = s.harness.simulator.placeCall({ from: CALLER, to: RECORDED_AI_LINE, say: [] });
    await eventually(() => call.playbacks.length >= 1, 'the greeting', 10_000);
    call.say('Can I speak to someone about my bill');
    await eventually(() => call.playbacks.length >= 2, 'the reply', 10_000);
    call.hangup();
    await eventually(() => s.sessions.length === 1, 'the session');
    const session = s.sessions[0]!;
    await session.done;
    await eventually(() => s.harness.logLines.some((l) => l.includes('recording not stored yet; retrying')), 'a failed attempt');
    expect(await wavsIn(s.spool)).toEqual([`${session.callId}.wav`]);
    // Nothing half-stored either: no row, no ciphertext left from the failed attempt.
    expect(await new DrizzleRecordingStore(database.db).listByCall(session.callId)).toEqual([]);
    expect(await readdir(join(s.storage, 'recordings'))).toEqual([]);

    await database.db.execute(sql`drop trigger refuse on recordings`);
    const store = new DrizzleRecordingStore(database.db);
    await eventually(async () => (await store.listByCall(session.callId)).length === 1, 'the recording stored on a retry', 10_000);
    await eventually(async () => (await wavsIn(s.spool)).length === 0, 'the plaintext removed');
    const [row] = await store.listByCall(session.callId);
    const { stream } = await vault(database, s.storage, TEST_RECORDING_KEY).openAudio(row!.id);
    expect(heard(parseWav(await buffer(stream)).channel(0))).toEqual(['Can I speak to someone about my bill']);
  });

  it('an altered stored file or a missing key does not open', async () => {
    const { database } = await openDb('pglite');
    const s = await start({ database, ...(await dirs()) });
    const { row } = await recordedCall(s);

    await expect(buffer((await vault(database, s.storage, KEY_B).openAudio(row.id)).stream)).rejects.toBeInstanceOf(RecordingKeyUnknownError);

    const path = join(s.storage, ...row.storageKey.split('/'));
    const bytes = await readFile(path);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x01;
    await writeFile(path, bytes);
    await expect(buffer((await vault(database, s.storage, TEST_RECORDING_KEY).openAudio(row.id)).stream)).rejects.toBeInstanceOf(RecordingTamperedError);
  });
});

const cli = (args: string[], env: Record<string, string>) => runCli(args, { LOG_LEVEL: 'warn', ...env });

describe('key rotation through the CLI (postgres)', () => {
  it('re-wraps under the new key so the old one can go; with the old key missing it exits 1 naming what failed', async () => {
    const { database, url } = await openDb('postgres');
    const s = await start({ database, ...(await dirs()) });
    const { row } = await recordedCall(s);
    await eventually(async () => (await wavsIn(s.spool)).length === 0, 'the plaintext removed');
    // The post-call job (in-process here) transcribes it: the transcript is rotated with the recording.
    await eventually(async () => (await new DrizzleRecordingStore(database.db).getTranscript(row.id)) !== undefined, 'the transcript', 20_000);
    const keyA = masterKeyFromBase64(TEST_RECORDING_KEY, 'a').id;
    const keyB = masterKeyFromBase64(KEY_B, 'b').id;
    const env = { DATABASE_URL: url!, RECORDING_STORAGE_DIR: s.storage };
    expect(row.keyId).toBe(keyA);

    expect((await cli(['keys', 'id'], { ...env, CALL_RECORDING_ENCRYPTION_KEY: KEY_B })).stdout.trim()).toBe(keyB);
    const rotated = await cli(['keys', 'rotate'], { ...env, CALL_RECORDING_ENCRYPTION_KEY: KEY_B, CALL_RECORDING_PREVIOUS_KEYS: TEST_RECORDING_KEY });
    expect(rotated).toMatchObject({ code: 0 });
    expect(rotated.stdout).toContain(`2 file(s) re-wrapped under ${keyB}, 0 failed`);
    expect(rotated.stderr).toContain(`re-wrapping data keys under ${keyB}`);
    expect((await new DrizzleRecordingStore(database.db).get(row.id))?.keyId).toBe(keyB);

    // The old key is gone from the configuration: the recording still opens, to the same audio.
    const { stream } = await vault(database, s.storage, KEY_B).openAudio(row.id);
    expect(heard(parseWav(await buffer(stream)).channel(0))).toEqual(['I would like to book a cleaning please']);
    await expect(buffer((await vault(database, s.storage, TEST_RECORDING_KEY).openAudio(row.id)).stream)).rejects.toBeInstanceOf(RecordingKeyUnknownError);
    expect((await vault(database, s.storage, KEY_B).openTranscript(row.id)).row.keyId).toBe(keyB);

    // Rotating on to C without B among the previous keys cannot open the file: named, exit 1, nothing changed.
    const failed = await cli(['keys', 'rotate'], { ...env, CALL_RECORDING_ENCRYPTION_KEY: KEY_C });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`failed recording ${row.id}: Recording is encrypted under master key "${keyB}", which is not configured`);
    expect(failed.stderr).toContain(keyB);
    expect(failed.stdout).toContain('0 file(s) re-wrapped');
    expect((await new DrizzleRecordingStore(database.db).get(row.id))?.keyId).toBe(keyB);
    const again = await vault(database, s.storage, KEY_B).openAudio(row.id);
    expect((await buffer(again.stream)).length).toBe(row.plaintextBytes);
  });
});
