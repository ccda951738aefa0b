// The TextToSpeech port: a content-addressed WAV cache in front of a synthesizer. Files live flat in one
// directory FreeSWITCH can read (`<sha256>.wav`, mode 0644) and are played by path. A file appears only
// complete (written to a temp name, then renamed), so FreeSWITCH never plays half a prompt, and a crash
// leaves at most a stray `.tmp`. Concurrent requests for the same key share one lookup-or-synthesis.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TtsSynthesisError } from '../../core/errors.ts';
import type { SpeechRequest, SynthesizedSpeech, TextToSpeech } from '../../core/voice-ports.ts';
import { cacheKey } from './cache-key.ts';
import type { SpeechSynthesizer } from './google-tts.ts';
import { pruneCache, type PruneResult } from './housekeeping.ts';
import { parseWav, toWav, type TtsEncoding } from './wav.ts';

/** Structural subset of the app's pino logger. */
export interface TtsLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface CachedTtsOptions {
  synthesizer: SpeechSynthesizer;
  /** Created when missing. Must be readable by FreeSWITCH (shared volume in docker-compose). */
  cacheDir: string;
  /** LINEAR16 at the request's rate (default), or MULAW, always 8 kHz (PCMU calls: no transcoding). */
  encoding?: TtsEncoding;
  /** A recorded generic prompt (WAV) played when synthesis fails; without it the failure is thrown. */
  fallbackPrompt?: string;
  logger?: TtsLogger;
  /** Default for prewarm(); default 4. */
  prewarmConcurrency?: number;
}

export interface TtsStats {
  /** Calls to synthesize() (including prewarm). */
  requests: number;
  cacheHits: number;
  /** Requests that joined a lookup or synthesis already in flight for the same key. */
  coalesced: number;
  syntheses: number;
  failures: number;
  fallbacks: number;
}

export interface PrewarmResult {
  total: number;
  synthesized: number;
  cached: number;
  failed: number;
}

// Enough to reach the data chunk of any WAV we write or Google returns (44-byte header, maybe a LIST chunk).
const HEAD_BYTES = 4096;
// Durations of files seen; bounded so a long-running process with endless distinct replies stays flat.
const MAX_REMEMBERED = 10_000;

export class CachedTts implements TextToSpeech {
  readonly #synthesizer: SpeechSynthesizer;
  readonly #dir: string;
  readonly #encoding: TtsEncoding;
  readonly #fallbackPrompt: string | undefined;
  readonly #logger: TtsLogger | undefined;
  readonly #prewarmConcurrency: number;
  readonly #inFlight = new Map<string, Promise<SynthesizedSpeech>>();
  readonly #durations = new Map<string, number>();
  #dirReady: Promise<void> | null = null;
  #fallback: Promise<SynthesizedSpeech> | null = null;
  readonly #stats: TtsStats = { requests: 0, cacheHits: 0, coalesced: 0, syntheses: 0, failures: 0, fallbacks: 0 };

  constructor(options: CachedTtsOptions) {
    this.#synthesizer = options.synthesizer;
    this.#dir = resolve(options.cacheDir);
    this.#encoding = options.encoding ?? 'LINEAR16';
    this.#fallbackPrompt = options.fallbackPrompt === undefined ? undefined : resolve(options.fallbackPrompt);
    this.#logger = options.logger;
    this.#prewarmConcurrency = Math.max(1, options.prewarmConcurrency ?? 4);
  }

  get cacheDir(): string {
    return this.#dir;
  }

