import { describe, expect, it } from 'vitest';
import {
  encodeUtterance,
  frameRms,
  isVoiced,
  silenceFrame,
  SpokenAudioDecoder,
  toneFrame,
  utteranceDurationMs,
  type SampleRate,
} from '../../../src/simulator/spoken-audio.ts';

type Heard = { text: string; frames: number; markerFrames: number };

function decodeAll(frames: Buffer[]): { texts: Heard[]; voiced: boolean[] } {
  const decoder = new SpokenAudioDecoder();
  const texts: Heard[] = [];
  const voiced: boolean[] = [];
  for (const frame of frames) {
    const out = decoder.push(frame);
    voiced.push(out.voiced);
    if (out.utterance !== undefined) texts.push(out.utterance);
  }
  return { texts, voiced };
}

describe('spoken audio codec', () => {
  it.each([8000, 16000] as SampleRate[])('a sentence survives the trip as 20 ms frames at %i Hz', (rate) => {
    const text = 'I need to reschedule my appointment.';
    const frames = encodeUtterance(text, rate);
    expect(frames.every((f) => f.length === (rate / 50) * 2)).toBe(true);
    // 36 characters at 65 ms each.
    expect(frames).toHaveLength(Math.ceil((36 * 65) / 20));
    const { texts, voiced } = decodeAll(frames);
    expect(texts).toEqual([{ text, frames: frames.length, markerFrames: 1 }]);
    expect(voiced.every(Boolean)).toBe(true);
  });

  it('lasts at least 400 ms, or the duration asked for', () => {
    expect(encodeUtterance('Yes.', 8000)).toHaveLength(20);
    expect(utteranceDurationMs('Yes.')).toBe(400);
    expect(encodeUtterance('Yes.', 16000, 1000)).toHaveLength(50);
  });

  it('spreads a long text over several marker frames and still reads it back', () => {
    const text = 'word '.repeat(200).trim();
    const frames = encodeUtterance(text, 8000, 100);
    // 999 bytes + 4 header bytes over 158 payload samples a frame: 7 marker frames, longer than asked.
    expect(frames).toHaveLength(7);
    expect(decodeAll(frames).texts).toEqual([{ text, frames: 7, markerFrames: 7 }]);
  });

  it('carries unicode text intact', () => {
    const text = 'Hola, soy María López — ¿me oye? 你好 👋';
    expect(decodeAll(encodeUtterance(text, 16000)).texts[0]?.text).toBe(text);
  });

  it('reads consecutive utterances separated by silence, and an empty sentence', () => {
    const frames = [
      ...encodeUtterance('first one', 8000),
      silenceFrame(8000, 1),
      ...encodeUtterance('', 8000),
      silenceFrame(8000, 2),
      ...encodeUtterance('second one', 8000),
    ];
    expect(decodeAll(frames).texts.map((t) => t.text)).toEqual(['first one', '', 'second one']);
  });

  it('does not read an utterance whose first marker frame was lost', () => {
    const frames = encodeUtterance('x'.repeat(400), 8000);
    expect(decodeAll(frames.slice(1)).texts).toEqual([]);
  });

  it('tells silence from voice by energy', () => {
    for (const rate of [8000, 16000] as SampleRate[]) {
      for (let seed = 0; seed < 5; seed++) {
        const silence = silenceFrame(rate, seed);
        expect(frameRms(silence)).toBeLessThan(50);
        expect(frameRms(silence)).toBeGreaterThan(0);
        expect(isVoiced(silence)).toBe(false);
      }
      expect(isVoiced(toneFrame(rate, 0))).toBe(true);
      expect(isVoiced(Buffer.alloc(rate / 25))).toBe(false);
    }
    expect(decodeAll([silenceFrame(8000)]).voiced).toEqual([false]);
  });
});
