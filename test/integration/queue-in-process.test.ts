// Without REDIS_URL (the demo and single-box default, here on embedded PGlite) the controller's outbox relay
// runs post-call jobs in-process through the same processors: the transcript is stored and its webhook
// delivered; retries follow the same policy (backoff, then give up), refused audio is not retried, a job id
// is run once, and a job nothing here can run waits in the outbox instead of being dropped.
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/app/config.ts';
import { createLogger } from '../../src/app/logger.ts';
import { buildProcessors, buildVault, startOutboxRelay, type PostCallQueue } from '../../src/app/post-call.ts';
import type { RecordingVault } from '../../src/app/recording-vault.ts';
import { DrizzleOutboxStore, DrizzleRecordingStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { SpeechmaticsBatchPeer } from '../../src/peers/speechmatics-batch-peer.ts';
import { InProcessRunner, type InProcessEvent } from '../../src/queue/in-process-runner.ts';
import type { Processor } from '../../src/queue/jobs.ts';
import { OutboxRelay } from '../../src/queue/outbox-relay.ts';
import { BATCH_KEY, eventually, newKey, queueEnv, recordCall } from './queue-fixture.ts';

const logger = createLogger({ level: 'silent', format: 'json' });

let database: Database;
let dir: string;
let peer: SpeechmaticsBatchPeer;
let receiver: Server;
const received: string[] = [];
let config: Config;
let vault: RecordingVault;
let store: DrizzleRecordingStore;

beforeAll(async () => {
  database = await openDatabase({ pgliteDataDir: 'memory://' });
  await migrate(database);
  dir = await mkdtemp(join(tmpdir(), 'callbridge-inprocess-'));
  peer = await SpeechmaticsBatchPeer.start({ apiKey: BATCH_KEY, doneAfterMs: 20 });
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
  config = loadConfig(queueEnv({ storageDir: join(dir, 'store'), key: newKey(), batchUrl: peer.url, webhookUrl: hookUrl, redis: false, attempts: 3, backoffMs: 20 }), { mode: 'worker' });
  vault = buildVault(config, database, logger)!;
  store = new DrizzleRecordingStore(database.db);
});

afterAll(async () => {
  await peer?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('post-call jobs without Redis', () => {
  it('transcribes in-process through the same processor and delivers CALL_TRANSCRIBED', async () => {
    const queue: PostCallQueue = await startOutboxRelay({
      config,
      database,
      logger,
      inProcess: () => buildProcessors({ config, database, logger, kick: () => queue.kick() }),
      tuning: { relayPollIntervalMs: 50, transcribePollIntervalMs: 20 },
    });
    try {
      expect(queue.mode).toBe('in-process');
      const recording = await recordCall(vault, dir);
      queue.kick();
      const row = await eventually(() => store.getTranscript(recording.id), 'the transcript');
      expect(row.wordCount).toBe(14);
      const hook = await eventually(async () => received.find((b) => b.includes(recording.id)), 'the webhook');
      expect(JSON.parse(hook)).toMatchObject({ type: 'CALL_TRANSCRIBED', callId: recording.callId, data: { recordingId: recording.id } });
      expect(await new DrizzleOutboxStore(database.db).countPending()).toBe(0);
    } finally {
      await queue.close();
    }
  });

  it('retries with the same policy, gives up on refused audio at once, and runs a job id once', async () => {
    const events: InProcessEvent[] = [];
    const processors = await buildProcessors({ config, database, logger, kick: () => undefined, tuning: { transcribePollIntervalMs: 20 } });
    const runner = new InProcessRunner({
      processors: { 'post-call': processors['post-call'] as Processor },
      retry: { attempts: 3, backoffMs: 20 },
      onEvent: (event) => events.push(event),
    });
    const outbox = new DrizzleOutboxStore(database.db);
    const relay = new OutboxRelay({ outbox, sink: runner });
    try {
      peer.refuseNext(2, 503);
      const flaky = await recordCall(vault, dir);
      await relay.drain();
      await runner.idle();
      expect(events.filter((e) => e.jobId === flaky.id).map((e) => [e.kind, e.attempts, e.kind === 'failed' && e.willRetry])).toEqual([
        ['failed', 1, true],
        ['failed', 2, true],
        ['completed', 3, false],
      ]);
      expect(await store.getTranscript(flaky.id)).toBeDefined();

      peer.refuseNext(1, 400, 'not audio');
      const refused = await recordCall(vault, dir);
      await relay.drain();
      await runner.idle();
      const outcome = events.filter((e) => e.jobId === refused.id);
      expect(outcome).toHaveLength(1);
      expect(outcome[0]).toMatchObject({ kind: 'failed', attempts: 1, willRetry: false });
      expect(outcome[0]?.kind === 'failed' && outcome[0].reason).toContain('HTTP 400');
      expect(await store.getTranscript(refused.id)).toBeUndefined();

      // The same job handed over again (a relay crashed before marking it) is not run twice.
      const before = events.length;
      await runner.add({ queue: 'post-call', jobName: 'transcribe', jobId: flaky.id, payload: { recordingId: flaky.id, callId: flaky.callId } });
      await runner.idle();
      expect(events.length).toBe(before);
    } finally {
      await relay.close();
      await runner.close();
    }
  });

  it('keeps the jobs of a queue it cannot run pending (a service not configured yet), and runs them once it can', async () => {
    const outbox = new DrizzleOutboxStore(database.db);
    const processors = await buildProcessors({ config, database, logger, kick: () => undefined, tuning: { transcribePollIntervalMs: 20 } });
    // Transcription not configured here: only webhooks can run.
    const webhooksOnly = new InProcessRunner({ processors: { webhooks: processors.webhooks as Processor }, retry: { attempts: 3, backoffMs: 20 } });
    const recording = await recordCall(vault, dir);
    const first = new OutboxRelay({ outbox, sink: webhooksOnly });
    try {
      await first.drain();
      await webhooksOnly.idle();
      expect((await outbox.pending(50)).map((r) => r.jobId)).toContain(recording.id);
      expect(await store.getTranscript(recording.id)).toBeUndefined();
    } finally {
      await first.close();
      await webhooksOnly.close();
    }
    // Configured now (a restart with the key): the job that waited is run.
    const full = new InProcessRunner({ processors: { 'post-call': processors['post-call'] as Processor }, retry: { attempts: 3, backoffMs: 20 } });
    const second = new OutboxRelay({ outbox, sink: full });
    try {
      await second.drain();
      await full.idle();
      expect(await store.getTranscript(recording.id)).toBeDefined();
    } finally {
      await second.close();
      await full.close();
    }
  });
});
