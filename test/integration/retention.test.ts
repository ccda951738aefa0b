// Retention over real recordings (finished by the vault from WAV files) on Postgres and PGlite: what expired
// goes (files, rows, transcript), what is held or recent stays, a dry run changes nothing, every deletion is
// on the audit trail and the trail's hash chain still verifies.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/app/audit.ts';
import { createLogger } from '../../src/app/logger.ts';
import { RETENTION_SCHEDULE, retentionProcessor, runRetention, type ExpiredRecording } from '../../src/app/retention.ts';
import { DrizzleAuditStore, DrizzleOutboxStore, outbox as outboxTable, type Database, type RecordingRow } from '../../src/db/index.ts';
import { driverFixtures, type DriverFixture } from './db-fixture.ts';
import { newKeyBase64, vaultKit, withAuditLogGone, type VaultKit } from './recordings-fixture.ts';

const logger = createLogger({ level: 'silent', format: 'json' });
const NOW = new Date('2034-06-01T00:00:00Z');
const LONG_AGO = new Date('2026-03-01T09:00:00Z'); // + 7 years = 2033-03-01: expired at NOW
const RECENT = new Date('2030-03-01T09:00:00Z'); // kept until 2037

describe.each(driverFixtures())('retention on $kind', (fixture: DriverFixture) => {
  let database: Database;
  let dir: string;
  let kit: VaultKit;
  let audit: AuditTrail;

  beforeAll(async () => {
    database = await fixture.setup();
    dir = await mkdtemp(join(tmpdir(), 'callbridge-retention-'));
  });
  beforeEach(async () => {
    await database.db.execute('truncate table recordings, transcripts, outbox, audit_log');
    kit = await vaultKit(database, await mkdtemp(join(dir, 'case-')), { keyBase64: newKeyBase64() });
    audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock: { now: () => NOW }, logger });
  });
  afterAll(async () => {
    await fixture.teardown();
    await rm(dir, { recursive: true, force: true });
  });

  /** Three expired (one with a transcript), one expired on legal hold, one recent. */
  async function population(): Promise<{ expired: RecordingRow[]; held: RecordingRow; recent: RecordingRow }> {
    const expired: RecordingRow[] = [];
    for (let i = 0; i < 3; i += 1) expired.push((await kit.record({ recordedAt: new Date(LONG_AGO.getTime() + i * 60_000) })).row);
    await kit.vault.saveTranscript(expired[0]!.id, { results: [] }, { language: 'en', wordCount: 0, stats: {}, providerJobId: null }, []);
    const held = (await kit.record({ recordedAt: LONG_AGO })).row;
    await kit.store.setLegalHold(held.id, true, 'Litigation hold, case 2026-CV-114');
    const recent = (await kit.record({ recordedAt: RECENT })).row;
    return { expired, held, recent };
  }

  const run = (dryRun: boolean, seen: ExpiredRecording[] = []) =>
    runRetention({ vault: kit.vault, store: kit.store, audit, now: NOW, dryRun, batchSize: 2, logger, onRecording: (r) => seen.push(r) });

  it('deletes expired recordings with their files and transcript, keeps held and recent ones, audits each deletion', async () => {
    const { expired, held, recent } = await population();
    const transcriptKey = (await kit.store.getTranscript(expired[0]!.id))!.storageKey;
    const seen: ExpiredRecording[] = [];

    expect(await run(false, seen)).toEqual({ dryRun: false, deleted: 3, failed: 0 });
    expect(seen.map((r) => r.id).sort()).toEqual(expired.map((r) => r.id).sort());
    for (const row of expired) {
      expect(await kit.store.get(row.id)).toBeUndefined();
      expect(await kit.storage.exists(row.storageKey)).toBe(false);
    }
    expect(await kit.store.getTranscript(expired[0]!.id)).toBeUndefined();
    expect(await kit.storage.exists(transcriptKey)).toBe(false);
    for (const row of [held, recent]) {
      expect(await kit.store.get(row.id)).toBeDefined();
      expect(await kit.storage.exists(row.storageKey)).toBe(true);
    }

    const entries = (await audit.list({ limit: 100 })).reverse();
    expect(entries.map((e) => [e.actor, e.action, e.targetId])).toEqual(expired.map((r) => ['retention', 'recording.delete', r.id]));
    expect(entries[0]?.details).toEqual({ callId: expired[0]!.callId, recordedAt: expired[0]!.recordedAt.toISOString(), retainUntil: expired[0]!.retainUntil.toISOString() });
    expect(entries.every((e) => e.reason === null)).toBe(true);
    expect(await audit.verify()).toMatchObject({ ok: true, checked: 3 });

    // A second run finds nothing left to do.
    expect(await run(false)).toEqual({ dryRun: false, deleted: 0, failed: 0 });
  });

  it('a recording whose file cannot be deleted stays for the next run, audited as failed; the others still go', async () => {
    const { expired } = await population();
    const stuck = expired[1]!;
    // Its stored file replaced by a non-empty directory: the storage's delete fails for real.
    const path = join(kit.storageDir, ...stuck.storageKey.split('/'));
    await rm(path);
    await mkdir(path);
    await writeFile(join(path, 'x'), 'x');

    expect(await run(false)).toEqual({ dryRun: false, deleted: 2, failed: 1 });
    expect(await kit.store.get(stuck.id)).toBeDefined();
    for (const row of [expired[0]!, expired[2]!]) expect(await kit.store.get(row.id)).toBeUndefined();
    const entries = (await audit.list({ limit: 100 })).filter((e) => e.targetId === stuck.id).reverse();
    expect(entries.map((e) => e.action)).toEqual(['recording.delete', 'recording.delete_failed']);
    expect(entries[1]?.details.error).toBe('UNEXPECTED');
  });

  it('dry run lists what would go and changes nothing (rows, files, audit log)', async () => {
    const { expired } = await population();
    const seen: ExpiredRecording[] = [];
    expect(await run(true, seen)).toEqual({ dryRun: true, deleted: 3, failed: 0 });
    expect(seen.map((r) => r.id).sort()).toEqual(expired.map((r) => r.id).sort());
    for (const row of expired) {
      expect(await kit.store.get(row.id)).toBeDefined();
      expect(await kit.storage.exists(row.storageKey)).toBe(true);
    }
    expect(await audit.list({ limit: 10 })).toEqual([]);
  });

  it('deletes nothing when the audit log cannot be written', async () => {
    const { expired } = await population();
    await withAuditLogGone(database, () => expect(run(false)).rejects.toThrow());
    for (const row of expired) expect(await kit.storage.exists(row.storageKey)).toBe(true);
    expect((await kit.store.expired(NOW, 10)).length).toBe(3);
  });

  it('the worker processor deletes what expired by the time it runs, reports progress on the job, and clears old relayed outbox rows', async () => {
    await population();
    const outbox = new DrizzleOutboxStore(database.db);
    const job = (id: string) => ({ queue: 'webhooks', jobName: 'CALL_ENDED', jobId: id, payload: {} });
    await outbox.enqueue([job('relayed-long-ago'), job('relayed-yesterday'), job('still-pending')]);
    const rows = await outbox.pending(10);
    const id = (jobId: string) => rows.find((r) => r.jobId === jobId)!.id;
    await outbox.markRelayed([id('relayed-long-ago')], new Date(NOW.getTime() - 40 * 86_400_000));
    await outbox.markRelayed([id('relayed-yesterday')], new Date(NOW.getTime() - 86_400_000));

    const progress: unknown[] = [];
    const processor = retentionProcessor({ vault: kit.vault, store: kit.store, audit, outbox, batchSize: 10, logger, now: () => NOW });
    expect(await processor({ updateProgress: async (p) => void progress.push(p) })).toEqual({ dryRun: false, deleted: 3, failed: 0 });
    expect(progress).toEqual([1, 2, 3]);
    const left = (await database.db.select().from(outboxTable)).map((r) => r.jobId).sort();
    // The recordings' own post-call rows are still pending; of the relayed ones only yesterday's remains.
    expect(left.filter((j) => j.startsWith('relayed') || j === 'still-pending')).toEqual(['relayed-yesterday', 'still-pending']);
    expect(RETENTION_SCHEDULE).toEqual({ queue: 'maintenance', jobName: 'retention', every: 86_400_000 });
  });
});
