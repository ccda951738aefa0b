// Takes finished call recordings from FreeSWITCH's spool into the vault (encrypt → verify → row + post-call
// job → plaintext deleted). The spool file is the only copy until the vault has stored it, so nothing here
// ever deletes one: a database or storage outage leaves the plaintext where it is, retried with backoff,
// and what still fails is picked up again by the next scan of the spool (at start and every few minutes).
// One finish per spool file at a time: RECORD_STOP, the end of the call and a scan may all name the same file.
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import { RecordingInvalidError } from '../core/errors.ts';
import type { RecordingRow } from '../db/index.ts';

/** What the finisher needs of the vault (RecordingVault). */
export interface SpoolVault {
  finishSpooled(spoolPath: string, meta: { callId: string; recordedAt: Date }): Promise<RecordingRow>;
}

export interface RecordingFinisherOptions {
  vault: SpoolVault;
  /** FreeSWITCH's recording spool (RECORDINGS_DIR): only files directly in it are taken. */
  spoolDir: string;
  logger: Logger;
  /** Prometheus registry for the recording metrics. */
  registry?: Registry;
  /** Waits between attempts of one file (ms); its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
}

export interface ScanOptions {
  /** Calls still up own their spool files: FreeSWITCH may still be writing them. */
  isLive: (callId: string) => boolean;
  /** Skip files written to more recently than this (ms); a scan at start takes every file of a call not up. */
  minIdleMs?: number;
}

export interface ScanResult {
  finished: number;
  failed: number;
  skipped: number;
}

const DEFAULT_RETRY_DELAYS_MS = [2_000, 10_000, 30_000, 60_000, 120_000];
/** Spool files are `<call id>.wav`. */
const SPOOL_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.wav$/i;

export class RecordingFinisher {
  readonly #options: RecordingFinisherOptions;
  readonly #spoolDir: string;
  readonly #delays: readonly number[];
  readonly #inFlight = new Map<string, Promise<RecordingRow | undefined>>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  readonly #metrics: { finished: Counter; failed: Counter<'reason'>; encryptSeconds: Histogram } | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: RecordingFinisherOptions) {
    this.#options = options;
    this.#spoolDir = resolve(options.spoolDir);
    this.#delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const registers = options.registry === undefined ? undefined : [options.registry];
    this.#metrics = registers && {
      finished: new Counter({ name: 'callbridge_recordings_finished_total', help: 'Recordings encrypted, verified and stored', registers }),
      failed: new Counter({
        name: 'callbridge_recordings_failed_total',
        help: 'Recordings that could not be stored after every attempt (the plaintext stays in the spool for the next scan)',
        labelNames: ['reason'] as const,
        registers,
      }),
      encryptSeconds: new Histogram({
        name: 'callbridge_recording_encrypt_seconds',
        help: 'Spool file to stored recording: encrypt, verify, row and job, plaintext deleted',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    };
  }

