// Worker processes, as operators run them: one killed (SIGKILL) in the middle of a transcription hands the
// job over once its lock lapses, and the next worker finishes it exactly once, waiting for the same
// Speechmatics job instead of uploading again; SIGTERM lets the running job finish, then exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logger.ts';
import { buildVault } from '../../src/app/post-call.ts';
import type { RecordingVault } from '../../src/app/recording-vault.ts';
import type { WorkerTuning } from '../../src/app/worker.ts';
import { DrizzleRecordingStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { SpeechmaticsBatchPeer } from '../../src/peers/speechmatics-batch-peer.ts';
import { JobAdmin } from '../../src/queue/job-admin.ts';
import { createScratchPostgres, type ScratchPostgres } from './db-fixture.ts';
import { BATCH_KEY, dropPrefix, eventually, newKey, queueEnv, recordCall, REDIS_URL, testPrefix } from './queue-fixture.ts';

const logger = createLogger({ level: 'silent', format: 'json' });
const prefix = testPrefix('workerproc');
const tuning: WorkerTuning = { prefix, lockDurationMs: 1000, stalledIntervalMs: 500, relayPollIntervalMs: 100, transcribePollIntervalMs: 50, graceMs: 10_000 };

let scratch: ScratchPostgres;
let database: Database;
let dir: string;
let peer: SpeechmaticsBatchPeer;
let hooks: Server;
let env: Record<string, string>;
let vault: RecordingVault;
let store: DrizzleRecordingStore;
const children: WorkerChild[] = [];

beforeAll(async () => {
  scratch = await createScratchPostgres();
  database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
  await migrate(database);
  dir = await mkdtemp(join(tmpdir(), 'callbridge-workerproc-'));
  peer = await SpeechmaticsBatchPeer.start({ apiKey: BATCH_KEY, doneAfterMs: 50 });
  hooks = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(hooks.address() as { port: number }).port}/hooks`;
  env = queueEnv({ databaseUrl: scratch.url, storageDir: join(dir, 'store'), key: newKey(), batchUrl: peer.url, webhookUrl: hookUrl });
  vault = buildVault(loadConfig(env, { mode: 'worker' }), database, logger)!;
  store = new DrizzleRecordingStore(database.db);
});

afterEach(async () => {
  peer.release();
  for (const child of children.splice(0)) await child.kill('SIGKILL');
});

afterAll(async () => {
  await peer?.close();
  await new Promise<void>((resolve) => hooks?.close(() => resolve()));
  await database?.close();
  await scratch?.drop();
  await dropPrefix(prefix);
  await rm(dir, { recursive: true, force: true });
});

describe('worker processes', () => {
  it('finishes a job exactly once when its worker is killed mid-job', async () => {
    peer.holdJobs = true;
    const recording = await recordCall(vault, dir);
    const first = await startChild();
    // Uploaded, and the service holds it 'running': the worker is waiting for the transcript.
    await first.waitForLog((l) => l.msg === 'job progress' && l.jobId === recording.id && l.progress === 30);
    await first.kill('SIGKILL');

    const second = await startChild();
    peer.release();
    await second.waitForLog((l) => l.msg === 'job completed' && l.jobId === recording.id);
    await eventually(() => store.getTranscript(recording.id), 'the transcript');

    // One upload (the second worker waited for the same Speechmatics job), one transcript, one webhook row.
    expect([...peer.jobs.values()].filter((j) => j.dataName === `${recording.id}.wav`)).toHaveLength(1);
    const hookRows = await database.db.execute(
      sql`select count(*)::int as n from outbox where job_name = 'CALL_TRANSCRIBED' and payload->>'body' like ${`%${recording.id}%`}`,
    );
    expect((hookRows as unknown as { rows: { n: number }[] }).rows[0]?.n).toBe(1);
    expect(first.lines.filter((l) => l.msg === 'job completed' && l.jobId === recording.id)).toHaveLength(0);
    expect(second.lines.filter((l) => l.msg === 'job completed' && l.jobId === recording.id)).toHaveLength(1);
    const admin = await JobAdmin.connect({ redisUrl: REDIS_URL, prefix, queues: ['post-call'] });
    try {
      const [job] = (await admin.list({ states: ['completed'] })).filter((j) => j.id === recording.id);
      expect(job).toMatchObject({ state: 'completed', progress: 100 });
    } finally {
      await admin.close();
    }
  });

  it('on SIGTERM stops taking jobs, lets the running one finish, and exits 0', async () => {
    peer.holdJobs = true;
    const recording = await recordCall(vault, dir);
    const worker = await startChild();
    await worker.waitForLog((l) => l.msg === 'job progress' && l.jobId === recording.id && l.progress === 30);
    worker.process.kill('SIGTERM');
    await worker.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('stopping'));
    // A job arriving now is not taken by the stopping worker.
    const later = await recordCall(vault, dir);
    peer.release();
    expect(await worker.exited).toBe(0);
    expect(await store.getTranscript(recording.id)).toBeDefined();
    expect(worker.lines.some((l) => l.msg === 'job completed' && l.jobId === recording.id)).toBe(true);
    expect(worker.lines.some((l) => l.msg === 'job started' && l.jobId === later.id)).toBe(false);
    expect(worker.lines.at(-1)).toMatchObject({ msg: 'worker stopped' });
  });
});

interface LogLine {
  msg?: string;
  jobId?: string;
  progress?: number;
  [key: string]: unknown;
}

interface WorkerChild {
  process: ChildProcess;
  lines: LogLine[];
  exited: Promise<number | null>;
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

async function startChild(): Promise<WorkerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/queue-worker-child.ts', JSON.stringify(tuning)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    buffer += text;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        lines.push({ msg: line });
      }
      for (const wake of waiters) wake();
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(match);
        if (found === undefined) return;
        done();
        resolve(found);
      };
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`worker log line not seen; stderr: ${stderr.slice(-2000)}`));
      }, timeoutMs);
      waiters.add(check);
      void exited.then(() => {
        if (!waiters.has(check)) return;
        done();
        reject(new Error(`worker exited first; stderr: ${stderr.slice(-2000)}`));
      });
      check();
    });
  const worker: WorkerChild = {
    process: child,
    lines,
    exited,
    waitForLog,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  children.push(worker);
  await waitForLog((l) => l.msg === 'worker ready');
  return worker;
}
