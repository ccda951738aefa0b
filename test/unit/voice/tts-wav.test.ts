import { describe, expect, it } from 'vitest';
import { isRiffWave, parseWav, toWav, wavHeader } from '../../../src/voice/tts/wav.ts';

function chunk(id: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

describe('WAV header', () => {
  it('describes 1 s of 16 kHz 16-bit mono PCM', () => {
    const wav = Buffer.concat([wavHeader({ encoding: 'LINEAR16', sampleRate: 16000, dataBytes: 32000 }), Buffer.alloc(32000)]);
    expect(parseWav(wav)).toEqual({
      format: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, dataOffset: 44, dataBytes: 32000, durationMs: 1000,
    });
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
  });

  it('describes G.711 mu-law at 8 kHz as format 7, 8 bits', () => {
    const wav = Buffer.concat([wavHeader({ encoding: 'MULAW', sampleRate: 8000, dataBytes: 4000 }), Buffer.alloc(4000, 0xff)]);
    expect(parseWav(wav)).toMatchObject({ format: 7, sampleRate: 8000, bitsPerSample: 8, durationMs: 500 });
  });

  it('finds the data chunk behind other chunks, honouring the pad byte of odd-sized ones', () => {
    const header = wavHeader({ encoding: 'LINEAR16', sampleRate: 8000, dataBytes: 0 });
    const riff = header.subarray(0, 12);
    const fmt = header.subarray(12, 36);
    const data = chunk('data', Buffer.alloc(1600));
    const wav = Buffer.concat([riff, fmt, chunk('LIST', Buffer.from('INFOsoftwar')), data]);
    expect(parseWav(wav)).toMatchObject({ dataOffset: 12 + 24 + 20 + 8, dataBytes: 1600, durationMs: 100 });
  });

  it('trusts the file over a streaming size field', () => {
    const header = wavHeader({ encoding: 'LINEAR16', sampleRate: 8000, dataBytes: 0 });
    header.writeUInt32LE(0xffffffff, 40);
    expect(parseWav(Buffer.concat([header, Buffer.alloc(800)]))?.durationMs).toBe(50);
  });

  it('computes the duration from the head of a file and its size', () => {
    const header = wavHeader({ encoding: 'LINEAR16', sampleRate: 16000, dataBytes: 64000 });
    expect(parseWav(header, 44 + 64000)?.durationMs).toBe(2000);
  });

  it('rejects what is not a WAV', () => {
    expect(parseWav(Buffer.from('ID3 not a wav at all'))).toBeNull();
    expect(parseWav(Buffer.alloc(0))).toBeNull();
    // RIFF/WAVE but no fmt before data.
    expect(parseWav(Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE', 'latin1'), chunk('data', Buffer.alloc(4))]))).toBeNull();
  });
});

describe('toWav', () => {
  it('keeps audio that already is a WAV byte for byte (no second header)', () => {
    const wav = Buffer.concat([wavHeader({ encoding: 'LINEAR16', sampleRate: 8000, dataBytes: 160 }), Buffer.alloc(160, 1)]);
    const out = toWav(wav, { encoding: 'LINEAR16', sampleRate: 8000 });
    expect(out.equals(wav)).toBe(true);
  });

  it('puts a header in front of raw samples', () => {
    const raw = Buffer.alloc(320, 7);
    const out = toWav(raw, { encoding: 'LINEAR16', sampleRate: 16000 });
    expect(isRiffWave(out)).toBe(true);
    expect(out.length).toBe(44 + 320);
    expect(parseWav(out)).toMatchObject({ sampleRate: 16000, dataBytes: 320, durationMs: 10 });
    expect(out.subarray(44).equals(raw)).toBe(true);
  });
});
