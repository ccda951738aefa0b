// Talk and silence in a call recording, measured while the audio streams past (nothing is kept): the WAV
// header is read for the format, then every 20 ms frame of each channel is judged voiced or not by its
// energy (RMS over a threshold). Per channel that gives talk time; across channels, silence (nobody
// talking), overlap (both talking at once) and the longest silence. Only 16-bit PCM, as FreeSWITCH records.
import { TranscriptionFailedError } from '../core/errors.ts';

export interface TalkStats {
  durationMs: number;
  /** Talk time per channel, in channel order, with the channel's label. */
  channels: { label: string; talkMs: number }[];
  /** Someone (any channel) talking. */
  talkMs: number;
  silenceMs: number;
  overlapMs: number;
  longestSilenceMs: number;
}

export interface TalkStatsOptions {
  /** Labels of the channels in order (extra channels are named channel-N). */
  labels: readonly string[];
  /**
   * RMS of a 16-bit frame above which it counts as speech. 500 (about −36 dBFS) sits well above line noise
   * and comfort noise and below normal speech on a phone line.
   */
  rmsThreshold?: number;
}

const FRAME_MS = 20;
const MAX_HEADER_BYTES = 64 * 1024;

interface Format {
  channels: number;
  sampleRate: number;
  /** Audio bytes still expected (Infinity when the header does not say). */
  remaining: number;
}

export class TalkStatsMeter {
  readonly #labels: readonly string[];
  readonly #threshold: number;
  #head: Buffer = Buffer.alloc(0);
  #format: Format | undefined;
  #channelLabels: string[] | undefined;
  #pending: Buffer = Buffer.alloc(0);
  #dataBytes = 0;
  #talkFrames: number[] = [];
  #silenceFrames = 0;
  #overlapFrames = 0;
  #silenceRun = 0;
  #longestSilenceRun = 0;

  constructor(options: TalkStatsOptions) {
    this.#labels = options.labels;
    this.#threshold = options.rmsThreshold ?? 500;
  }

  push(chunk: Buffer): void {
    if (this.#format === undefined) {
      this.#head = Buffer.concat([this.#head, chunk]);
      const parsed = parseHeader(this.#head);
      if (parsed === undefined) {
        if (this.#head.length > MAX_HEADER_BYTES) throw notWav('no data chunk in the first 64 KiB');
        return;
      }
      this.#format = parsed.format;
      this.#talkFrames = new Array<number>(parsed.format.channels).fill(0);
      this.#channelLabels = this.#talkFrames.map((_, i) => this.#labels[i] ?? `channel-${i + 1}`);
      chunk = this.#head.subarray(parsed.dataOffset);
      this.#head = Buffer.alloc(0);
    }
    const format = this.#format;
    const take = Math.min(chunk.length, format.remaining);
    format.remaining -= take;
    this.#dataBytes += take;
    this.#pending = this.#pending.length === 0 ? chunk.subarray(0, take) : Buffer.concat([this.#pending, chunk.subarray(0, take)]);
    const frameBytes = (format.sampleRate / (1000 / FRAME_MS)) * format.channels * 2;
    let offset = 0;
    for (; offset + frameBytes <= this.#pending.length; offset += frameBytes) this.#frame(this.#pending.subarray(offset, offset + frameBytes), format.channels);
    this.#pending = Buffer.from(this.#pending.subarray(offset));
  }

  /** The channels' labels, once the WAV header has gone past (undefined before). */
  get channelLabels(): readonly string[] | undefined {
    return this.#channelLabels;
  }

  result(): TalkStats {
    const format = this.#format;
    if (format === undefined) throw notWav('the audio ended before its WAV header');
    const ms = (frames: number): number => frames * FRAME_MS;
    const frames = this.#talkFrames.length === 0 ? 0 : Math.floor(this.#dataBytes / ((format.sampleRate / 50) * format.channels * 2));
    return {
      durationMs: Math.round((this.#dataBytes / (format.sampleRate * format.channels * 2)) * 1000),
      channels: this.#talkFrames.map((talk, i) => ({ label: this.#channelLabels?.[i] ?? `channel-${i + 1}`, talkMs: ms(talk) })),
      talkMs: ms(frames - this.#silenceFrames),
      silenceMs: ms(this.#silenceFrames),
      overlapMs: ms(this.#overlapFrames),
      longestSilenceMs: ms(Math.max(this.#longestSilenceRun, this.#silenceRun)),
    };
  }

  #frame(frame: Buffer, channels: number): void {
    const sums = new Array<number>(channels).fill(0);
    const samples = frame.length / 2;
    for (let i = 0; i < samples; i++) {
      const s = frame.readInt16LE(i * 2);
      sums[i % channels]! += s * s;
    }
    const perChannel = samples / channels;
    let voiced = 0;
    sums.forEach((sum, c) => {
      if (Math.sqrt(sum / perChannel) > this.#threshold) {
        voiced += 1;
        this.#talkFrames[c]! += 1;
      }
    });
    if (voiced === 0) {
      this.#silenceFrames += 1;
      this.#silenceRun += 1;
    } else {
      this.#longestSilenceRun = Math.max(this.#longestSilenceRun, this.#silenceRun);
      this.#silenceRun = 0;
      if (voiced > 1) this.#overlapFrames += 1;
    }
  }
}

/** The format and where the samples start, once the head holds the `fmt ` and `data` chunk headers. */
function parseHeader(head: Buffer): { format: Format; dataOffset: number } | undefined {
  if (head.length < 12) return undefined;
  if (head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') throw notWav('no RIFF/WAVE header');
  let offset = 12;
  let fmt: { channels: number; sampleRate: number; bits: number; audioFormat: number } | undefined;
  while (offset + 8 <= head.length) {
    const id = head.toString('ascii', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > head.length) return undefined;
      fmt = { audioFormat: head.readUInt16LE(body), channels: head.readUInt16LE(body + 2), sampleRate: head.readUInt32LE(body + 4), bits: head.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (fmt === undefined) throw notWav('data before the format chunk');
      // 1 = PCM, 0xFFFE = extensible (FreeSWITCH writes PCM).
      if ((fmt.audioFormat !== 1 && fmt.audioFormat !== 0xfffe) || fmt.bits !== 16 || fmt.channels < 1 || fmt.sampleRate % 50 !== 0 || fmt.sampleRate === 0) {
        throw notWav(`unsupported format (${fmt.bits}-bit, ${fmt.channels} channels, ${fmt.sampleRate} Hz)`);
      }
      // A writer that died before closing the file leaves 0 or a placeholder: read to the end.
      const remaining = size === 0 || size === 0xffffffff ? Number.POSITIVE_INFINITY : size;
      return { format: { channels: fmt.channels, sampleRate: fmt.sampleRate, remaining }, dataOffset: body };
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}

function notWav(why: string): TranscriptionFailedError {
  return new TranscriptionFailedError(`recording is not 16-bit PCM WAV: ${why}`, { retryable: false });
}
