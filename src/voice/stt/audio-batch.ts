// Gathers the caller's 20 ms frames into AddAudio messages of `batchBytes` (e.g. 60 ms: three frames), so
// the STT socket sees one write, one masking pass and one AudioAdded per batch instead of per frame.
//
// Latency stays bounded: a batch is cut the moment it reaches its length, and a batch that does not fill
// (the audio stopped or slowed down) is sent once its oldest frame has waited `maxWaitMs`, the batch's own
// length, so no frame waits longer than a full batch would have. A full batch is sent from a microtask, at
// the end of the I/O callback that delivered its last frame: everything else that looks at that frame in the
// same callback (the voice detector that decides a barge-in) runs before the STT write, never after it.
// Frames are kept by reference until their batch is sent; the caller joins them into one message.

export type BatchCause = 'full' | 'timer' | 'close';

export interface AudioBatcherOptions {
  /** A batch is cut once it holds at least this many bytes. */
  batchBytes: number;
  /** The longest a frame waits in an unfilled batch. */
  maxWaitMs: number;
  /** Receives each batch, oldest first; `bytes` is the sum of the frames' lengths. */
  send: (frames: Buffer[], bytes: number, cause: BatchCause) => void;
}

interface Batch {
  frames: Buffer[];
  bytes: number;
}

export class AudioBatcher {
  readonly #o: AudioBatcherOptions;
  #open: Batch = { frames: [], bytes: 0 };
  /** Full batches cut but not yet sent (their microtask is queued). */
  #full: Batch[] = [];
  #sendQueued = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AudioBatcherOptions) {
    if (!(Number.isInteger(options.batchBytes) && options.batchBytes > 0)) throw new RangeError('batchBytes must be a positive integer');
    if (!(Number.isFinite(options.maxWaitMs) && options.maxWaitMs > 0)) throw new RangeError('maxWaitMs must be > 0');
    this.#o = options;
  }

  push(frame: Buffer): void {
    const batch = this.#open;
    batch.frames.push(frame);
    batch.bytes += frame.length;
    if (batch.bytes < this.#o.batchBytes) {
      this.#timer ??= setTimeout(this.#onTimer, this.#o.maxWaitMs);
      return;
    }
    this.#clearTimer();
    this.#full.push(batch);
    this.#open = { frames: [], bytes: 0 };
    if (!this.#sendQueued) {
      this.#sendQueued = true;
      queueMicrotask(this.#sendFull);
    }
  }

  /** Sends everything pending now, in order (the stream is closing). */
  flush(cause: BatchCause): void {
    this.#sendFull();
    this.#clearTimer();
    const batch = this.#open;
    this.#open = { frames: [], bytes: 0 };
    if (batch.frames.length > 0) this.#o.send(batch.frames, batch.bytes, cause);
  }

  /** Forgets everything pending (the stream failed for good). */
  clear(): void {
    this.#clearTimer();
    this.#open = { frames: [], bytes: 0 };
    this.#full = [];
  }

  readonly #sendFull = (): void => {
    this.#sendQueued = false;
    const full = this.#full;
    if (full.length === 0) return;
    this.#full = [];
    for (const batch of full) this.#o.send(batch.frames, batch.bytes, 'full');
  };

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    // Full batches go first so the order on the wire stays the order of the audio.
    this.#sendFull();
    const batch = this.#open;
    if (batch.frames.length === 0) return;
    this.#open = { frames: [], bytes: 0 };
    this.#o.send(batch.frames, batch.bytes, 'timer');
  };

  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
