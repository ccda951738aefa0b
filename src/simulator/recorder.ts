// Call recordings as FreeSWITCH's record_session writes them: 16-bit PCM WAV at 8 kHz (a PCMU call), stereo
// when the channel variable RECORD_STEREO is `true` (left = what the caller said, right = what was played
// to the caller), otherwise mono (both mixed). The file is complete (header sizes filled in) before
// RECORD_STOP is fired, as FreeSWITCH closes the file and then fires the event.
//
// The session keeps a small timeline of what was said and played (simulated ms); the audio is rendered
// from it when the recording stops, one second at a time straight to the file, so a long call never holds
// more than a second of samples. The caller's channel: a 400 Hz tone, or, for a caller that speaks, low
// noise with the spoken-audio codec's utterances at the time they were said (each starting on a 20 ms frame
// of the recording, the way a media bug sees frames, so a decoder reading 20 ms frames finds them). The
// agent's channel: each playback for as long as the caller heard it, with the samples of the played file
// when it is a readable 8/16 kHz WAV, 16-bit or µ-law (the TTS cache), else a tone (tone streams, speech, music).
import { closeSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { encodeUtterance, silenceFrame, utteranceFrames, toneFrame } from './spoken-audio.ts';

const RATE = 8000;
const FRAME_SAMPLES = RATE / 50;
const SAMPLES_PER_MS = RATE / 1000;
const WAV_HEADER_BYTES = 44;

interface Utterance {
  readonly text: string;
  readonly durationMs: number | undefined;
  readonly startMs: number;
  readonly frames: number;
}

interface Playback {
  readonly path: string;
  readonly startMs: number;
  /** Set when it stopped: how long the caller heard it. */
  playedMs: number | undefined;
}

/** What the caller said and what was played to them, on the simulated clock (ms). */
export class MediaTimeline {
  #speakingUntilMs = 0;
  #utterances: Utterance[] = [];
  #playbacks: Playback[] = [];

  get utterances(): readonly Utterance[] {
    return this.#utterances;
  }

  get playbacks(): readonly Playback[] {
    return this.#playbacks;
  }

  /** The caller starts saying `text` at `nowMs`, or once they finish what they are still saying. */
  said(nowMs: number, text: string, durationMs: number | undefined): void {
    const startMs = Math.max(nowMs, this.#speakingUntilMs);
    const frames = utteranceFrames(text, RATE, durationMs);
    this.#speakingUntilMs = startMs + frames * 20;
    this.#utterances.push({ text, durationMs, startMs, frames });
  }

  /** A playback starts at `nowMs`; call the result with the ms the caller heard when it stops. */
  playbackStarted(nowMs: number, path: string): (playedMs: number) => void {
    const entry: Playback = { path, startMs: nowMs, playedMs: undefined };
    this.#playbacks.push(entry);
    return (playedMs) => {
      entry.playedMs = playedMs;
    };
  }

  /** Forgets what ended before `ms`: no recording can need it (keeps a long call's timeline small). */
  forgetBefore(ms: number): void {
    this.#utterances = this.#utterances.filter((u) => u.startMs + u.frames * 20 >= ms);
    this.#playbacks = this.#playbacks.filter((p) => p.playedMs === undefined || p.startMs + p.playedMs >= ms);
  }
}

export interface RecordingSpec {
  path: string;
  /** Left = caller, right = what the caller heard; otherwise one mixed channel. */
  stereo: boolean;
  /** The `record` application: the caller's audio only. */
  callerOnly: boolean;
  /** Simulated ms when the recording started and stopped. */
  startMs: number;
  endMs: number;
  /** A caller that speaks sentences (silent in between) rather than sending the 400 Hz tone. */
  callerSpeaks: boolean;
  timeline: MediaTimeline;
}

/** Writes the recording's WAV file (creating its directory); returns its size in bytes. */
export function writeRecording(spec: RecordingSpec): number {
  const total = Math.max(0, Math.round((spec.endMs - spec.startMs) * SAMPLES_PER_MS));
  const channels = spec.stereo && !spec.callerOnly ? 2 : 1;
  mkdirSync(dirname(spec.path), { recursive: true });
  const fd = openSync(spec.path, 'w', 0o640);
  const sources = new Map<Playback, PlaybackSource>();
  const encoded = new Map<Utterance, Buffer[]>();
  try {
    writeSync(fd, wavHeader(channels, total * channels * 2));
    // One second of buffers, reused block after block.
    const callerBlock = new Int32Array(RATE);
    const heardBlock = new Int32Array(RATE);
    const outBlock = Buffer.alloc(RATE * channels * 2);
    for (let block = 0; block < total; block += RATE) {
      const n = Math.min(RATE, total - block);
      const caller = callerBlock.subarray(0, n);
      const heard = heardBlock.subarray(0, n);
      heard.fill(0);
      renderCaller(spec, block, caller, encoded);
      if (!spec.callerOnly) renderPlaybacks(spec, block, heard, sources);
      const out = outBlock.subarray(0, n * channels * 2);
      for (let i = 0; i < n; i++) {
        if (channels === 2) {
          out.writeInt16LE(clamp(caller[i] ?? 0), i * 4);
          out.writeInt16LE(clamp(heard[i] ?? 0), i * 4 + 2);
        } else {
          out.writeInt16LE(clamp((caller[i] ?? 0) + (heard[i] ?? 0)), i * 2);
        }
      }
      writeSync(fd, out);
    }
    return WAV_HEADER_BYTES + total * channels * 2;
  } finally {
    for (const source of sources.values()) source.close();
    closeSync(fd);
  }
}

function wavHeader(channels: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

function clamp(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/** The caller's samples [block, block + out.length) of the recording. */
function renderCaller(spec: RecordingSpec, block: number, out: Int32Array, encoded: Map<Utterance, Buffer[]>): void {
  const n = out.length;
  // What CallerVoice sends when no sentence is being said: its low noise, or its 400 Hz tone.
  for (let i = 0; i < n; i += FRAME_SAMPLES) {
    const frame = spec.callerSpeaks ? silenceFrame(RATE, (block + i) / FRAME_SAMPLES) : toneFrame(RATE, block + i);
    for (let j = 0; j < FRAME_SAMPLES && i + j < n; j++) out[i + j] = frame.readInt16LE(j * 2);
  }
  for (const u of spec.timeline.utterances) {
    // On the recording's own 20 ms frame grid.
    const start = Math.ceil((u.startMs - spec.startMs) / 20) * FRAME_SAMPLES;
    const end = start + u.frames * FRAME_SAMPLES;
    if (end <= block || start >= block + n) {
      if (end <= block) encoded.delete(u);
      continue;
    }
    let frames = encoded.get(u);
    if (frames === undefined) {
      frames = encodeUtterance(u.text, RATE, u.durationMs);
      encoded.set(u, frames);
    }
    for (let at = Math.max(start, block); at < Math.min(end, block + n); at++) {
      const k = at - start;
      out[at - block] = frames[Math.floor(k / FRAME_SAMPLES)]?.readInt16LE((k % FRAME_SAMPLES) * 2) ?? 0;
    }
  }
}

/** What was played to the caller, added into `out` (samples [block, block + out.length)). */
function renderPlaybacks(spec: RecordingSpec, block: number, out: Int32Array, sources: Map<Playback, PlaybackSource>): void {
  const n = out.length;
  for (const p of spec.timeline.playbacks) {
    const start = Math.round((p.startMs - spec.startMs) * SAMPLES_PER_MS);
    const heardMs = p.playedMs ?? spec.endMs - p.startMs;
    const end = start + Math.max(0, Math.round(heardMs * SAMPLES_PER_MS));
    if (end <= block || start >= block + n) continue;
    let source = sources.get(p);
    if (source === undefined) {
      source = openSource(p.path);
      sources.set(p, source);
    }
    const from = Math.max(start, block);
    const to = Math.min(end, block + n);
    const samples = source.read(from - start, to - from);
    for (let at = from; at < to; at++) out[at - block] = (out[at - block] ?? 0) + (samples[at - from] ?? 0);
  }
}

interface PlaybackSource {
  /** `count` samples at 8 kHz from sample `offset` of the playback. */
  read(offset: number, count: number): Int16Array;
  close(): void;
}

function openSource(path: string): PlaybackSource {
  return openWavSource(path) ?? toneSource(path);
}

/** A tone for what has no readable samples: tone_stream's own frequency and cadence, silence for silence_stream. */
function toneSource(path: string): PlaybackSource {
  if (path.startsWith('silence_stream://')) return { read: (_o, count) => new Int16Array(count), close: () => undefined };
  const m = /%\((\d+),(\d+),(\d+)/.exec(path);
  const on = Number(m?.[1] ?? 1) * SAMPLES_PER_MS;
  const off = Number(m?.[2] ?? 0) * SAMPLES_PER_MS;
  const hz = Number(m?.[3] ?? 440);
  const period = on + off > 0 ? on + off : 1;
  return {
    read: (offset, count) => {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) {
        const t = offset + i;
        out[i] = off > 0 && t % period >= on ? 0 : Math.round(4000 * Math.sin((2 * Math.PI * hz * t) / RATE));
      }
      return out;
    },
    close: () => undefined,
  };
}

/** A WAV file at 8 or 16 kHz, 16-bit PCM or G.711 µ-law, read on demand (first channel, 16 kHz averaged down). */
function openWavSource(path: string): PlaybackSource | undefined {
  if (/^[a-z_]+:\/\//.test(path) || !/\.wav$/i.test(path)) return undefined;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const format = readWavFormat(fd);
  if (format === undefined) {
    closeSync(fd);
    return undefined;
  }
  const { dataOffset, dataBytes, channels, rate, mulaw } = format;
  const step = rate / RATE;
  const sampleBytes = mulaw ? 1 : 2;
  const frameBytes = channels * sampleBytes;
  return {
    read: (offset, count) => {
      const out = new Int16Array(count);
      const firstByte = offset * step * frameBytes;
      const wanted = Math.min(count * step * frameBytes, Math.max(0, dataBytes - firstByte));
      if (wanted <= 0) return out;
      const bytes = Buffer.alloc(wanted);
      const got = readSync(fd, bytes, 0, wanted, dataOffset + firstByte);
      for (let i = 0; i < count; i++) {
        let sum = 0;
        let k = 0;
        for (let s = 0; s < step; s++) {
          const at = (i * step + s) * frameBytes;
          if (at + sampleBytes > got) break;
          sum += mulaw ? ulawToLinear(bytes[at] ?? 0xff) : bytes.readInt16LE(at);
          k++;
        }
        out[i] = k === 0 ? 0 : Math.round(sum / k);
      }
      return out;
    },
    close: () => closeSync(fd),
  };
}

function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

interface WavFormat {
  dataOffset: number;
  dataBytes: number;
  channels: number;
  rate: 8000 | 16000;
  mulaw: boolean;
}

function readWavFormat(fd: number): WavFormat | undefined {
  const head = Buffer.alloc(4096);
  const length = readSync(fd, head, 0, head.length, 0);
  if (length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let format: { tag: number; channels: number; rate: number; bits: number } | undefined;
  for (let at = 12; at + 8 <= length; ) {
    const id = head.toString('ascii', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 24 <= length) {
      format = { tag: head.readUInt16LE(at + 8), channels: head.readUInt16LE(at + 10), rate: head.readUInt32LE(at + 12), bits: head.readUInt16LE(at + 22) };
    } else if (id === 'data') {
      if (format === undefined || format.channels < 1 || (format.rate !== 8000 && format.rate !== 16000)) return undefined;
      const pcm = (format.tag === 1 || format.tag === 0xfffe) && format.bits === 16;
      const mulaw = format.tag === 7 && format.bits === 8;
      if (!pcm && !mulaw) return undefined;
      return { dataOffset: at + 8, dataBytes: size, channels: format.channels, rate: format.rate, mulaw };
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}
