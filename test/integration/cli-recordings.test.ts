// `callbridge recordings …` and `callbridge retention run` as an operator runs them: separate processes on a
// Postgres scratch database shared with this test, real recordings finished by the vault, API tokens from the
// token store, real exit codes, files and pipes.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/app/audit.ts';
import { createLogger } from '../../src/app/logger.ts';
import { DrizzleAuditStore, DrizzleTokenStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { runCli } from '../support/cli.ts';
import { createScratchPostgres, type ScratchPostgres } from './db-fixture.ts';
import { newKeyBase64, vaultKit, type VaultKit } from './recordings-fixture.ts';

const REASON = 'Quality review requested by the practice manager';
const BOOTSTRAP = 'bootstrap-token-0123456789abcdef';

describe('callbridge recordings / retention CLI', () => {
  let scratch: ScratchPostgres;
  let database: Database;
  let dir: string;
  let kit: VaultKit;
  let keyBase64: string;
  let audit: AuditTrail;
  const tokens: Record<'manager' | 'agent' | 'auditor', string> = { manager: '', agent: '', auditor: '' };

  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(
      args,
      {
        DATABASE_URL: scratch.url,
        CALL_RECORDING_ENCRYPTION_KEY: keyBase64,
        RECORDING_STORAGE_DIR: kit.storageDir,
        CALLBRIDGE_API_TOKEN: BOOTSTRAP,
        LOG_LEVEL: 'warn',
        ...env,
      },
      { binaryStdout: true },
    );

  beforeAll(async () => {
    scratch = await createScratchPostgres();
    database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
    await migrate(database);
    dir = await mkdtemp(join(tmpdir(), 'callbridge-cli-rec-'));
    keyBase64 = newKeyBase64();
    kit = await vaultKit(database, dir, { keyBase64 });
    const logger = createLogger({ level: 'silent', format: 'json' });
    audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock: { now: () => new Date() }, logger });
    const tokenStore = new DrizzleTokenStore({ db: database.db });
    for (const role of ['manager', 'agent', 'auditor'] as const) {
      tokens[role] = (await tokenStore.create({ name: `cli-${role}`, roles: [role], expiresAt: new Date(Date.now() + 3_600_000) })).secret;
    }
  });
  afterAll(async () => {
    await database.close();
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports the decrypted WAV to a new 0600 file, audited with the token name and reason; never overwrites', async () => {
    const { row, wav } = await kit.record({ ms: 3000 });
    const out = join(dir, 'export.wav');
    const exported = await run(['recordings', 'export', row.id, '--reason', REASON, '--out', out], { CALLBRIDGE_API_TOKEN: tokens.manager });
    expect(exported.stderr).toContain(`wrote ${wav.length} bytes`);
    expect(exported.code).toBe(0);
    expect((await readFile(out)).equals(wav)).toBe(true);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const entries = (await audit.list({ limit: 50 })).filter((e) => e.targetId === row.id);
    expect(entries.map((e) => [e.actor, e.action, e.reason])).toEqual([['cli-manager', 'recording.play', REASON]]);

    await writeFile(out, 'mine');
    const again = await run(['recordings', 'export', row.id, '--reason', REASON, '--out', out, '--token', tokens.manager]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(await readFile(out, 'utf8')).toBe('mine');
  });

  it('plays the decrypted WAV to a pipe, and prints the transcript', async () => {
    const { row, wav } = await kit.record({ ms: 1500 });
    const played = await run(['recordings', 'play', row.id, '--reason', REASON], { CALLBRIDGE_API_TOKEN: tokens.manager });
    expect(played.stderr).toBe('');
    expect(played.code).toBe(0);
    expect(played.stdout.equals(wav)).toBe(true);

    const words = { results: [{ type: 'word', alternatives: [{ content: 'hello' }] }] };
    await kit.vault.saveTranscript(row.id, words, { language: 'en', wordCount: 1, stats: {}, providerJobId: null }, []);
    const shown = await run(['recordings', 'transcript', row.id, '--reason', REASON], { CALLBRIDGE_API_TOKEN: tokens.manager });
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout.toString('utf8'))).toEqual(words);
    const entries = (await audit.list({ limit: 50 })).filter((e) => e.targetId === row.id).reverse();
    expect(entries.map((e) => e.action)).toEqual(['recording.play', 'recording.transcript']);
  });

  it('refuses without a token and with a role that may not play: exit 1, no file, no audio, no audit entry', async () => {
    const { row } = await kit.record();
    const out = join(dir, 'denied.wav');
    const noToken = await run(['recordings', 'export', row.id, '--reason', REASON, '--out', out], { CALLBRIDGE_API_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('An API token is required');
    const agent = await run(['recordings', 'play', row.id, '--reason', REASON, '--token', tokens.agent]);
    expect(agent.code).toBe(1);
    expect(agent.stderr).toContain('does not grant recordings:play');
    expect(agent.stdout.length).toBe(0);
    await expect(stat(out)).rejects.toThrow();
    expect((await audit.list({ limit: 50 })).filter((e) => e.targetId === row.id)).toEqual([]);
  });

  it('lists, holds and releases; retention keeps the held recording and deletes the expired one (dry run first)', async () => {
    const expired = await kit.record({ recordedAt: new Date('2015-01-01T10:00:00Z') });
    const held = await kit.record({ recordedAt: new Date('2015-01-01T11:00:00Z') });

    const listed = await run(['recordings', 'list', '--json'], { CALLBRIDGE_API_TOKEN: tokens.auditor });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout.toString('utf8')) as { id: string }[]).map((r) => r.id)).toEqual(expect.arrayContaining([expired.row.id, held.row.id]));

    const hold = await run(['recordings', 'hold', held.row.id, '--reason', 'Litigation hold, case 2026-CV-114'], { CALLBRIDGE_API_TOKEN: tokens.manager });
    expect(hold.code).toBe(0);
    expect(hold.stdout.toString('utf8')).toContain('legal hold on');
    expect((await kit.store.get(held.row.id))?.legalHold).toBe(true);

    const dry = await run(['retention', 'run', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.toString('utf8')).toContain(`would delete ${expired.row.id}`);
    expect(dry.stdout.toString('utf8')).not.toContain(held.row.id);
    expect(await kit.store.get(expired.row.id)).toBeDefined();

    const real = await run(['retention', 'run']);
    expect(real.code).toBe(0);
    expect(real.stdout.toString('utf8')).toContain(`deleted ${expired.row.id}`);
    expect(await kit.store.get(expired.row.id)).toBeUndefined();
    expect(await kit.storage.exists(expired.row.storageKey)).toBe(false);
    expect(await kit.store.get(held.row.id)).toBeDefined();

    const release = await run(['recordings', 'release', held.row.id, '--reason', 'Case 2026-CV-114 closed by counsel'], { CALLBRIDGE_API_TOKEN: tokens.manager });
    expect(release.code).toBe(0);
    expect((await kit.store.get(held.row.id))?.legalHold).toBe(false);
    const actions = (await audit.list({ limit: 100 })).filter((e) => e.targetId === held.row.id || e.targetId === expired.row.id).reverse();
    expect(actions.map((e) => [e.actor, e.action])).toEqual([
      ['cli-manager', 'recording.legal_hold'],
      ['retention', 'recording.delete'],
      ['cli-manager', 'recording.legal_hold_released'],
    ]);
    expect(await audit.verify()).toMatchObject({ ok: true });
    // Six CLI processes one after another: more than the default 20 s on a busy machine.
  }, 90_000);
});
