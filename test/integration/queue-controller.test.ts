// A recorded call end to end, both ways the post-call job can run: the real controller records an AI call
// from the simulator and stores it encrypted; without REDIS_URL its own outbox relay runs the job
// in-process, with REDIS_URL (the real Redis) the job goes through BullMQ to a `callbridge worker`. Either
// way the Speechmatics batch stand-in transcribes each side under its channel label, and the transcript
// is stored encrypted, readable only through the vault.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorker } from '../../src/app/worker.ts';
import type { CallSession } from '../../src/call/call-session.ts';
import { loadConfig } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logger.ts';
import { buildVault } from '../../src/app/post-call.ts';
import { DrizzleRecordingStore, migrate, openDatabase, type Database, type RecordingRow } from '../../src/db/index.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';
import { startVoicePeers, type VoicePeers } from '../support/voice-peers.ts';
import { dropPrefix, REDIS_URL, testPrefix } from './queue-fixture.ts';

const RECORDED_AI_LINE = '+15559870100';

let peers: VoicePeers;
let database: Database;
let harness: Harness;
let dir: string;
const sessions: CallSession[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  peers = await startVoicePeers();
  database = await openDatabase({ pgliteDataDir: 'memory://' });
  await migrate(database);
  dir = await mkdtemp(join(tmpdir(), 'callbridge-postcall-ctl-'));
  env = { ...peers.env, RECORDINGS_DIR: join(dir, 'spool'), RECORDING_STORAGE_DIR: join(dir, 'store') };
  harness = await startHarness({ database, env, controller: { onSession: (s) => sessions.push(s) } });
});

afterAll(async () => {
  await harness?.close();
  await peers?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

/** One recorded AI call, hung up after the agent's reply: its session. */
async function recordedCall(h: Harness, from: string): Promise<CallSession> {
  const before = sessions.length;
  const call = h.simulator.placeCall({ from, to: RECORDED_AI_LINE, say: [] });
  await eventually(() => call.playbacks.length >= 1, 'the greeting', 10_000);
  call.say('I would like to book a cleaning please');
  await eventually(() => call.playbacks.length >= 2, 'the reply', 10_000);
  call.hangup();
  await eventually(() => sessions.length === before + 1, 'the session');
  const session = sessions[before]!;
  await session.done;
  return session;
}

/** Waits for the call's recording and its transcript; checks what the caller said came back on their channel. */
async function expectTranscribed(session: CallSession, configEnv: Record<string, string>, db: Database = database): Promise<RecordingRow> {
  const store = new DrizzleRecordingStore(db.db);
  let recording: RecordingRow | undefined;
  await eventually(async () => (recording = (await store.listByCall(session.callId))[0]) !== undefined, 'the recording', 10_000);
  await eventually(async () => (await store.getTranscript(recording!.id)) !== undefined, 'the transcript', 20_000);

  const vault = buildVault(loadConfig(configEnv, { mode: 'worker' }), db, createLogger({ level: 'silent', format: 'json' }))!;
  const { row, transcript } = (await vault.openTranscript(recording!.id)) as {
    row: { wordCount: number; stats: Record<string, unknown> };
    transcript: { results: { type: string; channel?: string; alternatives: { content: string }[] }[] };
  };
  const caller = transcript.results.filter((r) => r.type === 'word' && r.channel === 'Caller').map((r) => r.alternatives[0]!.content);
  expect(caller.join(' ')).toBe('I would like to book a cleaning please');
  expect(row.wordCount).toBeGreaterThanOrEqual(caller.length);
  expect(row.stats).toMatchObject({ channels: [{ label: 'Caller' }, { label: 'Agent' }] });
  return recording!;
}

describe('the controller without Redis', () => {
  it('transcribes a recorded call in-process', async () => {
    const jobsBefore = peers.batch.jobs.size;
    await expectTranscribed(await recordedCall(harness, '+15551230001'), env);
    expect(peers.batch.jobs.size).toBe(jobsBefore + 1);
  });
});

describe('the controller with Redis and a separate worker', () => {
  it('queues the recorded call on BullMQ and a worker transcribes it once', async () => {
    // Its own database (the first controller's in-process relay must not see these jobs) and BullMQ prefix.
    const prefix = testPrefix('controller');
    const redisEnv = { ...env, REDIS_URL, QUEUE_PREFIX: prefix };
    const db = await openDatabase({ pgliteDataDir: 'memory://' });
    await migrate(db);
    const logger = createLogger({ level: 'silent', format: 'json' });
    const worker = await startWorker(loadConfig(redisEnv, { mode: 'worker' }), logger, { database: db });
    const queued = await startHarness({ database: db, env: redisEnv, controller: { onSession: (s) => sessions.push(s) } });
    try {
      const jobsBefore = peers.batch.jobs.size;
      const recording = await expectTranscribed(await recordedCall(queued, '+15551230002'), redisEnv, db);
      expect(peers.batch.jobs.size).toBe(jobsBefore + 1);
      expect(worker.counts.completed).toBeGreaterThanOrEqual(1);
      expect(recording.plaintextBytes).toBeGreaterThan(44);
    } finally {
      await queued.close();
      await worker.close();
      await db.close();
      await dropPrefix(prefix);
    }
  });
});
