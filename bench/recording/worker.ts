// The recording benchmark's own process (so the memory figures are the vault's alone): for each length, a
// stereo 8 kHz recording is written to a spool directory by streaming, then goes the production way through
// RecordingVault.finishSpooled (encrypt → store → decrypt to verify → row + post-call job on PGlite → delete
// the plaintext), then RecordingVault.openAudio is streamed into a SHA-256 sink (compared with the
// original), and once more through the transcription's TalkStatsMeter as well. Memory is sampled every
// 50 ms during each step against a baseline taken after a GC just before it. Each step runs twice: timed,
// with V8 collecting garbage when it likes (the peak then includes garbage not yet collected), and again,
// untimed, with a full GC before every sample, which leaves only what the step really holds.
// Answers one RecordingBenchResult over IPC.
import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { masterKeysFromConfig } from '../../src/app/recording-keys.ts';
import { RecordingVault } from '../../src/app/recording-vault.ts';
import { DrizzleRecordingStore, migrate, openDatabase, outbox } from '../../src/db/index.ts';
import { TalkStatsMeter } from '../../src/queue/talk-stats.ts';
import { DEFAULT_CHUNK_SIZE, LocalRecordingStorage } from '../../src/recording/index.ts';
import { round } from '../stats.ts';
import { expectedTalk, writeRecording } from './audio.ts';

export interface RecordingBenchRequest {
  /** Recording lengths in seconds (multiples of 10), measured in this order. */
  lengthsSeconds: number[];
  /** An unmeasured first recording, so JIT and PGlite's first writes are not charged to the first length. */
  warmupSeconds: number;
  /** How often memory is sampled during a step. */
  sampleMs: number;
}

/** process.memoryUsage() over one step, in MiB: after a GC before it, the highest sample, and the growth. */
export interface MemoryFigures {
  samples: number;
  baselineRssMiB: number;
  peakRssMiB: number;
  rssGrowthMiB: number;
  /** heapUsed + arrayBuffers (Buffers live in arrayBuffers, outside the JS heap). */
  baselineHeapAndBuffersMiB: number;
  peakHeapAndBuffersMiB: number;
  heapAndBuffersGrowthMiB: number;
}

export interface StepFigures {
  ms: number;
  /** Plaintext MB (10⁶ bytes) per second. */
  mbPerSecond: number;
  /** During the timed run. */
  memory: MemoryFigures;
  /** During the second run, a GC before each sample: live memory only. */
  liveMemory: MemoryFigures;
}

export interface LengthResult {
  seconds: number;
  plaintextBytes: number;
  encryptedBytes: number;
  /** Writing the plaintext spool file (not the vault: the call's recorder does this). */
  spoolWriteMs: number;
  /** finishSpooled: encrypt + store + verify (a full decryption) + row and job + delete the plaintext. */
  finish: StepFigures;
  /** openAudio streamed into a SHA-256 sink. */
  decrypt: StepFigures;
  /** openAudio streamed into SHA-256 and TalkStatsMeter (what transcription reads). */
  decryptAndMeter: StepFigures;
  checks: {
    sha256Matches: boolean;
    rowMatches: boolean;
    outboxJobs: number;
    plaintextDeleted: boolean;
    talkStatsMatch: boolean;
  };
  talk: { talkMs: number; silenceMs: number; overlapMs: number; callerMs: number; agentMs: number };
}

export interface RecordingBenchResult {
  lengths: LengthResult[];
  sampleMs: number;
  /** Plaintext bytes per encrypted chunk. */
  chunkBytes: number;
}

const MiB = 1024 * 1024;
const BENCH_TMP = fileURLToPath(new URL('../tmp/', import.meta.url));

// Twice: V8 sweeps dead ArrayBuffers concurrently after a GC, so right after one the count still includes
// Buffers already dead (up to ~30 MiB here); the second GC waits for that sweep to finish.
const gc = (): void => {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
};

/** Samples memory every `everyMs` until stopped (after a GC each time when `live`); the baseline is taken after a GC. */
function watchMemory(everyMs: number, live: boolean): { stop(): MemoryFigures } {
  gc();
  const base = process.memoryUsage();
  const heapAndBuffers = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.arrayBuffers;
  let peakRss = base.rss;
  let peakHeap = heapAndBuffers(base);
  let samples = 0;
  const sample = (): void => {
    if (live) gc();
    const m = process.memoryUsage();
    samples += 1;
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, heapAndBuffers(m));
  };
  const timer = setInterval(sample, everyMs);
  const mib = (bytes: number): number => round(bytes / MiB, 1);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return {
        samples,
        baselineRssMiB: mib(base.rss),
        peakRssMiB: mib(peakRss),
        rssGrowthMiB: mib(peakRss - base.rss),
        baselineHeapAndBuffersMiB: mib(heapAndBuffers(base)),
        peakHeapAndBuffersMiB: mib(peakHeap),
        heapAndBuffersGrowthMiB: mib(peakHeap - heapAndBuffers(base)),
      };
    },
  };
}

