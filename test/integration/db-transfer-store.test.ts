// Transfer records on real Postgres and embedded PGlite: created at request, completed once, the latest one
// read back with its transcript decrypted; transcripts never stored in clear.
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CallNotFoundError } from '../../src/core/errors.ts';
import { DrizzleCallStore, DrizzleTransferStore, FieldCipher, type Database, type NewTransfer } from '../../src/db/index.ts';
import { driverFixtures, truncateCalls } from './db-fixture.ts';

const KEY = randomBytes(32).toString('base64');

async function newCall(database: Database): Promise<string> {
  const id = randomUUID();
  await new DrizzleCallStore({ db: database.db }).createCall({
    id,
    fsUuid: randomUUID(),
    direction: 'inbound',
    fromNumber: '+15551234567',
    toNumber: '+15557654321',
    location: 'downtown',
    state: 'in_conversation',
    startedAt: new Date('2026-03-02T14:00:00Z'),
    answeredAt: new Date('2026-03-02T14:00:01Z'),
    endedAt: null,
    hangupCause: null,
    voiceQuality: null,
  });
  return id;
}

const request = (callId: string, overrides: Partial<NewTransfer> = {}): NewTransfer => ({
  callId,
  requestedAt: new Date('2026-03-02T14:02:00.000Z'),
  targetKind: 'ring_group',
  targetName: 'billing',
  reason: 'caller asked about a bill',
  summary: 'Patient Jane asks why her March invoice is higher than expected.',
  intent: 'billing_question',
  urgency: 'normal',
  callerNumber: '+15551234567',
  transcript: [
    { speaker: 'agent', text: 'How can I help?' },
    { speaker: 'caller', text: 'My bill from March looks wrong.' },
  ],
  ...overrides,
});