  stats(): Readonly<TtsStats> {
    return { ...this.#stats };
  }

  /** The cache file a request maps to (whether or not it exists yet). */
  pathFor(request: SpeechRequest): string {
    return join(this.#dir, `${this.#key(request)}.wav`);
  }

  /**
   * The file of a prompt this process has already seen in the cache (pre-warmed or played), answered from
   * memory without touching the disk; undefined otherwise. For paths where every millisecond counts (an
   * emergency's "connecting you", a reply the caller is waiting for): the event loop may be busy, and a
   * disk check would queue behind it.
   */
  knownPath(request: SpeechRequest): string | undefined {
    const key = this.#key(request);
    return this.#durations.has(key) ? join(this.#dir, `${key}.wav`) : undefined;
  }

  synthesize(request: SpeechRequest): Promise<SynthesizedSpeech> {
    this.#stats.requests += 1;
    const key = this.#key(request);
    // Registered before any await, so every concurrent caller for this key finds the same promise.
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) {
      this.#stats.coalesced += 1;
      return pending;
    }
    const work = this.#lookupOrSynthesize(key, request).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, work);
    return work;
  }

  /** Synthesizes what is not cached yet, `concurrency` at a time; never rejects (failures are counted). */
  async prewarm(requests: readonly SpeechRequest[], options: { concurrency?: number } = {}): Promise<PrewarmResult> {
    const result: PrewarmResult = { total: requests.length, synthesized: 0, cached: 0, failed: 0 };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < requests.length) {
        const request = requests[next++] as SpeechRequest;
        try {
          const speech = await this.synthesize(request);
          if (speech.fallback === true) result.failed += 1;
          else if (speech.cached) result.cached += 1;
          else result.synthesized += 1;
        } catch {
          result.failed += 1;
        }
      }
    };
    const width = Math.min(Math.max(1, options.concurrency ?? this.#prewarmConcurrency), Math.max(1, requests.length));
    await Promise.all(Array.from({ length: width }, worker));
    this.#logger?.info({ ...result }, 'TTS cache prewarmed');
    return result;
  }

  /** Removes cache files older than `maxAgeMs`, then the oldest until at most `maxBytes` remain. */
  async housekeep(options: { maxAgeMs?: number; maxBytes?: number }): Promise<PruneResult> {
    const result = await pruneCache({ dir: this.#dir, ...options });
    if (result.removed > 0) {
      this.#durations.clear();
      this.#logger?.info({ ...result }, 'TTS cache pruned');
    }
    return result;
  }

  #key(request: SpeechRequest): string {
    return cacheKey({
      voice: request.voice,
      language: request.language,
      sampleRate: this.#rate(request),
      encoding: this.#encoding,
      ssml: request.ssml === true,
      text: request.text,
    });
  }

  #rate(request: SpeechRequest): number {
    return this.#encoding === 'MULAW' ? 8000 : request.sampleRate;
  }

  async #lookupOrSynthesize(key: string, request: SpeechRequest): Promise<SynthesizedSpeech> {
    const path = join(this.#dir, `${key}.wav`);
    const hit = await this.#readCached(key, path);
    if (hit !== null) {
      this.#stats.cacheHits += 1;
      return hit;
    }
    try {
      return await this.#synthesizeToFile(key, path, request);
    } catch (error) {
      this.#stats.failures += 1;
      // Log the key, never the text: replies can carry patients' names and dates.
      const details = { key, voice: request.voice, sampleRate: this.#rate(request), err: error };
      if (this.#fallbackPrompt === undefined) {
        this.#logger?.warn(details, 'TTS synthesis failed and no fallback prompt is configured');
        throw error;
      }
      this.#logger?.warn(details, 'TTS synthesis failed; playing the generic prompt');
      this.#stats.fallbacks += 1;
      return this.#fallbackSpeech();
    }
  }

  async #readCached(key: string, path: string): Promise<SynthesizedSpeech | null> {
    const known = this.#durations.get(key);
    if (known !== undefined) {
      // The file can still have been removed (housekeeping, an operator); one stat keeps the answer true.
      const exists = await stat(path).then(() => true, () => false);
      if (exists) return { path, durationMs: known, cached: true };
      this.#durations.delete(key);
      return null;
    }
    const info = await readWavInfo(path);
    if (info === null) return null;
    this.#remember(key, info.durationMs);
    return { path, durationMs: info.durationMs, cached: true };
  }

  async #synthesizeToFile(key: string, path: string, request: SpeechRequest): Promise<SynthesizedSpeech> {
    const sampleRate = this.#rate(request);
    this.#stats.syntheses += 1;
    const audio = await this.#synthesizer.synthesize({
      text: request.text,
      ssml: request.ssml === true,
      voice: request.voice,
      language: request.language,
      sampleRate,
      encoding: this.#encoding,
    });
    const wav = toWav(audio, { encoding: this.#encoding, sampleRate });
    const info = parseWav(wav);
    if (info === null || info.dataBytes === 0) throw new TtsSynthesisError('TTS audio is not a playable WAV');
    if (info.sampleRate !== sampleRate) {
      throw new TtsSynthesisError(`TTS audio is ${info.sampleRate} Hz, ${sampleRate} Hz was asked for`);
    }
    await this.#ensureDir();
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, wav, { mode: 0o644 });
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw new TtsSynthesisError('Could not write the TTS cache file', { cause: error });
    }
    this.#remember(key, info.durationMs);
    return { path, durationMs: info.durationMs, cached: false };
  }

  #fallbackSpeech(): Promise<SynthesizedSpeech> {
    const path = this.#fallbackPrompt as string;
    // Read once; a missing or broken prompt is a configuration error worth retrying after it is fixed.
    this.#fallback ??= readWavInfo(path).then((info) => {
      if (info === null) {
        this.#fallback = null;
        throw new TtsSynthesisError(`Fallback prompt ${path} is missing or not a WAV`, { retryable: false });
      }
      return { path, durationMs: info.durationMs, cached: false, fallback: true };
    });
    return this.#fallback;
  }

  #ensureDir(): Promise<void> {
    this.#dirReady ??= mkdir(this.#dir, { recursive: true, mode: 0o755 }).then(
      () => undefined,
      (error: unknown) => {
        this.#dirReady = null;
        throw error;
      },
    );
    return this.#dirReady;
  }

  #remember(key: string, durationMs: number): void {
    if (this.#durations.size >= MAX_REMEMBERED) this.#durations.clear();
    this.#durations.set(key, durationMs);
  }
}

/** The WAV header of a file on disk, or null when it is missing or not a WAV. */
export async function readWavInfo(path: string): Promise<ReturnType<typeof parseWav>> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return null;
  }
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return parseWav(head.subarray(0, bytesRead), size);
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}
