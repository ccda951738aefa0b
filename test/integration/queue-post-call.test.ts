// The post-call queue end to end on real Postgres and Redis, with the Speechmatics batch stand-in driven by
// the real @speechmatics/batch-client: a recording finished by the vault is relayed from the outbox to
// BullMQ, transcribed by a worker, stored encrypted with its CALL_TRANSCRIBED webhook (delivered, signed);
// Redis outages keep rows pending without hanging anyone; retries, dead letters and `jobs list|retry`.
import { createServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/app/config.ts';
import { listJobs, retryJobs } from '../../src/cli/jobs.ts';
import { createLogger } from '../../src/app/logger.ts';
import { buildProcessors, buildVault } from '../../src/app/post-call.ts';
import type { RecordingVault } from '../../src/app/recording-vault.ts';
import { startWorker, type RunningWorker } from '../../src/app/worker.ts';
import { DrizzleCallStore, DrizzleOutboxStore, DrizzleRecordingStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { SpeechmaticsBatchPeer } from '../../src/peers/speechmatics-batch-peer.ts';
import { BullMqSink } from '../../src/queue/bullmq-sink.ts';
import { JobAdmin } from '../../src/queue/job-admin.ts';
import { OutboxRelay } from '../../src/queue/outbox-relay.ts';
import { verifyWebhookSignature } from '../../src/queue/webhook-delivery.ts';
import { createScratchPostgres, type ScratchPostgres } from './db-fixture.ts';
import { BATCH_KEY, dropPrefix, eventually, newKey, queueEnv, recordCall, REDIS_URL, testPrefix } from './queue-fixture.ts';

const logger = createLogger({ level: 'silent', format: 'json' });
const SECRET = 'a-webhook-secret-of-some-length';

let scratch: ScratchPostgres;
let database: Database;
let dir: string;
let peer: SpeechmaticsBatchPeer;
let receiver: Server;
const received: { body: string; signature: string | undefined }[] = [];
let config: Config;
const ADMIN_TOKEN = 'bootstrap-admin-token-for-jobs';
let vault: RecordingVault;
let store: DrizzleRecordingStore;
let outbox: DrizzleOutboxStore;
const prefix = testPrefix('postcall');
const relayPrefix = testPrefix('relay');
let worker: RunningWorker | undefined;

beforeAll(async () => {
  scratch = await createScratchPostgres();
  database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
  await migrate(database);
  dir = await mkdtemp(join(tmpdir(), 'callbridge-queue-'));
  peer = await SpeechmaticsBatchPeer.start({ apiKey: BATCH_KEY, doneAfterMs: 50 });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-callbridge-signature'] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as { port: number }).port;
  config = loadConfig(
    { CALLBRIDGE_API_TOKEN: ADMIN_TOKEN, ...queueEnv({ databaseUrl: scratch.url, storageDir: join(dir, 'store'), key: newKey(), batchUrl: peer.url, webhookUrl: `http://127.0.0.1:${port}/hooks`, attempts: 3, backoffMs: 50 }) },
    { mode: 'worker' },
  );
  vault = buildVault(config, database, logger)!;
  store = new DrizzleRecordingStore(database.db);
  outbox = new DrizzleOutboxStore(database.db);
});

afterEach(async () => {
  await worker?.close();
  worker = undefined;
});

afterAll(async () => {
  await peer?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await database?.close();
  await scratch?.drop();
  await dropPrefix(prefix);
  await dropPrefix(relayPrefix);
  await rm(dir, { recursive: true, force: true });
});

const start = async (): Promise<RunningWorker> =>
  (worker = await startWorker(config, logger, { database, tuning: { prefix, relayPollIntervalMs: 100, transcribePollIntervalMs: 30 } }));

describe('post-call queue on Redis', () => {
  it('transcribes a finished recording: stored encrypted with talk/silence stats, CALL_TRANSCRIBED sent signed', async () => {
    const recording = await recordCall(vault, dir);
    expect(await outbox.countPending()).toBe(1);
    await start();

    const row = await eventually(() => store.getTranscript(recording.id), 'the transcript row');
    const { transcript } = (await vault.openTranscript(recording.id)) as { transcript: { results: { type: string; channel?: string; alternatives: { content: string; confidence: number }[] }[] } };
    const words = (label: string): string[] => transcript.results.filter((r) => r.type === 'word' && r.channel === label).map((r) => r.alternatives[0]!.content);
    // The medical vocabulary went with the job: the drug's name is heard, not misheard.
    expect(words('Caller')).toEqual(['I', 'need', 'a', 'refill', 'of', 'my', 'isotretinoin', 'please']);
    expect(words('Agent')).toEqual(['Sure', 'I', 'can', 'help', 'with', 'that']);
    expect(row.wordCount).toBe(14);
    expect(row.language).toBe('en');
    const stats = row.stats as { durationMs: number; channels: { label: string; talkMs: number }[]; silenceMs: number; overlapMs: number; longestSilenceMs: number };
    expect(stats.durationMs).toBe(6000);
    expect(stats.channels.map((c) => c.label)).toEqual(['Caller', 'Agent']);
    expect(stats.channels[0]!.talkMs).toBeGreaterThan(2000);
    expect(stats.channels[1]!.talkMs).toBeGreaterThan(1000);
    expect(stats.overlapMs).toBe(0);
    expect(stats.silenceMs).toBe(6000 - stats.channels[0]!.talkMs - stats.channels[1]!.talkMs);
    expect(stats.longestSilenceMs).toBeGreaterThan(0);

    // What the service was asked for, and that it was told to forget the audio afterwards.
    const job = [...peer.jobs.values()].find((j) => j.id === row.providerJobId)!;
    const tc = job.config.transcription_config as Record<string, unknown>;
    expect(tc.diarization).toBe('channel');
    expect(tc.channel_diarization_labels).toEqual(['Caller', 'Agent']);
    expect((tc.additional_vocab as { content: string }[]).map((v) => v.content)).toContain('isotretinoin');
    await peer.waitFor(() => job.status === 'deleted');

    // At rest the words are encrypted.
    const files = await readdir(join(dir, 'store', 'transcripts'));
    for (const file of files) expect((await readFile(join(dir, 'store', 'transcripts', file))).includes('isotretinoin')).toBe(false);

    // The webhook went out through the outbox and the webhooks queue, signed, without the words.
    const hook = await eventually(async () => received.find((r) => r.body.includes(recording.id)), 'the CALL_TRANSCRIBED webhook');
    const body = JSON.parse(hook.body) as { type: string; callId: string; data: Record<string, unknown> };
    expect(body.type).toBe('CALL_TRANSCRIBED');
    expect(body.callId).toBe(recording.callId);
    expect(body.data).toMatchObject({ recordingId: recording.id, wordCount: 14, durationMs: 6000 });
    expect(hook.body).not.toContain('isotretinoin');
    expect(verifyWebhookSignature({ secret: SECRET, body: hook.body, header: hook.signature })).toBe(true);
    expect(await outbox.countPending()).toBe(0);
  });

  it('keeps rows pending while Redis is unreachable, then relays each exactly once even when relayed twice', async () => {
    const deadPort = await closedPort();
    const rows = [0, 1, 2].map(() => ({ queue: 'post-call', jobName: 'transcribe', jobId: randomUUID(), payload: { recordingId: randomUUID(), callId: randomUUID() } }));
    await outbox.enqueue(rows);
    const retry = { attempts: 3, backoffMs: 50 };
    const deadSink = new BullMqSink({ redisUrl: `redis://127.0.0.1:${deadPort}`, prefix: relayPrefix, retry });
    const dead = new OutboxRelay({ outbox, sink: deadSink });
    // The producer fails fast instead of hanging: drain() comes back with the rows still there.
    expect(await dead.drain()).toEqual({ relayed: 0, failed: true });
    expect(await dead.drain()).toEqual({ relayed: 0, failed: true });
    const pending = await outbox.pending(10);
    expect(pending.map((p) => p.jobId)).toEqual(rows.map((r) => r.jobId));
    expect(pending[0]!.attempts).toBe(2);
    await dead.close();
    await deadSink.close();

    // Redis is back: a crash had already added the first job without marking it; two relays drain at once.
    const sinks = [0, 1].map(() => new BullMqSink({ redisUrl: REDIS_URL, prefix: relayPrefix, retry }));
    await eventually(async () => ((await sinks[0]!.add(rows[0]!).then(() => true, () => undefined)) ? true : undefined), 'Redis connection');
    const relays = sinks.map((sink) => new OutboxRelay({ outbox, sink }));
    await Promise.all(relays.map((r) => r.drain()));
    expect(await outbox.countPending()).toBe(0);
    const queue = new Queue('post-call', { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: relayPrefix });
    try {
      const jobs = await queue.getJobs(['waiting'], 0, 100);
      expect(jobs.map((j) => j.id).sort()).toEqual(rows.map((r) => r.jobId).sort());
      expect(jobs[0]!.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 50 } });
    } finally {
      await queue.close();
      await queue.disconnect();
    }
    for (const r of relays) await r.close();
    for (const s of sinks) await s.close();
  });

  it('backs off while Redis is down and drains on its own once Redis is back (also after losing it mid-run)', async () => {
    const port = await closedPort();
    const rows = [0, 1].map(() => ({ queue: 'post-call', jobName: 'transcribe', jobId: randomUUID(), payload: { recordingId: randomUUID(), callId: randomUUID() } }));
    await outbox.enqueue(rows);
    const sink = new BullMqSink({ redisUrl: `redis://127.0.0.1:${port}`, prefix: relayPrefix, retry: { attempts: 3, backoffMs: 50 } });
    const gauge: number[] = [];
    const relay = new OutboxRelay({ outbox, sink, pollIntervalMs: 50, backoff: { initialMs: 20, maxMs: 200 }, onPending: (n) => gauge.push(n) });
    relay.start();
    let proxy: { close(): Promise<void> } | undefined;
    try {
      await eventually(async () => ((await outbox.pending(1))[0]!.attempts >= 3 ? true : undefined), 'a few refused rounds');
      expect(await outbox.countPending()).toBe(2);
      expect(gauge.at(-1)).toBe(2);
      // Redis "comes back" at the address the relay uses.
      proxy = await tcpProxy(port, 6379);
      await eventually(async () => ((await outbox.countPending()) === 0 ? true : undefined), 'the relay to drain');
      await eventually(async () => (gauge.at(-1) === 0 ? true : undefined), 'the gauge to show 0');

      // Redis goes away again while the relay runs: a new row waits, and goes once Redis is back.
      await proxy.close();
      const late = { queue: 'post-call', jobName: 'transcribe', jobId: randomUUID(), payload: { recordingId: randomUUID(), callId: randomUUID() } };
      rows.push(late);
      await outbox.enqueue([late]);
      relay.kick();
      await eventually(async () => ((await outbox.pending(1))[0]?.attempts ?? 0) >= 2 ? true : undefined, 'refused rounds after the outage');
      expect(await outbox.countPending()).toBe(1);
      proxy = await tcpProxy(port, 6379);
      await eventually(async () => ((await outbox.countPending()) === 0 ? true : undefined), 'the relay to drain again');
    } finally {
      await relay.close();
      await sink.close();
      await proxy?.close();
    }
    const queue = new Queue('post-call', { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: null }), prefix: relayPrefix });
    try {
      for (const row of rows) expect(await queue.getJob(row.jobId)).toBeDefined();
    } finally {
      await queue.close();
      await queue.disconnect();
    }
  });

  it('retries with backoff, then leaves the job failed with its reason; jobs list shows it and jobs retry completes it', async () => {
    peer.refuseNext(3, 500);
    const recording = await recordCall(vault, dir);
    await start();
    const admin = await JobAdmin.connect({ redisUrl: REDIS_URL, prefix, queues: ['post-call'] });
    try {
      const failed = await eventually(async () => (await admin.list({ states: ['failed'] })).find((j) => j.id === recording.id), 'the failed job');
      expect(failed).toMatchObject({ queue: 'post-call', name: 'transcribe', state: 'failed', attempts: 3 });
      expect(failed.failedReason).toContain('HTTP 500');
    } finally {
      await admin.close();
    }
    const out: string[] = [];
    const io = { out: (text: string) => void out.push(text), prefix };
    // Without --token the CLI would take CALLBRIDGE_API_TOKEN (set here to the bootstrap admin); a wrong one is refused.
    expect(await listJobs(config, { token: 'not-our-token', state: 'failed', queue: 'post-call' }, io).catch((e: Error) => e.name)).toBe('UnauthenticatedError');
    expect(await listJobs(config, { token: ADMIN_TOKEN, state: 'failed', queue: 'post-call' }, io)).toBe(0);
    const listed = out.join('');
    expect(listed).toContain(recording.id);
    expect(listed).toMatch(/failed\s+3\s+.*HTTP 500/);
    expect(await store.getTranscript(recording.id)).toBeUndefined();

    expect(await retryJobs(config, { token: ADMIN_TOKEN, id: recording.id }, io)).toBe(0);
    await eventually(() => store.getTranscript(recording.id), 'the transcript after the retry');
    out.length = 0;
    await listJobs(config, { token: ADMIN_TOKEN, state: 'completed', json: true }, io);
    const completed = (JSON.parse(out.join('')) as { id: string; progress: number }[]).find((j) => j.id === recording.id);
    expect(completed?.progress).toBe(100);
    // The first test's job and this one are both completed: --limit 1 shows one and says the list was cut.
    const notes: string[] = [];
    out.length = 0;
    await listJobs(config, { token: ADMIN_TOKEN, state: 'completed', json: true, limit: 1 }, { ...io, err: (text) => void notes.push(text) });
    expect(JSON.parse(out.join(''))).toHaveLength(1);
    expect(notes.join('')).toContain('showing the first 1 job; there are more');
    expect(await retryJobs(config, { token: ADMIN_TOKEN, id: 'no-such-job' }, io)).toBe(1);
  });

  it('dead-letters audio the service refuses (HTTP 4xx, or a rejected job) on the first attempt, with the reason', async () => {
    peer.refuseNext(1, 400, 'unsupported audio format');
    const refused = await recordCall(vault, dir);
    await start();
    const admin = await JobAdmin.connect({ redisUrl: REDIS_URL, prefix, queues: ['post-call'] });
    try {
      const first = await eventually(async () => (await admin.list({ states: ['failed'] })).find((j) => j.id === refused.id), 'the refused job');
      expect(first.attempts).toBe(1);
      expect(first.failedReason).toContain('HTTP 400 Job rejected due to invalid audio: unsupported audio format');

      peer.rejectNext(1, 'file is corrupt');
      const rejected = await recordCall(vault, dir);
      const second = await eventually(async () => (await admin.list({ states: ['failed'] })).find((j) => j.id === rejected.id), 'the rejected job');
      expect(second.attempts).toBe(1);
      expect(second.failedReason).toBe('Speechmatics rejected the job: file is corrupt');
    } finally {
      await admin.close();
    }
  });

  it('skips a recording that already has its transcript (a repeated job does nothing twice)', async () => {
    const recording = await recordCall(vault, dir);
    await start();
    await eventually(() => store.getTranscript(recording.id), 'the transcript');
    const jobsBefore = peer.jobs.size;
    const processors = await buildProcessors({ config, database, logger, kick: () => undefined });
    const progress: number[] = [];
    const result = await processors['post-call']!({
      id: recording.id,
      name: 'transcribe',
      data: { recordingId: recording.id, callId: recording.callId },
      attemptsMade: 0,
      updateProgress: async (p) => void progress.push(p),
      updateData: async () => undefined,
    });
    expect(result).toEqual({ skipped: true });
    expect(progress).toEqual([100]);
    expect(peer.jobs.size).toBe(jobsBefore);
  });

  it('asks for the language the call was held in (a Spanish conversation is transcribed as Spanish)', async () => {
    const recording = await recordCall(vault, dir);
    const calls = new DrizzleCallStore({ db: database.db });
    const startedAt = new Date();
    await calls.createCall({
      id: recording.callId,
      fsUuid: randomUUID(),
      direction: 'inbound',
      fromNumber: '+15551230009',
      toNumber: '+15559870100',
      location: null,
      state: 'ended',
      startedAt,
      answeredAt: startedAt,
      endedAt: startedAt,
      hangupCause: 'NORMAL_CLEARING',
      voiceQuality: null,
    });
    await calls.appendEvent({ callId: recording.callId, seq: 1, type: 'conversation_started', fromState: 'answered', toState: 'answered', at: startedAt, monotonicMs: 0, data: { language: 'es-US' } });
    const english = await recordCall(vault, dir);
    await start();
    await eventually(() => store.getTranscript(recording.id), 'the Spanish call transcript');
    await eventually(() => store.getTranscript(english.id), 'the other transcript');
    const sent = (id: string | null | undefined) => [...peer.jobs.values()].find((j) => j.id === id)!.config.transcription_config as Record<string, unknown>;
    expect(sent((await store.getTranscript(recording.id))?.providerJobId)).toMatchObject({ language: 'es' });
    expect((await store.getTranscript(recording.id))?.language).toBe('es');
    // A call without a conversation on record: the configured default.
    expect(sent((await store.getTranscript(english.id))?.providerJobId)).toMatchObject({ language: 'en' });
  });
});

/** Forwards TCP connections on `port` to Redis (a Redis that can appear at an address). */
async function tcpProxy(port: number, target: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [socket, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        socket.destroy();
        upstream.destroy();
      });
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
