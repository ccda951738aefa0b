import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioBatcher, type BatchCause } from '../../../src/voice/stt/audio-batch.ts';

/** A 20 ms frame at 16 kHz whose bytes all say `index`. */
const frame = (index: number): Buffer => Buffer.alloc(640, index);

function batcher(batchMs = 60): { batcher: AudioBatcher; sent: { frames: number[]; bytes: number; cause: BatchCause }[] } {
  const sent: { frames: number[]; bytes: number; cause: BatchCause }[] = [];
  const b = new AudioBatcher({
    batchBytes: (batchMs / 20) * 640,
    maxWaitMs: batchMs,
    send: (frames, bytes, cause) => sent.push({ frames: frames.map((f) => f[0] as number), bytes, cause }),
  });
  return { batcher: b, sent };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('AudioBatcher', () => {
  it('cuts a batch at its length and sends it at the end of the callback that completed it, not inside push', async () => {
    const { batcher: b, sent } = batcher();
    for (let i = 0; i < 7; i += 1) b.push(frame(i));
    // Whatever else runs in this callback (the voice detector) sees the frames before any STT write.
    expect(sent).toEqual([]);
    await Promise.resolve();
    expect(sent).toEqual([
      { frames: [0, 1, 2], bytes: 1920, cause: 'full' },
      { frames: [3, 4, 5], bytes: 1920, cause: 'full' },
    ]);
  });

  it('sends an unfilled batch exactly when its oldest frame has waited the batch length', async () => {
    const { batcher: b, sent } = batcher(100);
    b.push(frame(0));
    vi.advanceTimersByTime(40);
    b.push(frame(1)); // a later frame does not restart the wait
    vi.advanceTimersByTime(59);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([{ frames: [0, 1], bytes: 1280, cause: 'timer' }]);
    // A full batch cancels the wait: nothing is sent twice or late.
    for (let i = 2; i < 7; i += 1) b.push(frame(i));
    await Promise.resolve();
    vi.advanceTimersByTime(1000);
    expect(sent.slice(1)).toEqual([{ frames: [2, 3, 4, 5, 6], bytes: 3200, cause: 'full' }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flush() sends the cut batches and then the unfilled one, in the order of the audio', () => {
    const { batcher: b, sent } = batcher(40);
    for (let i = 0; i < 5; i += 1) b.push(frame(i));
    b.flush('close');
    expect(sent).toEqual([
      { frames: [0, 1], bytes: 1280, cause: 'full' },
      { frames: [2, 3], bytes: 1280, cause: 'full' },
      { frames: [4], bytes: 640, cause: 'close' },
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clear() forgets pending audio and its timer', async () => {
    const { batcher: b, sent } = batcher();
    for (let i = 0; i < 4; i += 1) b.push(frame(i));
    b.clear();
    await Promise.resolve();
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends every frame on its own when the batch is one frame long', async () => {
    const { batcher: b, sent } = batcher(20);
    b.push(frame(0));
    b.push(frame(1));
    await Promise.resolve();
    expect(sent.map((s) => s.frames)).toEqual([[0], [1]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a batch or a wait that is not positive', () => {
    const send = (): void => undefined;
    expect(() => new AudioBatcher({ batchBytes: 0, maxWaitMs: 60, send })).toThrow(RangeError);
    expect(() => new AudioBatcher({ batchBytes: 1920, maxWaitMs: 0, send })).toThrow(RangeError);
  });
});
