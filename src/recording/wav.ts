// Just enough of the WAV format to describe a recording FreeSWITCH wrote (channels, rate, length) and to
// refuse a spooled file that is not one. FreeSWITCH writes 16-bit PCM through libsndfile: RIFF/WAVE with a
// `fmt ` chunk and a `data` chunk, possibly with others between them.
import { RecordingInvalidError } from '../core/errors.ts';

export interface WavInfo {
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Byte offset of the audio samples. */
  dataOffset: number;
  /** Bytes of audio (taken from the file size when the header's count is missing or too large). */
  dataBytes: number;
  durationMs: number;
}

/** Parses the head of a WAV file (the first few KiB suffice) given the file's full size. */
export function readWavInfo(head: Buffer, fileSize: number): WavInfo {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
    throw new RecordingInvalidError('not a WAV file (no RIFF/WAVE header)');
  }
  let offset = 12;
  let format: { channels: number; sampleRate: number; bitsPerSample: number } | undefined;
  while (offset + 8 <= head.length) {
    const id = head.toString('ascii', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > head.length) break;
      format = { channels: head.readUInt16LE(body + 2), sampleRate: head.readUInt32LE(body + 4), bitsPerSample: head.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (format === undefined) throw new RecordingInvalidError('WAV data before its format chunk');
      if (format.channels < 1 || format.sampleRate < 1 || format.bitsPerSample < 8) throw new RecordingInvalidError('WAV format chunk is not plausible');
      // A writer that died before closing leaves the size at 0 (or a placeholder): trust the file's length.
      const available = Math.max(0, fileSize - body);
      const dataBytes = size === 0 || size > available ? available : size;
      const bytesPerMs = (format.sampleRate * format.channels * (format.bitsPerSample / 8)) / 1000;
      return { ...format, dataOffset: body, dataBytes, durationMs: Math.round(dataBytes / bytesPerMs) };
    }
    offset = body + size + (size % 2);
  }
  throw new RecordingInvalidError('WAV header incomplete (no format or data chunk in the first bytes)');
}

/** The canonical 44-byte header of a 16-bit PCM WAV (what FreeSWITCH writes for a recording). */
export function pcmWavHeader(options: { channels: number; sampleRate: number; dataBytes: number }): Buffer {
  const { channels, sampleRate, dataBytes } = options;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}
