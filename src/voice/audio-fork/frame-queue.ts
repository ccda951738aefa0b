// A bounded FIFO of audio frames toward a slow consumer. Live audio must not back up into FreeSWITCH
// (mod_audio_fork has its own small buffer and reports ::buffer_overrun), and stale audio is worth less
// than recent audio to a recogniser, so when full the OLDEST frame is dropped and counted.

export class FrameQueue {
  readonly capacity: number;
  #slots: Array<Buffer | undefined>;
  #head = 0;
  #size = 0;
  #dropped = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`FrameQueue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#slots = new Array<Buffer | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Frames dropped since this queue was created. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Adds a frame (kept by reference); returns true when an older frame had to be dropped for it. */
  push(frame: Buffer): boolean {
    const tail = (this.#head + this.#size) % this.capacity;
    this.#slots[tail] = frame;
    if (this.#size < this.capacity) {
      this.#size++;
      return false;
    }
    // Full: the slot we just overwrote was the oldest frame.
    this.#head = (this.#head + 1) % this.capacity;
    this.#dropped++;
    return true;
  }

  shift(): Buffer | undefined {
    if (this.#size === 0) return undefined;
    const frame = this.#slots[this.#head];
    this.#slots[this.#head] = undefined; // let the socket chunk behind the view be collected
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return frame;
  }

  clear(): void {
    this.#slots = new Array<Buffer | undefined>(this.capacity);
    this.#head = 0;
    this.#size = 0;
  }
}
