import { describe, expect, it } from 'vitest';
import { frameRms, VoiceActivityDetector } from '../../../src/voice/audio-fork/voice-activity.ts';

function tone(amplitude: number, samples = 320): Buffer {
  const frame = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) frame.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * 400 * i) / 16000)), i * 2);
  return frame;
}

describe('voice activity', () => {
  it('measures a sine frame at amplitude/√2 and silence at 0', () => {
    expect(frameRms(tone(8000))).toBeCloseTo(8000 / Math.SQRT2, -2);
    expect(frameRms(Buffer.alloc(640))).toBe(0);
  });

  it('reports speech once, after the minimum run of loud frames, and again after a pause', () => {
    const vad = new VoiceActivityDetector({ minSpeechMs: 60 });
    const loud = tone(6000);
    const quiet = tone(100);
    expect([loud, loud, loud, loud, loud].map((f) => vad.push(f))).toEqual([false, false, true, false, false]);
    expect(vad.push(quiet)).toBe(false);
    expect([loud, loud, loud].map((f) => vad.push(f))).toEqual([false, false, true]);
  });

  it('takes a click shorter than the minimum for noise', () => {
    const vad = new VoiceActivityDetector({ minSpeechMs: 120 });
    const seen = [tone(9000), tone(9000), tone(50), tone(9000), tone(50)].map((f) => vad.push(f));
    expect(seen).not.toContain(true);
  });
});
