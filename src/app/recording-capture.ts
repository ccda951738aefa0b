// Call recording in the controller: whether calls may be recorded at all (only with a master key to encrypt
// them), handing each closed spool file to the finisher (RECORD_STOP, else the end of the call), crash
// recovery once the live calls are known (spool files, half-written and orphaned encrypted objects), and the
// periodic re-scan of the spool.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RecordingRow } from '../db/index.ts';
import type { Config } from './config.ts';
import { RecordingFinisher } from './recording-finisher.ts';
import type { RecordingVault } from './recording-vault.ts';

/** A call whose recording is stored: its journal gets the recording's id and size (never its content). */
export interface RecordedCall {
  readonly callId: string;
  note?(type: string, data: Record<string, unknown>): void;
}

export interface RecordingCaptureOptions {
  logger: Logger;
  registry?: Registry;
  /** Waits between attempts to store one file (ms). */
  retryDelaysMs?: readonly number[];
  /** How often the spool is scanned for files whose storing failed (ms); default 5 minutes. */
  rescanIntervalMs?: number;
  /** A recording was stored (its post-call job waits in the outbox): the relay can move it at once. */
  onStored?: () => void;
}

const DEFAULT_RESCAN_MS = 5 * 60_000;
/** A spool file untouched this long is not being written by FreeSWITCH any more. */
const SPOOL_IDLE_AT_START_MS = 10_000;
const SPOOL_IDLE_MS = 60_000;
/** Half-written encrypted files older than this are crash leftovers (a live write touches its file constantly). */
const PARTIAL_AGE_MS = 60_000;
/** A complete object with no row this old was orphaned by a crash (storing one takes seconds, not an hour). */
const ORPHAN_AGE_MS = 60 * 60_000;

export class RecordingCapture {
  readonly #finisher: RecordingFinisher;
  readonly #logger: Logger;
  readonly #rescanIntervalMs: number;
  #waiting = false;
  #recovering: Promise<void> | undefined;
  #closed = false;

  readonly #onStored: () => void;
  readonly #vault: RecordingVault;

  private constructor(finisher: RecordingFinisher, vault: RecordingVault, logger: Logger, rescanIntervalMs: number, onStored: () => void) {
    this.#finisher = finisher;
    this.#vault = vault;
    this.#onStored = onStored;
    this.#logger = logger;
    this.#rescanIntervalMs = rescanIntervalMs;
  }

  /** Capture into `vault` (the controller has one only with CALL_RECORDING_ENCRYPTION_KEY: no key, no recording). */
  static create(vault: RecordingVault, config: Pick<Config, 'recordingsDir'>, options: RecordingCaptureOptions): RecordingCapture {
    const logger = options.logger.child({ component: 'recordings' });
    const finisher = new RecordingFinisher({
      vault,
      spoolDir: config.recordingsDir,
      logger,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    });
    return new RecordingCapture(finisher, vault, logger, options.rescanIntervalMs ?? DEFAULT_RESCAN_MS, options.onStored ?? (() => undefined));
  }

  /** FreeSWITCH closed `path` (RECORD_STOP): store it if it is this call's spool file. */
  stopped(path: string, call: RecordedCall, recordedAt: Date): void {
    if (this.#finisher.callIdOf(path) !== call.callId) return;
    this.#track(this.#finisher.finish(path, recordedAt), call);
  }

  /** The call is over: store its spool file if its RECORD_STOP did not already. */
  ended(call: RecordedCall, recordedAt?: Date): void {
    this.#track(this.#finisher.finishIfPresent(call.callId, recordedAt), call);
  }

  /**
   * Once `liveCallsKnown` resolves (the first ESL resync): stores spool files no live call owns (a crash
   * left them), removes half-written encrypted files, then re-scans periodically.
   */
  recoverAfter(liveCallsKnown: Promise<void>, isLive: (callId: string) => boolean): void {
    if (this.#waiting) return;
    this.#waiting = true;
    void liveCallsKnown.then(() => {
      if (!this.#closed) this.#recovering = this.#recover(isLive);
    });
  }

  /** Stops scanning and retrying; waits for stores under way (never for FreeSWITCH to come up). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#finisher.close();
    await this.#recovering;
  }

  async #recover(isLive: (callId: string) => boolean): Promise<void> {
    try {
      const partialsRemoved = await this.#vault.sweepIncomplete(PARTIAL_AGE_MS);
      const result = await this.#finisher.scan({ isLive, minIdleMs: SPOOL_IDLE_AT_START_MS });
      const orphansRemoved = await this.#vault.sweepOrphans(ORPHAN_AGE_MS);
      this.#logger.info({ ...result, partialsRemoved, orphansRemoved }, 'recording spool recovered');
      this.#finisher.startPeriodicScan(this.#rescanIntervalMs, { isLive, minIdleMs: SPOOL_IDLE_MS });
    } catch (error) {
      this.#logger.error({ err: error }, 'recording spool recovery failed');
    }
  }

  #track(finishing: Promise<RecordingRow | undefined>, call: RecordedCall): void {
    void finishing.then((row) => {
      if (row === undefined) return;
      this.#onStored();
      call.note?.('recording_stored', { recordingId: row.id, durationMs: row.durationMs, bytes: row.encryptedBytes });
    });
  }
}
