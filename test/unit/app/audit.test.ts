import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AuditTrail } from '../../../src/app/audit.ts';
import { EventBus } from '../../../src/app/event-bus.ts';
import { createLogger } from '../../../src/app/logger.ts';
import type { AuditEntry, NewAuditEntry } from '../../../src/db/index.ts';

/** An audit store in memory that can be told to fail (the database gone). */
function memoryStore() {
  const entries: NewAuditEntry[] = [];
  let failing = false;
  let delays = [5, 0, 3];
  return {
    entries,
    fail(value: boolean) {
      failing = value;
    },
    async append(entry: NewAuditEntry): Promise<AuditEntry> {
      // Uneven latencies: background entries must still land in the order they were recorded.
      const delay = delays.shift() ?? 0;
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (failing) throw new Error('database unavailable');
      entries.push(entry);
      return { ...entry, seq: entries.length, targetId: null, reason: null, details: {}, prevHash: '', hash: '' };
    },
    list: async () => [],
    verify: async () => ({ ok: true, checked: 0 }),
    resetDelays(next: number[]) {
      delays = next;
    },
  };
}

function setup() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'json',
    destination: new Writable({
      write(chunk: Buffer, _e, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  });
  const store = memoryStore();
  const trail = new AuditTrail({ store, clock: { now: () => new Date('2026-11-01T00:00:00Z') }, logger });
  return { store, trail, logger, log: () => lines.join('') };
}

describe('AuditTrail', () => {
  it('records emergencies, transfers and mode changes from the event bus as the system, and nothing else', async () => {
    const { store, trail, logger } = setup();
    const bus = new EventBus(logger);
    const stop = trail.follow(bus);
    const at = new Date('2026-11-01T10:00:00Z');
    bus.publish({ type: 'CALL_STARTED', at, callId: 'c1', data: {} });
    bus.publish({ type: 'EMERGENCY_ALERT', at, callId: 'c1', data: { trigger: 'phrase' } });
    bus.publish({ type: 'CALL_TRANSFERRED', at, callId: 'c1', data: { outcome: 'bridged' } });
    bus.publish({ type: 'SYSTEM_MODE_CHANGED', at, data: { from: 'normal', to: 'ai-down', reason: 'probe' } });
    bus.publish({ type: 'SMS_SENT', at, data: {} });
    stop();
    bus.publish({ type: 'EMERGENCY_ALERT', at, callId: 'c2', data: {} });
    await trail.settled();
    expect(store.entries.map((e) => [e.actor, e.action, e.targetType, e.targetId])).toEqual([
      ['system', 'emergency.alert', 'call', 'c1'],
      ['system', 'call.transferred', 'call', 'c1'],
      ['system', 'system.mode_changed', 'system', null],
    ]);
    expect(store.entries[2]).toMatchObject({ at, details: { from: 'normal', to: 'ai-down', reason: 'probe' } });
  });

  it('a failed background append never reaches the caller: it is logged loudly and counted', async () => {
    const { store, trail, log } = setup();
    store.fail(true);
    expect(() => trail.recordInBackground({ actor: 'alice', action: 'http.request', targetType: 'http', reason: 'patient Jane Doe' })).not.toThrow();
    await trail.settled();
    expect(trail.failedAppends).toBe(1);
    expect(log()).toContain('AUDIT ENTRY NOT WRITTEN');
    expect(log()).not.toContain('Jane Doe');
    store.fail(false);
    trail.recordInBackground({ actor: 'alice', action: 'http.request', targetType: 'http' });
    await trail.settled();
    expect(store.entries).toHaveLength(1);
  });

  it('record() rejects when the entry could not be written, so access to PHI can be refused', async () => {
    const { store, trail } = setup();
    store.fail(true);
    await expect(trail.record({ actor: 'bob', action: 'recording.play', targetType: 'recording', targetId: 'r1', reason: 'billing' })).rejects.toThrow('database unavailable');
    expect(trail.failedAppends).toBe(1);
    store.fail(false);
    await expect(trail.record({ actor: 'bob', action: 'recording.play', targetType: 'recording', targetId: 'r1', reason: 'billing' })).resolves.toMatchObject({ seq: 1 });
    expect(store.entries[0]?.at).toEqual(new Date('2026-11-01T00:00:00Z'));
  });

  it('background entries land in the order they were recorded', async () => {
    const { store, trail } = setup();
    store.resetDelays([10, 0, 5, 0]);
    for (const actor of ['a', 'b', 'c', 'd']) trail.recordInBackground({ actor, action: 'http.request', targetType: 'http' });
    await trail.settled();
    expect(store.entries.map((e) => e.actor)).toEqual(['a', 'b', 'c', 'd']);
  });
});
