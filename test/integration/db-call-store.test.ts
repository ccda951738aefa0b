// The CallStore contract, run against real Postgres and embedded PGlite with the same code and the same tests.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallEventRecord, CallRecord } from '../../src/core/call.ts';
import { CallNotFoundError } from '../../src/core/errors.ts';
import { DrizzleCallStore, migrate, type Database } from '../../src/db/index.ts';
import { driverFixtures, truncateCalls } from './db-fixture.ts';

function makeCall(overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    id: randomUUID(),
    fsUuid: randomUUID(),
    direction: 'inbound',
    fromNumber: '+15551234567',
    toNumber: '+15557654321',
    location: 'downtown',
    state: 'ringing',
    startedAt: new Date('2026-03-02T14:00:00.123Z'),
    answeredAt: null,
    endedAt: null,
    hangupCause: null,
    voiceQuality: null,
    ...overrides,
  };
}

function makeEvent(callId: string, seq: number, overrides: Partial<CallEventRecord> = {}): CallEventRecord {
  return {
    callId,
    seq,
    type: `event-${seq}`,
    fromState: null,
    toState: null,
    at: new Date(Date.UTC(2026, 2, 2, 14, 0, seq)),
    monotonicMs: 1000 + seq * 12.625,
    data: { seq },
    ...overrides,
  };
}

