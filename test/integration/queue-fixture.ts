// Test support for the post-call queue tests: stereo call recordings whose channels carry sentences in our
// spoken-audio codec (so the Speechmatics batch stand-in can transcribe them), finished through the real
// vault; the environment a worker needs; a BullMQ prefix per test file, removed afterwards.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Config } from '../../src/app/config.ts';
import type { RecordingVault } from '../../src/app/recording-vault.ts';
import type { RecordingRow } from '../../src/db/index.ts';
import { encodeUtterance, silenceFrame } from '../../src/simulator/spoken-audio.ts';
import { wavHeader } from '../../src/voice/tts/wav.ts';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const BATCH_KEY = 'batch-test-key';

export interface Sentence {
  atMs: number;
  text: string;
}

/** An 8 kHz 16-bit stereo WAV: the caller's sentences on the left channel, the agent's on the right. */
export function spokenCallWav(options: { caller: Sentence[]; agent: Sentence[]; totalMs: number }): Buffer {
  const rate = 8000;
  const frames = Math.ceil(options.totalMs / 20);
  const channel = (sentences: Sentence[], seed: number): Buffer[] => {
    const out = Array.from({ length: frames }, (_, i) => silenceFrame(rate, seed + i));
    for (const s of sentences) encodeUtterance(s.text, rate).forEach((frame, i) => {
      const at = Math.floor(s.atMs / 20) + i;
      if (at < frames) out[at] = frame;
    });
    return out;
  };
  const left = channel(options.caller, 1);
  const right = channel(options.agent, 100_000);
  const data = Buffer.alloc(frames * 160 * 2 * 2);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < 160; i++) {
      data.writeInt16LE(left[f]!.readInt16LE(i * 2), (f * 160 + i) * 4);
      data.writeInt16LE(right[f]!.readInt16LE(i * 2), (f * 160 + i) * 4 + 2);
    }
  }
  const header = wavHeader({ encoding: 'LINEAR16', channels: 2, sampleRate: rate, dataBytes: data.length });
  return Buffer.concat([header, data]);
}

export const CALLER_SAYS = 'I need a refill of my isotretinoin please.';
export const AGENT_SAYS = 'Sure, I can help with that.';

/** A short call: the caller speaks first, then the agent. */
export function sampleCallWav(): Buffer {
  return spokenCallWav({ caller: [{ atMs: 200, text: CALLER_SAYS }], agent: [{ atMs: 3400, text: AGENT_SAYS }], totalMs: 6000 });
}

/** Spools a WAV as FreeSWITCH would and finishes it through the vault (row + post-call outbox row). */
export async function recordCall(vault: RecordingVault, dir: string, wav: Buffer = sampleCallWav()): Promise<RecordingRow> {
  const spoolDir = join(dir, 'spool');
  await mkdir(spoolDir, { recursive: true });
  const callId = randomUUID();
  const spool = join(spoolDir, `${callId}.wav`);
  await writeFile(spool, wav);
  return vault.finishSpooled(spool, { callId, recordedAt: new Date() });
}

export const newKey = (): string => randomBytes(32).toString('base64');

/** The environment of a worker (or controller-side relay) for these tests. */
export function queueEnv(options: { databaseUrl?: string; storageDir: string; key: string; batchUrl: string; webhookUrl?: string; redis?: boolean; attempts?: number; backoffMs?: number }): Record<string, string> {
  return {
    ...(options.databaseUrl === undefined ? {} : { DATABASE_URL: options.databaseUrl }),
    ...(options.redis === false ? {} : { REDIS_URL }),
    CALL_RECORDING_ENCRYPTION_KEY: options.key,
    RECORDING_STORAGE_DIR: options.storageDir,
    SPEECHMATICS_API_KEY: BATCH_KEY,
    SPEECHMATICS_BATCH_URL: options.batchUrl,
    ...(options.webhookUrl === undefined ? {} : { WEBHOOK_URLS: options.webhookUrl, WEBHOOK_SECRET: 'a-webhook-secret-of-some-length' }),
    JOB_ATTEMPTS: String(options.attempts ?? 3),
    JOB_BACKOFF_MS: String(options.backoffMs ?? 100),
    LOG_LEVEL: 'silent',
    LOG_FORMAT: 'json',
  };
}

export function testPrefix(name: string): string {
  return `cbtest-${name}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Removes every key under a BullMQ prefix. */
export async function dropPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** Polls `check` until it returns a value other than undefined (no fixed sleeps in the tests). */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export type { Config };
