// The TTS adapter end to end: the REAL @google-cloud/text-to-speech client (REST transport) against a local
// peer speaking Google's REST API, writing WAV files into a temporary cache directory.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, TtsSynthesisError } from '../../src/core/errors.ts';
import type { SpeechRequest } from '../../src/core/voice-ports.ts';
import { CachedTts, GoogleTts, parseWav, wavHeader, type TtsLogger } from '../../src/voice/tts/index.ts';
import { GoogleTtsPeer, toneDurationMs } from '../../src/peers/google-tts-peer.ts';

const API_KEY = 'test-api-key';

interface LogLine { level: 'info' | 'warn'; details: object; message: string }

let peer: GoogleTtsPeer;
let dir: string;
let google: GoogleTts;
let logs: LogLine[];
const logger: TtsLogger = {
  info: (details, message) => logs.push({ level: 'info', details, message }),
  warn: (details, message) => logs.push({ level: 'warn', details, message }),
};

const hello: SpeechRequest = { text: 'Thank you for calling. How can I help?', voice: 'en-US-Neural2-F', language: 'en-US', sampleRate: 16000 };

beforeEach(async () => {
  peer = await GoogleTtsPeer.start({ apiKey: API_KEY });
  dir = await mkdtemp(join(tmpdir(), 'callbridge-tts-'));
  google = new GoogleTts({ baseUrl: peer.url, apiKey: API_KEY, timeoutMs: 5000 });
  logs = [];
});

afterEach(async () => {
  await google.close();
  await peer.close();
  await rm(dir, { recursive: true, force: true });
});

async function fallbackPrompt(): Promise<string> {
  // One second of 8 kHz silence, as an operator would record the generic "one moment please".
  const path = join(dir, 'generic-prompt.wav');
  await writeFile(path, Buffer.concat([wavHeader({ encoding: 'LINEAR16', sampleRate: 8000, dataBytes: 16000 }), Buffer.alloc(16000)]));
  return path;
}

describe('GoogleTts (real client, REST transport)', () => {
  it('sends the text, voice, language, encoding and rate Google expects and returns WAV bytes', async () => {
    const audio = await google.synthesize({ text: 'Hello', ssml: false, voice: 'en-US-Neural2-F', language: 'en-US', sampleRate: 8000, encoding: 'LINEAR16' });
    expect(peer.requests).toHaveLength(1);
    const sent = peer.requests[0];
    expect(sent?.path).toBe('/v1/text:synthesize');
    expect(sent?.apiKey).toBe(API_KEY);
    expect(sent?.input).toEqual({ text: 'Hello' });
    expect(sent?.voice).toEqual({ name: 'en-US-Neural2-F', languageCode: 'en-US' });
    expect(sent?.audioConfig).toEqual({ audioEncoding: 1, sampleRateHertz: 8000 });
    expect(parseWav(audio)?.sampleRate).toBe(8000);
  });

  it('sends SSML as ssml, and MULAW as encoding 5', async () => {
    await google.synthesize({ text: '<speak>Hi</speak>', ssml: true, voice: 'v', language: 'es-US', sampleRate: 8000, encoding: 'MULAW' });
    expect(peer.requests[0]?.input).toEqual({ ssml: '<speak>Hi</speak>' });
    expect(peer.requests[0]?.audioConfig).toEqual({ audioEncoding: 5, sampleRateHertz: 8000 });
  });

  it('turns a service error into a TtsSynthesisError', async () => {
    peer.failNext = 1;
    const failure = google.synthesize({ text: 'x', ssml: false, voice: 'v', language: 'en-US', sampleRate: 8000, encoding: 'LINEAR16' });
    await expect(failure).rejects.toBeInstanceOf(TtsSynthesisError);
    await expect(failure).rejects.toMatchObject({ code: ErrorCode.TtsSynthesisFailed });
  });

  it('is refused without the right API key', async () => {
    const stranger = new GoogleTts({ baseUrl: peer.url, apiKey: 'wrong' });
    try {
      await expect(stranger.synthesize({ text: 'x', ssml: false, voice: 'v', language: 'en-US', sampleRate: 8000, encoding: 'LINEAR16' }))
        .rejects.toBeInstanceOf(TtsSynthesisError);
    } finally {
      await stranger.close();
    }
  });

  it('gives up after its timeout when the service does not answer', async () => {
    const impatient = new GoogleTts({ baseUrl: peer.url, apiKey: API_KEY, timeoutMs: 200 });
    peer.hold();
    try {
      await expect(impatient.synthesize({ text: 'x', ssml: false, voice: 'v', language: 'en-US', sampleRate: 8000, encoding: 'LINEAR16' }))
        .rejects.toBeInstanceOf(TtsSynthesisError);
    } finally {
      await impatient.close();
    }
  });
});

