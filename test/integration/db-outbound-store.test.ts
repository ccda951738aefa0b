// Outbound call requests and the do-not-call list on real Postgres and embedded PGlite: created, found due,
// claimed once, rescheduled, completed once; context encrypted (never in clear); attempts feed the rate limits.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DrizzleOutboundStore, FieldCipher, type Database, type NewOutboundCall } from '../../src/db/index.ts';
import { driverFixtures } from './db-fixture.ts';

const KEY = randomBytes(32).toString('base64');
const T0 = new Date('2026-06-02T14:00:00.000Z');
const plus = (ms: number) => new Date(T0.getTime() + ms);

const request = (overrides: Partial<NewOutboundCall> = {}): NewOutboundCall => ({
  to: '+15551230001',
  purpose: 'appointment_reminder',
  context: { appointmentAt: '2026-06-03T15:00:00Z', provider: 'Dr. Lee' },
  notBefore: null,
  notAfter: new Date('2026-06-03T00:00:00Z'),
  timeZone: 'America/New_York',
  status: 'scheduled',
  scheduledAt: T0,
  ...overrides,
});

describe.each(driverFixtures())('DrizzleOutboundStore on $kind', (fixture) => {
  let database: Database;
  let store: DrizzleOutboundStore;

  beforeAll(async () => {
    database = await fixture.setup();
    store = new DrizzleOutboundStore({ db: database.db, cipher: FieldCipher.fromBase64(KEY) });
  });
  afterAll(async () => {
    await fixture.teardown();
  });
  beforeEach(async () => {
    await database.db.execute('truncate table outbound_calls, do_not_call');
  });

  it('stores a request and reads it back with its context decrypted', async () => {
    const created = await store.create(request());
    expect(created).toMatchObject({
      to: '+15551230001',
      purpose: 'appointment_reminder',
      status: 'scheduled',
      scheduledAt: T0,
      attempts: 0,
      callId: null,
      context: { appointmentAt: '2026-06-03T15:00:00Z', provider: 'Dr. Lee' },
      contextStatus: 'available',
    });
    expect(await store.get(created.id)).toEqual(created);
    expect(await store.get('not-a-uuid')).toBeUndefined();
  });

  it('keeps the context only as ciphertext, and not at all without a key', async () => {
    const created = await store.create(request());
    const raw = await database.db.execute(`select context from outbound_calls where id = '${created.id}'`);
    const stored = (raw as unknown as { rows: Array<{ context: string }> }).rows[0]?.context ?? '';
    expect(stored).toMatch(/^v2:k-[0-9a-f]{16}:/);
    expect(stored).not.toContain('Dr. Lee');

    const keyless = new DrizzleOutboundStore({ db: database.db });
    expect(await keyless.get(created.id)).toMatchObject({ context: null, contextStatus: 'unreadable' });
    const plain = await keyless.create(request());
    expect(plain).toMatchObject({ context: null, contextStatus: 'not_stored' });
  });

  it('lists due requests oldest first, not future or refused ones', async () => {
    const later = await store.create(request({ scheduledAt: plus(60_000) }));
    const first = await store.create(request({ scheduledAt: plus(-60_000) }));
    const second = await store.create(request({ scheduledAt: T0 }));
    await store.create(request({ status: 'refused', result: 'do_not_call' }));
    expect((await store.due(T0)).map((r) => r.id)).toEqual([first.id, second.id]);
    expect((await store.due(plus(60_000))).map((r) => r.id)).toEqual([first.id, second.id, later.id]);
  });

  it('claims a request once, counts the attempt, and completes it once', async () => {
    const { id } = await store.create(request());
    expect(await store.markPlacing(id, T0)).toBe(true);
    expect(await store.markPlacing(id, T0)).toBe(false);
    expect(await store.due(T0)).toEqual([]);
    expect(await store.get(id)).toMatchObject({ status: 'placing', attempts: 1, lastAttemptAt: T0 });

    const callId = '0b6c7f0e-3c53-4a43-9a4e-9e4a3c5f1d20';
    expect(await store.complete(id, { status: 'answered', callId, at: plus(5000) })).toBe(true);
    expect(await store.complete(id, { status: 'failed', result: 'late', at: plus(6000) })).toBe(false);
    expect(await store.get(id)).toMatchObject({ status: 'answered', callId, result: null, updatedAt: plus(5000) });
  });

  it('takes the word of the session on who answered, after or before the originate result', async () => {
    const callId = '0b6c7f0e-3c53-4a43-9a4e-9e4a3c5f1d20';
    const a = await store.create(request());
    await store.markPlacing(a.id, T0);
    expect(await store.noteAnswered(a.id, { callId, at: plus(1000) })).toBe(true);
    expect(await store.complete(a.id, { status: 'answered', at: plus(1500) })).toBe(false);
    expect(await store.noteAnswered(a.id, { machine: true, at: plus(4000) })).toBe(true);
    expect(await store.get(a.id)).toMatchObject({ status: 'machine', callId, timeZone: 'America/New_York' });

    const b = await store.create(request());
    expect(await store.noteAnswered(b.id, { callId, at: T0 })).toBe(false);
  });

  it('puts a failed attempt back for a retry, and the attempts feed the rate limits', async () => {
    const { id } = await store.create(request());
    await store.markPlacing(id, T0);
    expect(await store.reschedule(id, plus(600_000), { result: 'NO_ANSWER', now: plus(30_000) })).toBe(true);
    expect(await store.get(id)).toMatchObject({ status: 'scheduled', scheduledAt: plus(600_000), attempts: 1, result: 'NO_ANSWER' });
    expect(await store.due(plus(599_000))).toEqual([]);
    expect(await store.recentAttempts(plus(-60_000))).toEqual([{ to: '+15551230001', at: T0 }]);
    expect(await store.recentAttempts(plus(1))).toEqual([]);
  });

  it('refuses a live request when it comes due, not a finished one', async () => {
    const { id } = await store.create(request());
    expect(await store.refuse(id, 'do_not_call', T0)).toBe(true);
    expect(await store.get(id)).toMatchObject({ status: 'refused', result: 'do_not_call' });
    expect(await store.reschedule(id, plus(1), { now: T0 })).toBe(false);
  });

  it('keeps the do-not-call list: add (idempotent), has, list, remove', async () => {
    await store.addDoNotCall('+15551230002', { reason: 'patient asked', at: T0 });
    await store.addDoNotCall('+15551230001', { at: T0 });
    await store.addDoNotCall('+15551230001', { reason: 'asked again', at: plus(1000) });
    expect(await store.isDoNotCall('+15551230001')).toBe(true);
    expect(await store.isDoNotCall('+15559999999')).toBe(false);
    expect(await store.listDoNotCall()).toEqual([
      { number: '+15551230001', addedAt: T0, reason: 'asked again' },
      { number: '+15551230002', addedAt: T0, reason: 'patient asked' },
    ]);
    expect(await store.removeDoNotCall('+15551230001')).toBe(true);
    expect(await store.removeDoNotCall('+15551230001')).toBe(false);
    expect(await store.isDoNotCall('+15551230001')).toBe(false);
  });
});
