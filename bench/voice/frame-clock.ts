// Frame latency at the wire, on one clock: the simulator's audio fork and the Speechmatics peer run in the
// same process, so a frame's departure (simulator hook) and arrival (peer hook) are both performance.now().
// Frames are told apart by a stamp: a global sequence number written into the first samples of a silence
// frame. Silence is noise within ±40 (spoken-audio.ts); the stamp's samples stay within ±127, so to the
// controller's voice activity detector and the peer's transcriber a stamped frame is still silence.
// Spoken frames are sent as they are (their samples carry the sentence) and only counted. The controller
// sends the peer one AddAudio message per STT batch (SPEECHMATICS_AUDIO_BATCH_MS, several frames joined), so
// every fork-frame-sized piece of a message is read for a stamp; a frame's latency includes its batch wait.
import { performance } from 'node:perf_hooks';
import { summarize, type Summary } from '../stats.ts';

const MAGIC = 101;
const SILENCE_MAX = 40;
/** The sequence number takes three samples of 7 bits each. */
const CAPACITY = 1 << 21;

function isSilence(frame: Buffer): boolean {
  // Buffer.alloc gives an aligned, unshared buffer: read it as samples directly.
  const samples = new Int16Array(frame.buffer, frame.byteOffset, frame.length >> 1);
  for (const s of samples) if (s > SILENCE_MAX || s < -SILENCE_MAX) return false;
  return true;
}

function readStamp(frame: Buffer, at: number): number | undefined {
  if (frame.length < at + 10 || frame.readInt16LE(at) !== MAGIC || frame.readInt16LE(at + 2) !== -MAGIC) return undefined;
  const a = frame.readInt16LE(at + 4);
  const b = frame.readInt16LE(at + 6);
  const c = frame.readInt16LE(at + 8);
  if (a < 0 || a > 127 || b < 0 || b > 127 || c < 0 || c > 127) return undefined;
  return (a << 14) | (b << 7) | c;
}

export interface FrameWindowResult {
  seconds: number;
  /** Every frame the simulator sent in the window, and every frame the peer received in it (batches counted by frame). */
  framesSent: number;
  framesReceived: number;
  framesPerSecond: number;
  /** Silence frames stamped in the window: the ones whose latency is known. */
  stamped: number;
  /** Stamped frames of the window that never reached the peer (counted after a drain). */
  lost: number;
  /** Stamped frames that reached the peer more than once (an STT reconnect replays unacknowledged audio). */
  duplicated: number;
  /** Simulator fork → Speechmatics peer, through the controller and its STT batch (ms). */
  latencyMs: Summary;
}

export class FrameClock {
  readonly #sentAt = new Float64Array(CAPACITY);
  readonly #arrivedAt = new Float64Array(CAPACITY).fill(NaN);
  #next = 0;
  /** Bytes of one fork frame (the first one seen): the step at which a batched message is read for stamps. */
  #frameBytes = 0;
  #duplicated = 0;
  #sent = 0;
  #received = 0;
  #window: { seq: number; sent: number; received: number; duplicated: number; atMs: number } | undefined;

  /** Simulator hook: stamps a silence frame and notes when it left. */
  readonly onForkFrame = (_uuid: string, frame: Buffer): void => {
    this.#sent++;
    if (this.#frameBytes === 0) this.#frameBytes = frame.length;
    if (this.#next >= CAPACITY || !isSilence(frame)) return;
    const seq = this.#next++;
    frame.writeInt16LE(MAGIC, 0);
    frame.writeInt16LE(-MAGIC, 2);
    frame.writeInt16LE((seq >> 14) & 127, 4);
    frame.writeInt16LE((seq >> 7) & 127, 6);
    frame.writeInt16LE(seq & 127, 8);
    this.#sentAt[seq] = performance.now();
  };

  /** Peer hook: notes when the stamped frames of an AddAudio message arrived. */
  readonly onPeerAudio = (_sessionId: string, message: Buffer): void => {
    const now = performance.now();
    const step = this.#frameBytes || message.length;
    for (let at = 0; at < message.length; at += step) {
      this.#received++;
      const seq = readStamp(message, at);
      if (seq === undefined || seq >= this.#next) continue;
      if (Number.isNaN(this.#arrivedAt[seq] as number)) this.#arrivedAt[seq] = now;
      else this.#duplicated++;
    }
  };

  startWindow(): void {
    this.#window = { seq: this.#next, sent: this.#sent, received: this.#received, duplicated: this.#duplicated, atMs: performance.now() };
  }

  /** Closes the window: frames stamped from startWindow() until now, read after `drainMs` for late arrivals. */
  async endWindow(drainMs: number): Promise<FrameWindowResult> {
    const window = this.#window;
    if (window === undefined) throw new Error('no frame window open');
    this.#window = undefined;
    const seconds = (performance.now() - window.atMs) / 1000;
    const end = this.#next;
    const sent = this.#sent - window.sent;
    const received = this.#received - window.received;
    await new Promise((resolve) => setTimeout(resolve, drainMs));
    const latencies: number[] = [];
    let lost = 0;
    for (let seq = window.seq; seq < end; seq++) {
      const arrived = this.#arrivedAt[seq] as number;
      if (Number.isNaN(arrived)) lost++;
      else latencies.push(arrived - (this.#sentAt[seq] as number));
    }
    return {
      seconds: Math.round(seconds * 10) / 10,
      framesSent: sent,
      framesReceived: received,
      framesPerSecond: Math.round(sent / seconds),
      stamped: end - window.seq,
      lost,
      duplicated: this.#duplicated - window.duplicated,
      latencyMs: summarize(latencies),
    };
  }
}
