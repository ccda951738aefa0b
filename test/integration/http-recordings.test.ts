// Recordings over HTTP as the controller serves them: real recordings finished by the vault from WAV files,
// API tokens from the token store, the audit trail on the same database (Postgres and PGlite).
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/app/audit.ts';
import { createLogger } from '../../src/app/logger.ts';
import { RecordingsService } from '../../src/app/recordings-api.ts';
import type { Role } from '../../src/core/access.ts';
import { DrizzleAuditStore, DrizzleCallStore, DrizzleTokenStore, type Database } from '../../src/db/index.ts';
import { buildHttpServer, createMetrics } from '../../src/http/index.ts';
import { driverFixtures } from './db-fixture.ts';
import { newKeyBase64, vaultKit, withAuditLogGone, type VaultKit } from './recordings-fixture.ts';

const REASON = 'Patient complaint review, ticket 4711';
const logger = createLogger({ level: 'silent', format: 'json' });

describe.each(driverFixtures())('recordings API on $kind', (fixture) => {
  let database: Database;
  let dir: string;
  let kit: VaultKit;
  let audit: AuditTrail;
  let app: FastifyInstance;
  const tokens: Partial<Record<Role | 'none', string>> = {};

  beforeAll(async () => {
    database = await fixture.setup();
    dir = await mkdtemp(join(tmpdir(), 'callbridge-http-rec-'));
    kit = await vaultKit(database, dir, { keyBase64: newKeyBase64() });
    audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock: { now: () => new Date() }, logger });
    const tokenStore = new DrizzleTokenStore({ db: database.db });
    const expiresAt = new Date(Date.now() + 3_600_000);
    for (const role of ['manager', 'agent', 'auditor', 'admin'] as const) {
      tokens[role] = (await tokenStore.create({ name: `${role}-token`, roles: [role], expiresAt })).secret;
    }
    app = buildHttpServer({
      logger,
      callStore: new DrizzleCallStore({ db: database.db }),
      readinessChecks: [],
      metrics: createMetrics({ defaultMetrics: false }),
      apiToken: undefined,
      tokens: tokenStore,
      audit,
      recordings: new RecordingsService({ vault: kit.vault, store: kit.store, audit, logger }),
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await audit.settled();
    await fixture.teardown();
    await rm(dir, { recursive: true, force: true });
  });

  const as = (role: Role) => ({ authorization: `Bearer ${tokens[role]}` });
  const entries = async (targetId: string) => (await audit.list({ limit: 500 })).filter((e) => e.targetId === targetId).reverse();

  it('plays a recording for a manager who states a reason: the original WAV, after one audit entry naming them and the reason', async () => {
    const { row, wav } = await kit.record({ ms: 700 });
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="recording-${row.id}.wav"`);
    expect(Number(res.headers['content-length'])).toBe(wav.length);
    expect(res.rawPayload.equals(wav)).toBe(true);

    const audited = await entries(row.id);
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({ actor: 'manager-token', action: 'recording.play', targetType: 'recording', targetId: row.id, reason: REASON });
  });

  it('takes the reason from X-Access-Reason too, and streams a recording bigger than one encryption chunk', async () => {
    const { row, wav } = await kit.record({ ms: 8000 });
    expect(wav.length).toBeGreaterThan(3 * 64 * 1024);
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio`, headers: { ...as('manager'), 'x-access-reason': REASON } });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(wav)).toBe(true);
  });

  it('aborts the response when the file fails authentication further in, and audits that failure', async () => {
    const { row, wav } = await kit.record({ ms: 8000 });
    await flipByte(join(kit.storageDir, ...row.storageKey.split('/')), row.encryptedBytes - 100);
    // Over a real socket, as a browser or curl sees it: the first chunks went out under a 200 with the full
    // Content-Length, then the connection is cut, so the client knows the file is incomplete.
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const res = await fetch(`${address}/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, { headers: as('manager') });
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(wav.length);
    await expect(res.arrayBuffer()).rejects.toThrow();
    await audit.settled();
    const audited = await entries(row.id);
    expect(audited.map((e) => e.action)).toEqual(['recording.play', 'recording.play_failed']);
    expect(audited[1]?.details).toEqual({ error: 'RECORDING_TAMPERED', midStream: true });
  });

  it('refuses without a usable reason (400) or by HEAD, and writes no audit entry', async () => {
    const { row } = await kit.record();
    const none = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio`, headers: as('manager') });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toMatchObject({ error: 'reason_required' });
    const short = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=because`, headers: as('manager') });
    expect(short.statusCode).toBe(400);
    expect(short.json().message).toContain('at least 10 characters');
    const control = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent('review of call\u0007\u001b[2J')}`, headers: as('manager') });
    expect(control.statusCode).toBe(400);
    expect(control.json().message).toContain('printable');
    // HEAD would send nothing, so it is no way to an audited access either.
    const head = await app.inject({ method: 'HEAD', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(head.statusCode).toBe(404);
    expect(await entries(row.id)).toEqual([]);
  });

  it('answers 401 without a token and 403 for roles that may not play (agent, auditor, even admin)', async () => {
    const { row } = await kit.record();
    const url = `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`;
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
    for (const role of ['agent', 'auditor', 'admin'] as const) {
      const res = await app.inject({ method: 'GET', url, headers: as(role) });
      expect(res.statusCode, role).toBe(403);
      expect(res.json()).toEqual({ error: 'forbidden', message: 'Not allowed' });
    }
    expect(await entries(row.id)).toEqual([]);
  });

  it('answers 404 for an unknown recording and 400 for a malformed id', async () => {
    const unknown = await app.inject({ method: 'GET', url: `/v1/recordings/${randomUUID()}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(unknown.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/v1/recordings/${randomUUID()}`, headers: as('manager') })).statusCode).toBe(404);
    const malformed = await app.inject({ method: 'GET', url: `/v1/recordings/not-an-id/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(malformed.statusCode).toBe(400);

    // A row whose stored file is gone: 404 naming the recording only (not where it was stored), audited.
    const { row } = await kit.record();
    await kit.storage.delete(row.storageKey);
    const gone = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'not_found', message: `Recording ${row.id} not found` });
    expect((await entries(row.id)).map((e) => e.action)).toEqual(['recording.play', 'recording.play_failed']);
  });

  it('answers 409 for a tampered stored file, sends no audio, and audits the attempt and its failure', async () => {
    const { row } = await kit.record();
    await flipByte(join(kit.storageDir, ...row.storageKey.split('/')), 600);
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toContain('application/json');
    expect(res.json()).toMatchObject({ error: 'recording_tampered' });
    const audited = await entries(row.id);
    expect(audited.map((e) => e.action)).toEqual(['recording.play', 'recording.play_failed']);
    expect(audited[1]?.details).toEqual({ error: 'RECORDING_TAMPERED', midStream: false });
  });

  it('answers 500 recording_key_unavailable for a file under a master key this server does not hold', async () => {
    const other = await vaultKit(database, join(dir, 'other-key'), { keyBase64: newKeyBase64() });
    const { row } = await other.record();
    // Same rows, same storage layout, but this server's vault holds only its own key.
    const moved = join(kit.storageDir, ...row.storageKey.split('/'));
    await cp(join(other.storageDir, ...row.storageKey.split('/')), moved);
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ error: 'recording_key_unavailable' });
    expect((await entries(row.id)).map((e) => e.details.error ?? null)).toEqual([null, 'RECORDING_KEY_UNKNOWN']);
  });

  it('refuses with 503 and streams nothing when the audit log cannot be written', async () => {
    const { row } = await kit.record();
    await withAuditLogGone(database, async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/audio?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('application/json');
      expect(res.json()).toMatchObject({ error: 'audit_unavailable' });
      const hold = await app.inject({ method: 'PUT', url: `/v1/recordings/${row.id}/legal-hold`, headers: as('manager'), payload: { hold: true, reason: REASON } });
      expect(hold.statusCode).toBe(503);
      await audit.settled();
    });
    expect((await kit.store.get(row.id))?.legalHold).toBe(false);
  });

  it('lists metadata only, filters by call, and shows one recording', async () => {
    const callId = randomUUID();
    const first = await kit.record({ callId, recordedAt: new Date('2026-01-01T10:00:00Z') });
    const second = await kit.record({ callId, recordedAt: new Date('2026-01-01T10:05:00Z') });
    await kit.vault.saveTranscript(second.row.id, { results: [] }, { language: 'en', wordCount: 0, stats: {}, providerJobId: null }, []);
    const res = await app.inject({ method: 'GET', url: `/v1/recordings?callId=${callId}`, headers: as('auditor') });
    expect(res.statusCode).toBe(200);
    const list = res.json().recordings as Record<string, unknown>[];
    expect(list.map((r) => r.id)).toEqual([second.row.id, first.row.id]);
    expect(Object.keys(list[0] ?? {}).sort()).toEqual(['callId', 'channels', 'durationMs', 'hasTranscript', 'id', 'legalHold', 'recordedAt', 'retainUntil']);
    expect(list.map((r) => r.hasTranscript)).toEqual([true, false]);
    expect(list[1]).toMatchObject({ callId, channels: 2, durationMs: 500, legalHold: false, recordedAt: '2026-01-01T10:00:00.000Z', retainUntil: '2033-01-01T10:00:00.000Z' });

    const one = await app.inject({ method: 'GET', url: `/v1/recordings/${first.row.id}`, headers: as('manager') });
    expect(one.json()).toEqual(list[1]);
    expect((await app.inject({ method: 'GET', url: `/v1/recordings?limit=0`, headers: as('manager') })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/v1/recordings`, headers: as('agent') })).statusCode).toBe(403);
  });

  it('reads a transcript with a reason (audited), 404 when there is none yet', async () => {
    const { row } = await kit.record();
    const words = { results: [{ type: 'word', alternatives: [{ content: 'hello' }], channel: 'channel_1' }] };
    await kit.vault.saveTranscript(row.id, words, { language: 'en', wordCount: 1, stats: {}, providerJobId: 'job-1' }, []);
    const res = await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/transcript?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ recordingId: row.id, transcript: words });
    expect((await entries(row.id)).map((e) => [e.action, e.actor, e.reason])).toEqual([['recording.transcript', 'manager-token', REASON]]);

    expect((await app.inject({ method: 'GET', url: `/v1/recordings/${row.id}/transcript`, headers: as('manager') })).statusCode).toBe(400);
    const { row: bare } = await kit.record();
    const missing = await app.inject({ method: 'GET', url: `/v1/recordings/${bare.id}/transcript?reason=${encodeURIComponent(REASON)}`, headers: as('manager') });
    expect(missing.statusCode).toBe(404);
  });

  it('sets and clears a legal hold, each audited with its reason', async () => {
    const { row } = await kit.record();
    const put = (hold: boolean, reason: string, role: Role = 'manager') =>
      app.inject({ method: 'PUT', url: `/v1/recordings/${row.id}/legal-hold`, headers: as(role), payload: { hold, reason } });
    expect((await put(true, 'short')).statusCode).toBe(400);
    expect((await put(true, REASON, 'agent')).statusCode).toBe(403);

    const held = await put(true, 'Litigation hold, case 2026-CV-114');
    expect(held.statusCode).toBe(200);
    expect(held.json()).toMatchObject({ id: row.id, legalHold: true });
    expect((await kit.store.get(row.id))?.legalHoldReason).toBe('Litigation hold, case 2026-CV-114');

    const released = await put(false, 'Case 2026-CV-114 closed by counsel');
    expect(released.json()).toMatchObject({ legalHold: false });
    expect((await kit.store.get(row.id))?.legalHold).toBe(false);

    const audited = (await entries(row.id)).filter((e) => e.action.startsWith('recording.'));
    expect(audited.map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['recording.legal_hold', 'manager-token', 'Litigation hold, case 2026-CV-114'],
      ['recording.legal_hold_released', 'manager-token', 'Case 2026-CV-114 closed by counsel'],
    ]);
    expect((await app.inject({ method: 'PUT', url: `/v1/recordings/${randomUUID()}/legal-hold`, headers: as('manager'), payload: { hold: true, reason: REASON } })).statusCode).toBe(404);
  });
});

async function flipByte(path: string, position: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, position);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    await file.write(byte, 0, 1, position);
  } finally {
    await file.close();
  }
}
