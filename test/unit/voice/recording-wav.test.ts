// parseWav as the recording vault uses it: what a spooled recording is (channels, rate, length), including
// files FreeSWITCH (libsndfile) never closed, whose size fields are still placeholders, and refusal (null)
// of anything that is not a WAV.
import { describe, expect, it } from 'vitest';
import { parseWav } from '../../../src/voice/tts/wav.ts';

function chunk(id: string, body: Buffer, sizeField = body.length): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'ascii');
  head.writeUInt32LE(sizeField >>> 0, 4);
  return Buffer.concat([head, body, body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function fmt(channels: number, rate: number, bits = 16): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(1, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  return chunk('fmt ', b);
}

function riff(chunks: Buffer[], riffSize?: number): Buffer {
  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), ...chunks]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(riffSize ?? body.length, 4);
  return Buffer.concat([head, body]);
}

describe('parseWav on call recordings', () => {
  it('reads a plain 44-byte-header stereo 8 kHz file', () => {
    const file = riff([fmt(2, 8000), chunk('data', Buffer.alloc(8000 * 4 * 3))]);
    expect(parseWav(file.subarray(0, 4096), file.length)).toEqual({
      format: 1,
      channels: 2,
      sampleRate: 8000,
      bitsPerSample: 16,
      dataOffset: 44,
      dataBytes: 96_000,
      durationMs: 3000,
    });
  });

  it('skips other chunks (LIST, odd sizes padded) between fmt and data', () => {
    const file = riff([fmt(1, 16000), chunk('LIST', Buffer.from('INFOISFTlibsndfile', 'ascii')), chunk('odd ', Buffer.alloc(3)), chunk('data', Buffer.alloc(32_000))]);
    const info = parseWav(file, file.length)!;
    expect(info).toMatchObject({ channels: 1, sampleRate: 16000, dataBytes: 32_000, durationMs: 1000 });
    expect(file.toString('ascii', info.dataOffset - 8, info.dataOffset - 4)).toBe('data');
  });

  it.each([
    ['0 (writer killed before closing)', 0],
    ['0xFFFFFFFF (streaming placeholder)', 0xffffffff],
    ['larger than the file', 1_000_000],
  ])('a data size of %s is taken from the file length', (_name, sizeField) => {
    const audio = Buffer.alloc(8000 * 2 * 2 + 2); // two seconds of mono and half a frame more
    const file = riff([fmt(1, 8000), chunk('data', audio, sizeField)], 0xffffffff);
    expect(parseWav(file.subarray(0, 4096), file.length)).toMatchObject({ dataBytes: audio.length, durationMs: 2000 });
  });

  it('a data size smaller than the rest of the file wins (chunks after the audio)', () => {
    const file = riff([fmt(1, 8000), chunk('data', Buffer.alloc(1600)), chunk('LIST', Buffer.alloc(100))]);
    expect(parseWav(file, file.length)).toMatchObject({ dataBytes: 1600, durationMs: 100 });
  });

  it.each([
    ['not RIFF', Buffer.from('ID3\u0004 an mp3 file, not a wav at all', 'latin1')],
    ['too short', Buffer.from('RIFF', 'ascii')],
    ['data before fmt', riff([chunk('data', Buffer.alloc(10)), fmt(1, 8000)])],
    ['no data chunk', riff([fmt(1, 8000), chunk('LIST', Buffer.alloc(10))])],
    ['zero channels', riff([fmt(0, 8000), chunk('data', Buffer.alloc(10))])],
    ['zero sample rate', riff([fmt(1, 0), chunk('data', Buffer.alloc(10))])],
  ])('refuses %s', (_name, bytes) => {
    expect(parseWav(bytes, bytes.length)).toBeNull();
  });
});
