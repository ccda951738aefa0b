// A tiny "speech codec" so a sentence can travel as audio: the simulated caller speaks it into an audio
// fork, and the local Speechmatics stand-in (src/peers/) hears it back as text. Audio is 20 ms frames of
// 16-bit little-endian mono PCM, as mod_audio_fork sends.
//
// An utterance starts with marker frames: sample 0 is MAGIC, sample 1 the marker frame's index, the rest
// carry a payload (text length, utterance length in frames, UTF-8 text), one byte per sample as
// ±(BYTE_BASE + byte × BYTE_STEP) with alternating sign, loud enough to count as voice. The rest of the
// utterance is a voiced tone. Silence is low-level noise, far below the voice threshold.
// Nothing here depends on anything else, so the peers and the simulator share it.

export type SampleRate = 8000 | 16000;

const MAGIC = 31_000;
const BYTE_BASE = 3000;
const BYTE_STEP = 40;
/** Payload bytes before the text: text length (2 bytes) and utterance length in frames (2 bytes). */
const HEADER_BYTES = 4;
/** Index of the marker frame sits in one sample, so an utterance has at most 256 marker frames. */
const MAX_MARKER_FRAMES = 256;
/** RMS above which a frame counts as voice. Our silence is ~30, the voiced parts are thousands. */
export const VOICE_RMS_THRESHOLD = 1000;
/** Default speaking pace and shortest utterance. */
export const MS_PER_CHAR = 65;
export const MIN_UTTERANCE_MS = 400;

export function samplesPerFrame(rate: SampleRate): number {
  return rate / 50;
}

/** Root mean square of a frame of 16-bit LE samples (0 for an empty frame). */
export function frameRms(frame: Buffer): number {
  const n = Math.floor(frame.length / 2);
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const s = frame.readInt16LE(i * 2);
    sum += s * s;
  }
  return Math.sqrt(sum / n);
}

/** Energy-based voice activity: true when the frame is loud enough to be speech. */
export function isVoiced(frame: Buffer, threshold = VOICE_RMS_THRESHOLD): boolean {
  return frameRms(frame) > threshold;
}

/** How long a sentence takes to say at the default pace (ms). */
export function utteranceDurationMs(text: string): number {
  return Math.max(MIN_UTTERANCE_MS, [...text].length * MS_PER_CHAR);
}

/** 20 ms of background noise: deterministic, about ±40, well under the voice threshold. */
export function silenceFrame(rate: SampleRate, seed = 0): Buffer {
  const n = samplesPerFrame(rate);
  const frame = Buffer.alloc(n * 2);
  let x = (seed * 2654435761 + 12345) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    frame.writeInt16LE(((x >>> 16) % 81) - 40, i * 2);
  }
  return frame;
}

/** 20 ms of a voiced tone; `offset` is the sample position so consecutive frames join up. */
export function toneFrame(rate: SampleRate, offset: number, hz = 400, amplitude = 8000): Buffer {
  const n = samplesPerFrame(rate);
  const frame = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    frame.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * hz * (offset + i)) / rate)), i * 2);
  }
  return frame;
}

function byteSample(byte: number, index: number): number {
  const v = BYTE_BASE + byte * BYTE_STEP;
  return index % 2 === 0 ? v : -v;
}

function sampleByte(sample: number): number {
  return Math.round((Math.abs(sample) - BYTE_BASE) / BYTE_STEP);
}

function markerFrames(textBytes: number, rate: SampleRate): number {
  const markers = Math.ceil((HEADER_BYTES + textBytes) / (samplesPerFrame(rate) - 2));
  if (textBytes > 0xffff || markers > MAX_MARKER_FRAMES) throw new RangeError('utterance text too long');
  return markers;
}

/** How many 20 ms frames encodeUtterance makes for `text` (without making them). */
export function utteranceFrames(text: string, rate: SampleRate, durationMs = utteranceDurationMs(text)): number {
  const markers = markerFrames(Buffer.byteLength(text, 'utf8'), rate);
  return Math.min(0xffff, Math.max(markers, Math.ceil(durationMs / 20)));
}

/**
 * The frames of one utterance of `text` at `rate`: marker frames carrying the text, then a voiced tone up to
 * `durationMs` (default: 65 ms a character, at least 400 ms). Never shorter than its marker frames.
 */
export function encodeUtterance(text: string, rate: SampleRate, durationMs = utteranceDurationMs(text)): Buffer[] {
  const n = samplesPerFrame(rate);
  const perFrame = n - 2;
  const bytes = Buffer.from(text, 'utf8');
  const markers = markerFrames(bytes.length, rate);
  const total = utteranceFrames(text, rate, durationMs);
  const payload = Buffer.alloc(markers * perFrame);
  payload.writeUInt16BE(bytes.length, 0);
  payload.writeUInt16BE(total, 2);
  bytes.copy(payload, HEADER_BYTES);
  const frames: Buffer[] = [];
  for (let f = 0; f < markers; f++) {
    const frame = Buffer.alloc(n * 2);
    frame.writeInt16LE(MAGIC, 0);
    frame.writeInt16LE(byteSample(f, 1), 2);
    for (let i = 0; i < perFrame; i++) frame.writeInt16LE(byteSample(payload[f * perFrame + i] ?? 0, i), (i + 2) * 2);
    frames.push(frame);
  }
  for (let f = markers; f < total; f++) frames.push(toneFrame(rate, f * n, 220, 6000));
  return frames;
}

/** What one pushed frame told the decoder. */
export interface DecodedFrame {
  voiced: boolean;
  /** Set on the frame that completes an utterance's marker frames (`markerFrames` of them, this one included). */
  utterance?: { text: string; frames: number; markerFrames: number };
}

/** Listens to frames of any rate and recovers the utterances encoded by encodeUtterance. */
export class SpokenAudioDecoder {
  private payload: number[] = [];
  private nextMarker = 0;

  push(frame: Buffer): DecodedFrame {
    const voiced = isVoiced(frame);
    const n = Math.floor(frame.length / 2);
    if (n < 3 || frame.readInt16LE(0) !== MAGIC) {
      this.reset();
      return { voiced };
    }
    const index = sampleByte(frame.readInt16LE(2));
    if (index === 0) this.reset();
    else if (index !== this.nextMarker) {
      // A marker frame went missing: this utterance cannot be read any more.
      this.reset();
      return { voiced };
    }
    this.nextMarker = index + 1;
    for (let i = 2; i < n; i++) this.payload.push(sampleByte(frame.readInt16LE(i * 2)));
    if (this.payload.length < HEADER_BYTES) return { voiced };
    const length = ((this.payload[0] ?? 0) << 8) | (this.payload[1] ?? 0);
    if (this.payload.length < HEADER_BYTES + length) return { voiced };
    const frames = ((this.payload[2] ?? 0) << 8) | (this.payload[3] ?? 0);
    const text = Buffer.from(this.payload.slice(HEADER_BYTES, HEADER_BYTES + length)).toString('utf8');
    this.reset();
    return { voiced, utterance: { text, frames, markerFrames: index + 1 } };
  }

  private reset(): void {
    this.payload = [];
    this.nextMarker = 0;
  }
}
