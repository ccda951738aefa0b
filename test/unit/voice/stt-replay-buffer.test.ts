import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../../../src/voice/stt/replay-buffer.ts';

/** A 4-byte AddAudio message whose bytes all say `value`. */
const message = (value: number, bytes = 4): Buffer => Buffer.alloc(bytes, value);
const firstBytes = (messages: Buffer[]): number[] => messages.map((m) => m[0] as number);

function sendAll(buffer: ReplayBuffer, values: number[]): void {
  for (const value of values) {
    buffer.push(message(value));
    buffer.markSent();
  }
}

describe('ReplayBuffer', () => {
  it('forgets messages once acknowledged and replays only the rest', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2, 3, 4]);
    buffer.acknowledge(3);
    expect(buffer.length).toBe(2);
    expect(buffer.consumed).toBe(12);
    expect(buffer.allAcknowledged).toBe(false);
    expect(firstBytes(buffer.newSession())).toEqual([3, 4]);
  });

  it('numbers messages per session: acknowledgements of the new session map onto the replayed messages', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2]);
    buffer.acknowledge(1);
    const replay = buffer.newSession();
    for (let i = 0; i < replay.length; i += 1) buffer.markSent();
    sendAll(buffer, [3]);
    expect(buffer.lastSentSeq).toBe(3);
    buffer.acknowledge(2); // the new session's seq 2 is message 2
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

  it('keeps messages pushed while disconnected for the next session', () => {
    const buffer = new ReplayBuffer(100);
    buffer.newSession();
    sendAll(buffer, [0]);
    buffer.push(message(1));
    buffer.push(message(2));
    expect(firstBytes(buffer.newSession())).toEqual([0, 1, 2]);
  });

  it('drops the oldest message at the bound and keeps sequence numbers aligned', () => {
    const buffer = new ReplayBuffer(12);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2]);
    expect(buffer.full).toBe(true);
    sendAll(buffer, [3]); // drops 0 (seq 1); seq 4 is message 3
    expect(buffer.dropped).toBe(1);
    buffer.acknowledge(2); // messages 0 (already dropped) and 1
    expect(firstBytes(buffer.newSession())).toEqual([2, 3]);
    expect(buffer.consumed).toBe(8);
  });

  it('stays correct across many messages (compaction)', () => {
    const buffer = new ReplayBuffer(10_000);
    buffer.newSession();
    const values = Array.from({ length: 2000 }, (_, i) => i % 256);
    sendAll(buffer, values);
    buffer.acknowledge(1990);
    expect(firstBytes(buffer.newSession())).toEqual(values.slice(1990));
    expect(buffer.bytes).toBe(40);
  });

  it('bounds audio, not messages: a long message drops as many short ones as it needs', () => {
    const buffer = new ReplayBuffer(12);
    buffer.newSession();
    sendAll(buffer, [0, 1, 2]); // three 4-byte messages: 12 bytes, full
    buffer.push(message(3, 8)); // a batch twice as long drops the two oldest
    buffer.markSent();
    expect(buffer.dropped).toBe(2);
    expect(buffer.bytes).toBe(12);
    expect(firstBytes(buffer.newSession())).toEqual([2, 3]);
    expect(buffer.consumed).toBe(8);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new ReplayBuffer(0)).toThrow(RangeError);
  });
});