describe.each(driverFixtures())('DrizzleCallStore on $kind', (fixture) => {
  let database: Database;
  let store: DrizzleCallStore;

  beforeAll(async () => {
    database = await fixture.setup();
    store = new DrizzleCallStore({ db: database.db });
  });
  afterAll(async () => {
    await fixture.teardown();
  });
  beforeEach(async () => {
    await truncateCalls(database);
  });

  it('reports which driver it is', () => {
    expect(database.kind).toBe(fixture.kind);
  });

  it('stores a call and reads it back unchanged, with no events yet', async () => {
    const call = makeCall();
    await store.createCall(call);
    expect(await store.getCall(call.id)).toEqual({ ...call, events: [] });
  });

  it('rejects a second call with the same FreeSWITCH uuid', async () => {
    const call = makeCall();
    await store.createCall(call);
    await expect(store.createCall(makeCall({ fsUuid: call.fsUuid }))).rejects.toThrow(/unique|duplicate/i);
  });

  it('rejects a state the domain does not know', async () => {
    await expect(store.createCall(makeCall({ state: 'lost' as CallRecord['state'] }))).rejects.toThrow(
      /calls_state_check/,
    );
  });

  it('updates only the given fields', async () => {
    const call = makeCall();
    await store.createCall(call);
    const answeredAt = new Date('2026-03-02T14:00:03.500Z');
    await store.updateCall(call.id, { state: 'answered', answeredAt });
    expect(await store.getCall(call.id)).toMatchObject({ ...call, state: 'answered', answeredAt });
    const endedAt = new Date('2026-03-02T14:05:00.000Z');
    await store.updateCall(call.id, { state: 'ended', endedAt, hangupCause: 'NORMAL_CLEARING', location: null });
    expect(await store.getCall(call.id)).toEqual({
      ...call,
      state: 'ended',
      answeredAt,
      endedAt,
      hangupCause: 'NORMAL_CLEARING',
      location: null,
      events: [],
    });
  });

  it('refuses to update a call that does not exist', async () => {
    await expect(store.updateCall(randomUUID(), { state: 'ended' })).rejects.toBeInstanceOf(CallNotFoundError);
    await expect(store.updateCall('not-a-uuid', { state: 'ended' })).rejects.toBeInstanceOf(CallNotFoundError);
  });

  it('returns events ordered by seq, whatever order they were written in, with data intact', async () => {
    const call = makeCall();
    await store.createCall(call);
    const events = [
      makeEvent(call.id, 1, { type: 'created', toState: 'ringing', data: { headers: { 'Unique-ID': call.fsUuid } } }),
      makeEvent(call.id, 2, { type: 'answered', fromState: 'ringing', toState: 'answered', data: {} }),
      makeEvent(call.id, 3, { type: 'dtmf', data: { digits: '1#', nested: [1, { ok: true }], note: null } }),
    ];
    await store.appendEvent(events[2]!);
    await store.appendEvent(events[0]!);
    await store.appendEvent(events[1]!);
    const stored = await store.getCall(call.id);
    expect(stored?.events).toEqual(events);
    expect(stored?.events.map((e) => e.monotonicMs)).toEqual([1012.625, 1025.25, 1037.875]);
  });

  it('rejects an event with a seq the call already has', async () => {
    const call = makeCall();
    await store.createCall(call);
    await store.appendEvent(makeEvent(call.id, 1));
    await expect(store.appendEvent(makeEvent(call.id, 1, { type: 'again' }))).rejects.toThrow(/unique|duplicate/i);
    expect((await store.getCall(call.id))?.events).toHaveLength(1);
  });

  it('refuses events for an unknown call', async () => {
    await expect(store.appendEvent(makeEvent(randomUUID(), 1))).rejects.toBeInstanceOf(CallNotFoundError);
    await expect(store.appendEvent(makeEvent('nope', 1))).rejects.toBeInstanceOf(CallNotFoundError);
  });

  it('does not mix up events of different calls', async () => {
    const a = makeCall();
    const b = makeCall();
    await store.createCall(a);
    await store.createCall(b);
    await store.appendEvent(makeEvent(a.id, 1));
    await store.appendEvent(makeEvent(b.id, 1));
    await store.appendEvent(makeEvent(b.id, 2));
    expect((await store.getCall(a.id))?.events.map((e) => e.callId)).toEqual([a.id]);
    expect((await store.getCall(b.id))?.events.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('answers undefined for an unknown or malformed id', async () => {
    expect(await store.getCall(randomUUID())).toBeUndefined();
    expect(await store.getCall('12345')).toBeUndefined();
  });

  it('lists newest first, pages without overlap, and filters by state', async () => {
    const created: CallRecord[] = [];
    for (let i = 0; i < 7; i += 1) {
      const call = makeCall({
        startedAt: new Date(Date.UTC(2026, 2, 2, 9, i)),
        state: i % 3 === 0 ? 'ended' : 'in_conversation',
      });
      created.push(call);
      await store.createCall(call);
    }
    const newestFirst = [...created].reverse().map((c) => c.id);
    const page1 = await store.listCalls({ limit: 3 });
    const page2 = await store.listCalls({ limit: 3, offset: 3 });
    const page3 = await store.listCalls({ limit: 3, offset: 6 });
    expect([...page1, ...page2, ...page3].map((c) => c.id)).toEqual(newestFirst);
    expect(page3).toHaveLength(1);
    expect(page1[0]).toEqual(created[6]);

    const ended = await store.listCalls({ limit: 10, state: 'ended' });
    expect(ended.map((c) => c.id)).toEqual([created[6]!.id, created[3]!.id, created[0]!.id]);
    expect(await store.listCalls({ limit: 10, state: 'bridged' })).toEqual([]);
    expect(await store.listCalls({ limit: 1, offset: 1, state: 'ended' })).toEqual([created[3]]);
  });

  it('keeps a stable order for calls that started at the same instant', async () => {
    const startedAt = new Date('2026-03-02T10:00:00Z');
    for (let i = 0; i < 5; i += 1) await store.createCall(makeCall({ startedAt }));
    const all = (await store.listCalls({ limit: 5 })).map((c) => c.id);
    const paged = [
      ...(await store.listCalls({ limit: 2 })),
      ...(await store.listCalls({ limit: 2, offset: 2 })),
      ...(await store.listCalls({ limit: 2, offset: 4 })),
    ].map((c) => c.id);
    expect(paged).toEqual(all);
    expect(new Set(paged).size).toBe(5);
  });

  it('lists the calls not yet ended, oldest first, for reconciliation', async () => {
    const old = makeCall({ startedAt: new Date('2026-03-02T08:00:00Z'), state: 'bridged' });
    const done = makeCall({ startedAt: new Date('2026-03-02T08:30:00Z'), state: 'ended' });
    const fresh = makeCall({ startedAt: new Date('2026-03-02T09:00:00Z'), state: 'ringing' });
    for (const call of [fresh, done, old]) await store.createCall(call);
    expect(await store.listUnendedCalls()).toEqual([old, fresh]);
    await store.updateCall(old.id, { state: 'ended', endedAt: new Date('2026-03-02T09:10:00Z') });
    expect(await store.listUnendedCalls()).toEqual([fresh]);
  });

  it('writes a batch of several calls, their events and updates in one go', async () => {
    const a = makeCall();
    const b = makeCall();
    await store.writeBatch({
      newCalls: [a, b],
      events: [makeEvent(a.id, 1), makeEvent(b.id, 1), makeEvent(a.id, 2)],
      updates: [{ id: a.id, update: { state: 'answered', answeredAt: new Date('2026-03-02T14:00:01Z') } }],
    });
    const storedA = await store.getCall(a.id);
    expect(storedA?.state).toBe('answered');
    expect(storedA?.events.map((e) => e.seq)).toEqual([1, 2]);
    expect((await store.getCall(b.id))?.events).toHaveLength(1);
  });

  it('applies nothing of a batch when any part of it fails', async () => {
    const a = makeCall();
    await expect(
      store.writeBatch({
        newCalls: [a],
        events: [makeEvent(a.id, 1)],
        updates: [{ id: randomUUID(), update: { state: 'ended' } }],
      }),
    ).rejects.toBeInstanceOf(CallNotFoundError);
    expect(await store.getCall(a.id)).toBeUndefined();
  });

  it('pings', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('running the migrations again changes nothing', async () => {
    const call = makeCall();
    await store.createCall(call);
    await migrate(database);
    await migrate(database);
    expect(await store.getCall(call.id)).toEqual({ ...call, events: [] });
  });
});