describe.each(driverFixtures())('DrizzleTransferStore on $kind', (fixture) => {
  let database: Database;
  let store: DrizzleTransferStore;

  beforeAll(async () => {
    database = await fixture.setup();
    store = new DrizzleTransferStore({ db: database.db, cipher: FieldCipher.fromBase64(KEY) });
  });
  afterAll(async () => {
    await fixture.teardown();
  });
  beforeEach(async () => {
    await truncateCalls(database);
  });

  it('stores the request with its context and reads it back, transcript decrypted, outcome pending', async () => {
    const callId = await newCall(database);
    const id = await store.create(request(callId));
    expect(await store.getLatestForCall(callId)).toEqual({
      id,
      callId,
      requestedAt: new Date('2026-03-02T14:02:00.000Z'),
      bridgedAt: null,
      completedAt: null,
      outcome: null,
      targetKind: 'ring_group',
      targetName: 'billing',
      agentExtension: null,
      reason: 'caller asked about a bill',
      summary: 'Patient Jane asks why her March invoice is higher than expected.',
      intent: 'billing_question',
      urgency: 'normal',
      callerNumber: '+15551234567',
      transcript: request(callId).transcript,
      transcriptStatus: 'available',
      durationMs: null,
    });
  });

  it('never keeps the transcript in clear', async () => {
    const callId = await newCall(database);
    await store.create(request(callId));
    const result = await database.db.execute('select transcript from transfers');
    const stored = String((result as unknown as { rows: Array<{ transcript: string }> }).rows[0]?.transcript);
    expect(stored).toMatch(/^v2:k-[0-9a-f]{16}:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('March');
  });

  it('stores no transcript without a key, and says so', async () => {
    const plain = new DrizzleTransferStore({ db: database.db });
    expect(plain.storesTranscripts).toBe(false);
    const callId = await newCall(database);
    await plain.create(request(callId));
    const record = await plain.getLatestForCall(callId);
    expect(record?.transcript).toBeNull();
    expect(record?.transcriptStatus).toBe('not_stored');
    expect(record?.summary).toContain('invoice');
  });

  it('shows the rest of the context when the transcript cannot be decrypted (other key)', async () => {
    const callId = await newCall(database);
    await store.create(request(callId));
    const otherKey = new DrizzleTransferStore({ db: database.db, cipher: FieldCipher.fromBase64(randomBytes(32).toString('base64')) });
    const record = await otherKey.getLatestForCall(callId);
    expect(record?.transcriptStatus).toBe('unreadable');
    expect(record?.transcript).toBeNull();
    expect(record?.reason).toBe('caller asked about a bill');
  });

  it('completes a transfer once with agent, bridge time and the request → bridged duration', async () => {
    const callId = await newCall(database);
    const id = await store.create(request(callId));
    const bridgedAt = new Date('2026-03-02T14:02:12.345Z');
    expect(await store.complete(id, { outcome: 'bridged', agentExtension: '102', bridgedAt, completedAt: bridgedAt })).toBe(true);
    // A second outcome (say the caller hanging up later) does not overwrite the first.
    expect(await store.complete(id, { outcome: 'cancelled', completedAt: new Date('2026-03-02T14:05:00Z') })).toBe(false);
    const record = await store.getLatestForCall(callId);
    expect(record).toMatchObject({ outcome: 'bridged', agentExtension: '102', bridgedAt, completedAt: bridgedAt, durationMs: 12345 });
  });

  it('times a transfer nobody answered to when it was given up', async () => {
    const callId = await newCall(database);
    const id = await store.create(request(callId));
    await store.complete(id, { outcome: 'no_answer', completedAt: new Date('2026-03-02T14:02:45.000Z') });
    expect(await store.getLatestForCall(callId)).toMatchObject({ outcome: 'no_answer', bridgedAt: null, durationMs: 45000 });
  });

  it('answers the latest transfer of the call, not another call’s', async () => {
    const callId = await newCall(database);
    const other = await newCall(database);
    await store.create(request(callId, { targetName: 'scheduling' }));
    await store.create(request(callId, { targetName: 'billing', requestedAt: new Date('2026-03-02T14:03:00Z'), urgency: 'urgent' }));
    await store.create(request(other, { targetName: 'operator', requestedAt: new Date('2026-03-02T14:09:00Z') }));
    expect(await store.getLatestForCall(callId)).toMatchObject({ targetName: 'billing', urgency: 'urgent' });
  });

  it('answers undefined for a call without transfers or a malformed id', async () => {
    expect(await store.getLatestForCall(await newCall(database))).toBeUndefined();
    expect(await store.getLatestForCall('not-a-uuid')).toBeUndefined();
    expect(await store.complete('not-a-uuid', { outcome: 'failed', completedAt: new Date() })).toBe(false);
  });

  it('refuses a transfer for an unknown call and an urgency the domain does not know', async () => {
    await expect(store.create(request(randomUUID()))).rejects.toBeInstanceOf(CallNotFoundError);
    const callId = await newCall(database);
    await expect(store.create(request(callId, { urgency: 'whenever' as NewTransfer['urgency'] }))).rejects.toThrow(/transfers_urgency_check/);
  });

  it('after a key rotation, re-seals transcripts under the new key so the old key can go', async () => {
    const callId = await newCall(database);
    await store.create(request(callId));
    const oldKey = FieldCipher.fromBase64(KEY);
    const newKeyText = randomBytes(32).toString('base64');
    const newKey = FieldCipher.fromBase64(newKeyText);
    const rotated = new FieldCipher({ id: newKey.currentKeyId, key: Buffer.from(newKeyText, 'base64') }, [{ id: oldKey.currentKeyId, key: Buffer.from(KEY, 'base64') }]);
    const ring = new DrizzleTransferStore({ db: database.db, cipher: rotated });
    expect((await ring.getLatestForCall(callId))?.transcriptStatus).toBe('available');
    expect(await ring.resealTranscripts()).toEqual({ resealed: 1, unreadable: 0 });
    expect(await ring.resealTranscripts()).toEqual({ resealed: 0, unreadable: 0 });
    const newOnly = new DrizzleTransferStore({ db: database.db, cipher: newKey });
    expect((await newOnly.getLatestForCall(callId))?.transcript).toEqual(request(callId).transcript);
    expect((await store.getLatestForCall(callId))?.transcriptStatus).toBe('unreadable');
  });
});

describe('FieldCipher', () => {
  it('refuses keys that are not base64 of 32 bytes', () => {
    expect(() => FieldCipher.fromBase64(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => FieldCipher.fromBase64('not base64!')).toThrow(/32 bytes/);
  });

  it('opens values sealed before key ids (v1) with whichever configured key sealed them', () => {
    const key = Buffer.from(KEY, 'base64');
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from('call-a'));
    const ct = Buffer.concat([c.update('old words', 'utf8'), c.final()]);
    const v1 = ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
    const ring = new FieldCipher({ id: 'k-new', key: randomBytes(32) }, [{ id: 'k-old', key }]);
    expect(ring.decrypt(v1, 'call-a')).toBe('old words');
    expect(ring.sealedUnderOldKey(v1)).toBe(true);
    expect(() => new FieldCipher({ id: 'k-other', key: randomBytes(32) }).decrypt(v1, 'call-a')).toThrow(/no configured key/);
  });

  it('binds a ciphertext to its call: moved to another call it does not decrypt', () => {
    const cipher = FieldCipher.fromBase64(KEY);
    const value = cipher.encrypt('secret words', 'call-a');
    expect(cipher.decrypt(value, 'call-a')).toBe('secret words');
    expect(() => cipher.decrypt(value, 'call-b')).toThrow();
    expect(cipher.encrypt('secret words', 'call-a')).not.toBe(value);
  });
});
