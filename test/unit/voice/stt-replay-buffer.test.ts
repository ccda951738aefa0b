import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../../src/voice/stt/replay-buffer.ts';

const frame = (value: number): Buffer => Buffer.alloc(4, value);
const firstBytes = (frames: Buffer[]): number[] => frames.map((f) => f[0] as number);

function sendAll(buffer: ReplayBuffer, values: number[]): void {
  for (const value of values) {
    buffer.push(frame(value));
    buffer.markSent();
  }
}

describe('ReplayBuffer', () => {
  it('forgets frames once acknowledged and replays only the rest', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2, 3, 4]);
    buffer.acknowledge(3);
    expect(buffer.length).toBe(2);
    expect(buffer.consumed).toBe(12);
    expect(buffer.allAcknowledged).toBe(false);
    expect(firstBytes(buffer.newSession())).toEqual([3, 4]);
  });

  it('numbers frames per session: acknowledgements of the new session map onto the replayed frames', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2]);
    buffer.acknowledge(1);
    const replay = buffer.newSession();
    for (let i = 0; i < replay.length; i += 1) buffer.markSent();
    sendAll(buffer, [3]);
    expect(buffer.lastSentSeq).toBe(3);
    buffer.acknowledge(2); // the new session's seq 2 is frame 2
    expect(firstBytes(buffer.newSession())).toEqual([3]);
  });

  it('ignores stale or repeated acknowledgements', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2]);
    buffer.acknowledge(2);
    buffer.acknowledge(2);
    buffer.acknowledge(1);
    expect(buffer.length).toBe(1);
    buffer.acknowledge(10); // never beyond what was sent
    expect(buffer.length).toBe(0);
    expect(buffer.allAcknowledged).toBe(true);
  });

  it('keeps frames pushed while disconnected for the next session', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0]);
    buffer.push(frame(1));
    buffer.push(frame(2));
    expect(firstBytes(buffer.newSession())).toEqual([0, 1, 2]);
  });

  it('drops the oldest frame at the bound and keeps sequence numbers aligned', () => {
    const buffer = new ReplayBuffer(3);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2]);
    expect(buffer.full).toBe(true);
    sendAll(buffer, [3]); // drops 0 (seq 1); seq 4 is frame 3
    expect(buffer.dropped).toBe(1);
    buffer.acknowledge(2); // frames 0 (already dropped) and 1
    expect(firstBytes(buffer.newSession())).toEqual([2, 3]);
    expect(buffer.consumed).toBe(8);
  });

  it('stays correct across many frames (compaction)', () => {
    const buffer = new ReplayBuffer(10_000);
    buffer.newSession();
    const values = Array.from({ length: 2000 }, (_, i) => i % 256);
    sendAll(buffer, values);
    buffer.acknowledge(1990);
    expect(firstBytes(buffer.newSession())).toEqual(values.slice(1990));
    expect(buffer.bytes).toBe(40);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new ReplayBuffer(0)).toThrow(RangeError);
  });
});