  /** The call id a spool path belongs to, or undefined when it is not one of our spool files. */
  callIdOf(path: string): string | undefined {
    const full = resolve(path);
    const rel = relative(this.#spoolDir, full);
    if (rel === '' || rel.startsWith(`..`) || rel.includes(sep)) return undefined;
    return SPOOL_FILE.exec(basename(full))?.[1];
  }

  /**
   * Stores the spool file at `path` (in the spool directory, named after its call), retrying with backoff.
   * Resolves with the row, or undefined when it gave up (the file stays for the next scan). Never rejects.
   */
  finish(path: string, recordedAt: Date): Promise<RecordingRow | undefined> {
    const full = resolve(path);
    const callId = this.callIdOf(full);
    if (callId === undefined) {
      this.#options.logger.warn({ file: basename(full) }, 'recording outside the spool or not named after a call: left alone');
      return Promise.resolve(undefined);
    }
    let running = this.#inFlight.get(full);
    if (running === undefined) {
      running = this.#finishWithRetries(full, callId, recordedAt).finally(() => this.#inFlight.delete(full));
      this.#inFlight.set(full, running);
    }
    return running;
  }

  /**
   * At the end of a call: finishes its spool file if there is one and nobody is finishing it already (its
   * RECORD_STOP usually came first). Undefined when there was nothing to start. Recorded at: `recordedAt`,
   * else the file's last write.
   */
  async finishIfPresent(callId: string, recordedAt?: Date): Promise<RecordingRow | undefined> {
    const path = join(this.#spoolDir, `${callId}.wav`);
    if (this.#inFlight.has(path)) return undefined;
    const info = await stat(path).catch(() => undefined);
    if (info === undefined || this.#inFlight.has(path)) return undefined;
    return this.finish(path, recordedAt ?? info.mtime);
  }

  /**
   * Finishes every spool file whose call is not up any more (crash recovery; files whose finishing failed).
   * Their recording time is the file's last write.
   */
  async scan(options: ScanOptions): Promise<ScanResult> {
    const result: ScanResult = { finished: 0, failed: 0, skipped: 0 };
    const names = await readdir(this.#spoolDir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    for (const name of names) {
      if (this.#closed) break;
      const callId = SPOOL_FILE.exec(name)?.[1];
      if (callId === undefined) continue;
      const path = join(this.#spoolDir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined || !info.isFile()) continue;
      const idle = Date.now() - info.mtimeMs >= (options.minIdleMs ?? 0);
      if (options.isLive(callId) || !idle) {
        result.skipped++;
        continue;
      }
      const row = await this.finish(path, info.mtime);
      if (row === undefined) result.failed++;
      else result.finished++;
    }
    return result;
  }

  /** Scans every `intervalMs` until close(). */
  startPeriodicScan(intervalMs: number, options: ScanOptions): void {
    if (this.#periodic !== undefined || this.#closed) return;
    let scanning = false;
    this.#periodic = setInterval(() => {
      if (scanning) return;
      scanning = true;
      this.scan(options)
        .then((r) => {
          if (r.finished + r.failed > 0) this.#options.logger.info(r, 'recording spool re-scanned');
        })
        .catch((error: unknown) => this.#options.logger.error({ err: error }, 'recording spool scan failed'))
        .finally(() => (scanning = false));
    }, intervalMs);
    this.#periodic.unref();
  }

  /** Stops scanning and retrying; waits for finishes already running (their files stay if unfinished). */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#periodic !== undefined) clearInterval(this.#periodic);
    for (const t of this.#timers) {
      clearTimeout(t.timer);
      t.wake();
    }
    await Promise.all([...this.#inFlight.values()]);
  }

  async #finishWithRetries(path: string, callId: string, recordedAt: Date): Promise<RecordingRow | undefined> {
    const logger = this.#options.logger;
    for (let attempt = 0; ; attempt++) {
      const startedAt = performance.now();
      try {
        const row = await this.#options.vault.finishSpooled(path, { callId, recordedAt });
        const ms = performance.now() - startedAt;
        this.#metrics?.finished.inc();
        this.#metrics?.encryptSeconds.observe(ms / 1000);
        logger.info({ callId, recordingId: row.id, encryptMs: Math.round(ms) }, 'recording stored');
        return row;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          // Gone before it could be read (finished by someone else, or removed by hand): nothing to store.
          logger.warn({ callId }, 'spooled recording vanished before it was stored');
          return undefined;
        }
        // A file that is not a recording will not become one: leave it for a person to look at.
        const permanent = error instanceof RecordingInvalidError;
        const delay = this.#delays[attempt];
        if (permanent || delay === undefined || this.#closed) {
          this.#metrics?.failed.inc({ reason: permanent ? 'invalid' : 'unavailable' });
          logger.error({ err: error, callId, attempts: attempt + 1 }, 'recording not stored; the plaintext stays in the spool for the next scan');
          return undefined;
        }
        logger.warn({ err: error, callId, attempt: attempt + 1, retryInMs: delay }, 'recording not stored yet; retrying');
        await this.#sleep(delay);
        if (this.#closed) return undefined;
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((wake) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          wake();
        }, ms),
        wake,
      };
      this.#timers.add(entry);
    });
  }
}
