// WAV (RIFF) reading and writing for the TTS cache. Google returns LINEAR16 and MULAW audio already wrapped
// in a WAV header (see the AudioEncoding reference), so a header is only added when the bytes are raw; a
// second header would be played by FreeSWITCH as a click of noise at the start of every prompt.

export type TtsEncoding = 'LINEAR16' | 'MULAW';

/** WAVE_FORMAT_PCM and WAVE_FORMAT_MULAW: the two formats FreeSWITCH's file playback reads natively. */
export const WAV_FORMAT_PCM = 1;
export const WAV_FORMAT_MULAW = 7;

export interface WavInfo {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Sample bytes actually present (a size field larger than the file is clamped). */
  dataBytes: number;
  durationMs: number;
}

const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;

export function isRiffWave(bytes: Uint8Array): boolean {
  if (bytes.length < RIFF_HEADER_BYTES) return false;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WAVE';
}

/**
 * Reads the fmt and data chunks. `totalBytes` is the file size when `head` is only its beginning (the cache
 * reads a few KiB of a file to learn its duration). Returns null when the bytes are not a usable WAV.
 */
export function parseWav(head: Uint8Array, totalBytes: number = head.length): WavInfo | null {
  if (!isRiffWave(head)) return null;
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  let offset = RIFF_HEADER_BYTES;
  let fmt: Pick<WavInfo, 'format' | 'channels' | 'sampleRate' | 'bitsPerSample'> | null = null;
  while (offset + CHUNK_HEADER_BYTES <= b.length) {
    const id = b.toString('latin1', offset, offset + 4);
    const size = b.readUInt32LE(offset + 4);
    const body = offset + CHUNK_HEADER_BYTES;
    if (id === 'fmt ') {
      if (body + 16 > b.length) return null;
      fmt = {
        format: b.readUInt16LE(body),
        channels: b.readUInt16LE(body + 2),
        sampleRate: b.readUInt32LE(body + 4),
        bitsPerSample: b.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (fmt === null || fmt.channels === 0 || fmt.sampleRate === 0 || fmt.bitsPerSample === 0) return null;
      // Streaming writers put 0 or 0xFFFFFFFF in the size field; what is on disk is the truth.
      const present = Math.max(0, totalBytes - body);
      const dataBytes = size === 0 || size > present ? present : size;
      const bytesPerSecond = fmt.sampleRate * fmt.channels * (fmt.bitsPerSample / 8);
      return { ...fmt, dataOffset: body, dataBytes, durationMs: Math.round((dataBytes / bytesPerSecond) * 1000) };
    }
    // Chunks are word-aligned: an odd size is followed by one pad byte.
    offset = body + size + (size % 2);
  }
  return null;
}

export interface WavHeaderOptions {
  encoding: TtsEncoding;
  sampleRate: number;
  dataBytes: number;
  /** 1 unless given (prompts are mono; call recordings are stereo). */
  channels?: number;
}

/** A canonical 44-byte header (PCM 16-bit, or G.711 mu-law 8-bit). */
export function wavHeader(options: WavHeaderOptions): Buffer {
  const mulaw = options.encoding === 'MULAW';
  const bits = mulaw ? 8 : 16;
  const channels = options.channels ?? 1;
  const blockAlign = (channels * bits) / 8;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + options.dataBytes, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(mulaw ? WAV_FORMAT_MULAW : WAV_FORMAT_PCM, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(options.sampleRate, 24);
  h.writeUInt32LE(options.sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(options.dataBytes, 40);
  return h;
}

/** The bytes as a WAV file: unchanged when they already are one, else raw samples behind a new header. */
export function toWav(audio: Uint8Array, options: Omit<WavHeaderOptions, 'dataBytes'>): Buffer {
  const bytes = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
  if (isRiffWave(bytes)) return bytes;
  return Buffer.concat([wavHeader({ ...options, dataBytes: bytes.length }), bytes]);
}
