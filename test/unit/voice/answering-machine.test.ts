// Person or machine from synthetic callee audio: speech-like frames from the simulator's spoken-audio codec,
// silence as line noise, and a generated beep.
import { describe, expect, it } from 'vitest';
import { encodeUtterance, samplesPerFrame, silenceFrame, type SampleRate } from '../../../src/simulator/spoken-audio.ts';
import { AnsweringMachineDetector, classifyAnswer } from '../../../src/voice/answering-machine.ts';

const speech = (rate: SampleRate, text: string, ms: number) => encodeUtterance(text, rate, ms);
const silence = (rate: SampleRate, ms: number) => Array.from({ length: Math.round(ms / 20) }, (_, i) => silenceFrame(rate, i));

/** A steady sine of `hz` for `ms`, in 20 ms frames that join up. */
function beep(rate: SampleRate, hz: number, ms: number, amplitude = 9000): Buffer[] {
  const n = samplesPerFrame(rate);
  return Array.from({ length: Math.round(ms / 20) }, (_, f) => {
    const frame = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) frame.writeInt16LE(Math.round(amplitude * Math.sin((2 * Math.PI * hz * (f * n + i)) / rate)), i * 2);
    return frame;
  });
}

describe.each([8000, 16000] as const)('answering-machine detection at %i Hz', (rate) => {
  const classify = (frames: Buffer[]) => classifyAnswer(frames, { sampleRate: rate });

  it('a short "Hello?" then silence is a person, decided 0.8 s into the silence', () => {
    expect(classify([...silence(rate, 300), ...speech(rate, 'Hello?', 600), ...silence(rate, 2000)])).toEqual({
      kind: 'human',
      reason: 'short_greeting',
      atMs: 300 + 600 + 800,
    });
  });

  it('two short words with a pause between still make a short greeting', () => {
    const frames = [...speech(rate, 'Hi,', 400), ...silence(rate, 400), ...speech(rate, 'yes?', 500), ...silence(rate, 1000)];
    expect(classify(frames)).toMatchObject({ kind: 'human', atMs: 400 + 400 + 500 + 800 });
  });

  it('a long greeting is a machine as soon as it passes 3 s, even with pauses between sentences', () => {
    const frames = [
      ...speech(rate, "Hi, you've reached the Garcias.", 2000),
      ...silence(rate, 500),
      ...speech(rate, 'Please leave a message.', 2000),
      ...silence(rate, 2000),
    ];
    const verdict = classify(frames);
    expect(verdict).toMatchObject({ kind: 'machine', reason: 'long_greeting' });
    expect(verdict.atMs).toBeGreaterThan(3000);
    expect(verdict.atMs).toBeLessThanOrEqual(3100);
  });

  it('a 1 kHz beep of 400 ms is a machine, decided after 300 ms of it', () => {
    expect(classify([...silence(rate, 1000), ...beep(rate, 1000, 400), ...silence(rate, 1000)])).toEqual({
      kind: 'machine',
      reason: 'beep',
      atMs: 1300,
    });
  });

  it('a beep after a medium greeting is a machine', () => {
    const frames = [...speech(rate, 'Leave a message after the tone.', 2000), ...silence(rate, 300), ...beep(rate, 1400, 500)];
    expect(classify(frames)).toMatchObject({ kind: 'machine', reason: 'beep', atMs: 2600 });
  });

  it('tones that are too short or outside 1–2 kHz are not a beep', () => {
    expect(classify([...beep(rate, 1000, 200), ...silence(rate, 6000)]).kind).not.toBe('machine');
    expect(classify([...beep(rate, 440, 600), ...silence(rate, 6000)])).toMatchObject({ kind: 'human' });
    if (rate === 16000) expect(classify([...beep(rate, 3000, 600), ...silence(rate, 6000)])).toMatchObject({ kind: 'human' });
  });

  it('a gliding tone (not steady) is not a beep', () => {
    const n = samplesPerFrame(rate);
    let phase = 0;
    const glide = Array.from({ length: 25 }, (_, f) => {
      const hz = 1000 + f * 40;
      const frame = Buffer.alloc(n * 2);
      for (let i = 0; i < n; i++) {
        phase += (2 * Math.PI * hz) / rate;
        frame.writeInt16LE(Math.round(9000 * Math.sin(phase)), i * 2);
      }
      return frame;
    });
    expect(classify([...glide, ...silence(rate, 6000)]).reason).not.toBe('beep');
  });

  it('silence all along is unknown at the timeout', () => {
    expect(classify(silence(rate, 8000))).toEqual({ kind: 'unknown', reason: 'timeout', atMs: 5000 });
  });

  it('a greeting between 1.5 and 3 s then silence is left unknown', () => {
    expect(classify([...speech(rate, 'Hello, this is Maria speaking.', 2200), ...silence(rate, 5000)])).toMatchObject({ kind: 'unknown' });
  });

  it('keeps its verdict once given', () => {
    const detector = new AnsweringMachineDetector({ sampleRate: rate });
    const frames = [...speech(rate, 'Hello?', 500), ...silence(rate, 800)];
    let verdict;
    for (const frame of frames) verdict = detector.push(frame);
    expect(verdict).toMatchObject({ kind: 'human' });
    for (const frame of speech(rate, 'This is a long answering machine greeting.', 4000)) detector.push(frame);
    expect(detector.verdict).toEqual(verdict);
  });
});
