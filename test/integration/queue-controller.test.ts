// The embedded default end to end: the real controller (no REDIS_URL, embedded PGlite) records an AI call
// from the simulator, stores it encrypted, and its own outbox relay runs the post-call job in-process:
// the call is transcribed by the Speechmatics batch stand-in, each side under its channel label.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/app/call-session.ts';
import { loadConfig } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logger.ts';
import { buildVault } from '../../src/app/post-call.ts';
import { DrizzleRecordingStore, migrate, openDatabase, type Database, type RecordingRow } from '../../src/db/index.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';
import { startVoicePeers, type VoicePeers } from '../support/voice-peers.ts';

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

describe('the controller without Redis', () => {
  it('transcribes a recorded call in-process', async () => {
    const call = harness.simulator.placeCall({ from: '+15551230001', to: RECORDED_AI_LINE, say: [] });
    await eventually(() => call.playbacks.length >= 1, 'the greeting', 10_000);
    call.say('I would like to book a cleaning please');
    await eventually(() => call.playbacks.length >= 2, 'the reply', 10_000);
    call.hangup();
    await eventually(() => sessions.length === 1, 'the session');
    await sessions[0]!.done;

    const store = new DrizzleRecordingStore(database.db);
    let recording: RecordingRow | undefined;
    await eventually(async () => (recording = (await store.listByCall(sessions[0]!.callId))[0]) !== undefined, 'the recording', 10_000);
    await eventually(async () => (await store.getTranscript(recording!.id)) !== undefined, 'the transcript', 20_000);

    const vault = buildVault(loadConfig(env, { mode: 'worker' }), database, createLogger({ level: 'silent', format: 'json' }))!;
    const { row, transcript } = (await vault.openTranscript(recording!.id)) as {
      row: { wordCount: number; stats: Record<string, unknown> };
      transcript: { results: { type: string; channel?: string; alternatives: { content: string }[] }[] };
    };
    const caller = transcript.results.filter((r) => r.type === 'word' && r.channel === 'Caller').map((r) => r.alternatives[0]!.content);
    expect(caller.join(' ')).toBe('I would like to book a cleaning please');
    expect(row.wordCount).toBeGreaterThanOrEqual(caller.length);
    expect(row.stats).toMatchObject({ channels: [{ label: 'Caller' }, { label: 'Agent' }] });
    expect(peers.batch.jobs.size).toBe(1);
  });
});
