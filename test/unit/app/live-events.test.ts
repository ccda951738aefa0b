// The live stream's memory: what a reconnecting dashboard gets back for the id it last saw.
import { describe, expect, it } from 'vitest';
import type { SystemEvent } from '../../../src/core/notify-ports.ts';
import { LiveEvents } from '../../../src/app/live-events.ts';

function setup(capacity: number) {
  let publish: (event: SystemEvent) => void = () => undefined;
  const clock = { now: () => new Date('2026-11-26T10:00:00Z'), monotonicMs: () => 0 };
  const live = new LiveEvents({
    subscribe: (listener) => {
      publish = listener;
      return () => (publish = () => undefined);
    },
    calls: () => [{ callId: 'c1', state: 'answered', direction: 'inbound', location: 'clinic', startedAt: '2026-11-26T09:59:00.000Z', answeredAt: null }],
    clock,
    capacity,
  });
  const emit = (n: number) => publish({ type: 'CALL_STATE_CHANGED', at: clock.now(), callId: 'c1', data: { n } });
  return { live, emit };
}

describe('LiveEvents', () => {
  it('gives exactly the events after the last id seen, while they are all kept', () => {
    const { live, emit } = setup(3);
    const start = live.reset();
    expect(start).toMatchObject({ type: 'reset', callId: null, data: { calls: [{ callId: 'c1', state: 'answered' }] } });
    expect(live.since(start.id)).toEqual([]);
    for (let n = 1; n <= 5; n++) emit(n);
    const kept = live.since(live.reset().id.replace(/-5$/, '-2'));
    if (kept === 'gone') throw new Error('expected the kept events');
    expect(kept.map((m) => m.data.n)).toEqual([3, 4, 5]);
    expect(live.reset().id).toMatch(/-5$/);
    expect(live.since(live.reset().id)).toEqual([]);
  });

  it('says gone when some missed events were dropped, or the id is from another run or not an id at all', () => {
    const { live, emit } = setup(3);
    const other = setup(3).live.reset().id;
    const first = live.reset().id;
    for (let n = 1; n <= 5; n++) emit(n);
    expect(live.since(first)).toBe('gone');
    expect(live.since(first.replace(/-0$/, '-1'))).toBe('gone');
    expect(live.since(other.replace(/-0$/, '-4'))).toBe('gone');
    expect(live.since(first.replace(/-0$/, '-6'))).toBe('gone');
    expect(live.since('garbage')).toBe('gone');
    expect(live.since('')).toBe('gone');
  });

  it('keeps delivering to the other streams when one listener throws, and stops with close()', () => {
    const { live, emit } = setup(10);
    const got: string[] = [];
    live.subscribe(() => {
      throw new Error('socket gone');
    });
    live.subscribe((m) => got.push(m.id));
    emit(1);
    emit(2);
    expect(got).toHaveLength(2);
    expect(live.subscribers).toBe(1);
    live.close();
    emit(3);
    expect(got).toHaveLength(2);
  });
});