describe('CachedTts', () => {
  it('writes one playable WAV at the call rate with the duration Google produced', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: join(dir, 'cache'), logger });
    const speech = await tts.synthesize(hello);
    expect(speech.cached).toBe(false);
    expect(speech.path.startsWith(join(dir, 'cache'))).toBe(true);
    const bytes = await readFile(speech.path);
    const info = parseWav(bytes);
    expect(info).toMatchObject({ format: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, dataOffset: 44 });
    // Google's header was kept, not doubled: exactly one RIFF and the data fills the rest of the file.
    expect(bytes.indexOf('RIFF', 4)).toBe(-1);
    expect(info?.dataBytes).toBe(bytes.length - 44);
    expect(speech.durationMs).toBe(toneDurationMs(hello.text));
    expect((await readdir(join(dir, 'cache'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('serves the second request from the cache without asking Google, also after a restart', async () => {
    const first = await new CachedTts({ synthesizer: google, cacheDir: dir }).synthesize(hello);
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir });
    const again = await tts.synthesize(hello);
    const third = await tts.synthesize(hello);
    expect(peer.requests).toHaveLength(1);
    expect(again).toEqual({ path: first.path, durationMs: first.durationMs, cached: true });
    expect(third.cached).toBe(true);
    expect(tts.stats()).toMatchObject({ requests: 2, cacheHits: 2, syntheses: 0 });
  });

  it('keys on voice, rate and SSML: a different one is a different file', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir });
    const base = await tts.synthesize(hello);
    const narrow = await tts.synthesize({ ...hello, sampleRate: 8000 });
    const voice = await tts.synthesize({ ...hello, voice: 'en-US-Neural2-D' });
    const ssml = await tts.synthesize({ ...hello, ssml: true, text: `<speak>${hello.text}</speak>` });
    expect(new Set([base.path, narrow.path, voice.path, ssml.path]).size).toBe(4);
    expect(parseWav(await readFile(narrow.path))?.sampleRate).toBe(8000);
    expect(peer.requests).toHaveLength(4);
  });

  it('coalesces 20 concurrent identical requests into one synthesis', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir });
    peer.hold();
    const all = Array.from({ length: 20 }, () => tts.synthesize(hello));
    await peer.waitForRequests(1);
    peer.release();
    const results = await Promise.all(all);
    expect(peer.requests).toHaveLength(1);
    expect(new Set(results.map((r) => r.path)).size).toBe(1);
    expect(tts.stats()).toMatchObject({ requests: 20, coalesced: 19, syntheses: 1 });
  });

  it('plays the generic prompt when Google fails, logs and counts it, and caches nothing', async () => {
    const generic = await fallbackPrompt();
    const tts = new CachedTts({ synthesizer: google, cacheDir: join(dir, 'cache'), fallbackPrompt: generic, logger });
    peer.failNext = 1;
    const speech = await tts.synthesize(hello);
    expect(speech).toEqual({ path: generic, durationMs: 1000, cached: false, fallback: true });
    expect(tts.stats()).toMatchObject({ failures: 1, fallbacks: 1 });
    const warning = logs.find((l) => l.level === 'warn');
    expect(warning?.message).toMatch(/generic prompt/);
    expect(JSON.stringify(warning?.details)).not.toContain('Thank you');

    // The next request tries Google again and gets the real words.
    const retry = await tts.synthesize(hello);
    expect(retry.fallback).toBeUndefined();
    expect(retry.path).not.toBe(generic);
    expect(peer.requests).toHaveLength(2);
  });

  it('throws the synthesis error when no generic prompt is configured', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir, logger });
    peer.failNext = 1;
    await expect(tts.synthesize(hello)).rejects.toBeInstanceOf(TtsSynthesisError);
  });

  it('wraps raw samples in a WAV header when the audio has none', async () => {
    peer.rawAudio = true;
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir });
    const speech = await tts.synthesize({ ...hello, sampleRate: 8000 });
    const info = parseWav(await readFile(speech.path));
    expect(info).toMatchObject({ format: 1, sampleRate: 8000, bitsPerSample: 16 });
    expect(speech.durationMs).toBe(toneDurationMs(hello.text));
  });

  it('writes G.711 mu-law at 8 kHz when configured, whatever the call rate', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir, encoding: 'MULAW' });
    const speech = await tts.synthesize(hello);
    expect(peer.requests[0]?.audioConfig).toEqual({ audioEncoding: 5, sampleRateHertz: 8000 });
    expect(parseWav(await readFile(speech.path))).toMatchObject({ format: 7, sampleRate: 8000, bitsPerSample: 8 });
    expect(speech.durationMs).toBe(toneDurationMs(hello.text));
  });

  it('prewarms prompts with bounded concurrency and reports what it did', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir, logger });
    await tts.synthesize({ ...hello, text: 'Prompt 0' });
    const prompts = Array.from({ length: 8 }, (_, i) => ({ ...hello, text: `Prompt ${i}` }));
    peer.failNext = 0;
    peer.hold();
    const warming = tts.prewarm(prompts, { concurrency: 3 });
    // Only three syntheses are outstanding at once: the fourth waits for one to finish.
    await peer.waitForRequests(1 + 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.requests).toHaveLength(4);
    peer.release();
    // Later requests are not held any more.
    const result = await warming;
    expect(result).toEqual({ total: 8, synthesized: 7, cached: 1, failed: 0 });
    expect(peer.requests).toHaveLength(8);
    for (const prompt of prompts) expect((await tts.synthesize(prompt)).cached).toBe(true);
  });

  it('counts prewarm failures without rejecting', async () => {
    const tts = new CachedTts({ synthesizer: google, cacheDir: dir, fallbackPrompt: await fallbackPrompt() });
    peer.failNext = 2;
    const result = await tts.prewarm([hello, { ...hello, text: 'Goodbye' }, { ...hello, text: 'One moment' }], { concurrency: 1 });
    expect(result).toEqual({ total: 3, synthesized: 1, cached: 0, failed: 2 });
  });
});

describe('GoogleTtsPeer pace', () => {
  it('returns speech whose length follows the text at msPerChar, uncapped when asked', async () => {
    const paced = await GoogleTtsPeer.start({ msPerChar: 65, maxDurationMs: Number.POSITIVE_INFINITY });
    try {
      const res = await fetch(`${paced.url}/v1/text:synthesize`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { text: 'x'.repeat(100) }, voice: { languageCode: 'en-US' }, audioConfig: { audioEncoding: 'LINEAR16', sampleRateHertz: 8000 } }),
      });
      const wav = Buffer.from(((await res.json()) as { audioContent: string }).audioContent, 'base64');
      // data chunk size / byte rate: 100 characters at 65 ms.
      expect((wav.readUInt32LE(40) / wav.readUInt32LE(28)) * 1000).toBe(6500);
    } finally {
      await paced.close();
    }
  });
});