/** Runs `step` timed, then `again` (the same work on fresh input) with live-memory sampling. */
async function measured<T>(bytes: number, sampleMs: number, step: () => Promise<T>, again: () => Promise<unknown>): Promise<{ value: T; figures: StepFigures }> {
  const memory = watchMemory(sampleMs, false);
  const started = performance.now();
  const value = await step();
  const ms = performance.now() - started;
  const timed = memory.stop();
  const live = watchMemory(sampleMs, true);
  await again();
  return { value, figures: { ms: round(ms, 1), mbPerSecond: round(bytes / 1e6 / (ms / 1000), 1), memory: timed, liveMemory: live.stop() } };
}

/** A sink that hashes the stream and, optionally, feeds the talk meter. */
function digestSink(meter?: TalkStatsMeter): { sink: Writable; sha256(): string } {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      meter?.push(chunk);
      callback();
    },
  });
  return { sink, sha256: () => hash.digest('hex') };
}

async function run(request: RecordingBenchRequest): Promise<RecordingBenchResult> {
  await mkdir(BENCH_TMP, { recursive: true });
  const dir = await mkdtemp(join(BENCH_TMP, 'recording-'));
  const spool = join(dir, 'spool');
  await mkdir(spool);
  const database = await openDatabase({ pgliteDataDir: 'memory://' });
  try {
    await migrate(database);
    const store = new DrizzleRecordingStore(database.db);
    const vault = new RecordingVault({
      storage: new LocalRecordingStorage(join(dir, 'store')),
      store,
      // A fresh key as CALL_RECORDING_ENCRYPTION_KEY would give it (openssl rand -base64 32).
      keys: masterKeysFromConfig({ recordingKey: randomBytes(32).toString('base64'), previousRecordingKeys: [] }),
      retentionYears: 7,
      logger: pino({ level: 'silent' }),
    });

    const measure = async (seconds: number): Promise<LengthResult> => {
      // Two spool files of the same audio: one for the timed run, one for the live-memory run.
      const spooled = async (): Promise<{ callId: string; path: string; bytes: number; sha256: string; ms: number }> => {
        const callId = randomUUID();
        const path = join(spool, `${callId}.wav`);
        const started = performance.now();
        const written = await writeRecording(path, seconds);
        return { callId, path, ...written, ms: performance.now() - started };
      };
      const original = await spooled();
      const second = await spooled();
      const finishOf = (file: { callId: string; path: string }) => () => vault.finishSpooled(file.path, { callId: file.callId, recordedAt: new Date() });

      const finish = await measured(original.bytes, request.sampleMs, finishOf(original), finishOf(second));
      const row = finish.value;
      const jobs = await database.db.select({ id: outbox.id }).from(outbox).where(eq(outbox.jobId, row.id));
      const plaintextDeleted = await stat(original.path).then(() => false, () => true);

      const readInto = (sink: Writable) => async (): Promise<void> => pipeline((await vault.openAudio(row.id)).stream, sink);
      const plain = digestSink();
      const decrypt = await measured(original.bytes, request.sampleMs, readInto(plain.sink), readInto(digestSink().sink));

      const meter = new TalkStatsMeter({ labels: ['caller', 'agent'] });
      const metered = digestSink(meter);
      const decryptAndMeter = await measured(original.bytes, request.sampleMs, readInto(metered.sink), readInto(digestSink(new TalkStatsMeter({ labels: ['caller', 'agent'] })).sink));
      const stats = meter.result();
      const expected = expectedTalk(seconds);
      const talk = { talkMs: stats.talkMs, silenceMs: stats.silenceMs, overlapMs: stats.overlapMs, callerMs: stats.channels[0]?.talkMs ?? 0, agentMs: stats.channels[1]?.talkMs ?? 0 };
      const sha256 = plain.sha256();

      // Free the disk before the next (longer) recording.
      const secondRow = await store.findBySpoolFile(`${second.callId}.wav`);
      for (const id of [row.id, secondRow?.id]) if (id !== undefined) await vault.deleteRecording(id);
      return {
        seconds,
        plaintextBytes: original.bytes,
        encryptedBytes: row.encryptedBytes,
        spoolWriteMs: round(original.ms, 1),
        finish: finish.figures,
        decrypt: decrypt.figures,
        decryptAndMeter: decryptAndMeter.figures,
        checks: {
          sha256Matches: sha256 === original.sha256 && metered.sha256() === original.sha256,
          rowMatches: row.plaintextSha256 === original.sha256 && row.plaintextBytes === original.bytes && row.durationMs === seconds * 1000,
          outboxJobs: jobs.length,
          plaintextDeleted,
          talkStatsMatch:
            stats.durationMs === expected.durationMs &&
            talk.talkMs === expected.talkMs &&
            talk.silenceMs === expected.silenceMs &&
            talk.overlapMs === expected.overlapMs &&
            talk.callerMs === expected.callerMs &&
            talk.agentMs === expected.agentMs &&
            stats.longestSilenceMs === expected.longestSilenceMs,
        },
        talk,
      };
    };

    if (request.warmupSeconds > 0) await measure(request.warmupSeconds);
    const lengths: LengthResult[] = [];
    for (const seconds of request.lengthsSeconds) lengths.push(await measure(seconds));
    return { lengths, sampleMs: request.sampleMs, chunkBytes: DEFAULT_CHUNK_SIZE };
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

process.once('message', (request: RecordingBenchRequest) => {
  run(request).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error).stack ?? error) }, () => process.disconnect()),
  );
});
