import { describe, expect, it } from 'vitest';
import { TalkStatsMeter } from '../../../src/queue/talk-stats.ts';
import { wavHeader } from '../../../src/voice/tts/wav.ts';

/** 8 kHz stereo WAV; each 20 ms frame of a channel is a loud tone when `voiced(channel, frame)`, else faint noise. */
function wav(frames: number, voiced: (channel: number, frame: number) => boolean): Buffer {
  const data = Buffer.alloc(frames * 160 * 4);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < 160; i++) {
      for (let c = 0; c < 2; c++) {
        const loud = voiced(c, f) ? Math.round(6000 * Math.sin((2 * Math.PI * 300 * i) / 8000)) : (i % 7) - 3;
        data.writeInt16LE(loud, ((f * 160 + i) * 2 + c) * 2);
      }
    }
  }
  const header = wavHeader({ encoding: 'LINEAR16', channels: 2, sampleRate: 8000, dataBytes: data.length });
  return Buffer.concat([header, data]);
}

// Caller talks 0–1 s, agent 0.5–1.5 s (0.5 s over each other), then 1.5 s of silence; a 0.2 s pause before.
const call = wav(160, (c, f) => (c === 0 ? f >= 10 && f < 60 : f >= 35 && f < 85));
const expected = {
  durationMs: 3200,
  channels: [
    { label: 'Caller', talkMs: 1000 },
    { label: 'Agent', talkMs: 1000 },
  ],
  talkMs: 1500,
  silenceMs: 1700,
  overlapMs: 500,
  longestSilenceMs: 1500,
};

describe('TalkStatsMeter', () => {
  it('measures talk per channel, overlap, silence and the longest silence', () => {
    const meter = new TalkStatsMeter({ labels: ['Caller', 'Agent'] });
    meter.push(call);
    expect(meter.result()).toEqual(expected);
  });

  it('gives the same figures however the stream is cut', () => {
    const meter = new TalkStatsMeter({ labels: ['Caller', 'Agent'] });
    for (let i = 0; i < call.length; i += 7) meter.push(call.subarray(i, i + 7));
    expect(meter.result()).toEqual(expected);
  });

  it('refuses audio that is not 16-bit PCM WAV', () => {
    const meter = new TalkStatsMeter({ labels: [] });
    expect(() => meter.push(Buffer.from('ID3\u0003 this is an mp3 file'))).toThrow(/not 16-bit PCM WAV/);
  });
});
