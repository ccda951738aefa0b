// Opening, migrating and closing both drivers, and how failures reach the caller.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/core/call.ts';
import { DatabaseUnavailableError } from '../../src/core/errors.ts';
import { DrizzleCallStore, MIGRATIONS_FOLDER, migrate, openDatabase } from '../../src/db/index.ts';
import { createScratchPostgres, driverFixtures, type ScratchPostgres } from './db-fixture.ts';

const call = (): CallRecord => ({
  id: randomUUID(),
  fsUuid: randomUUID(),
  direction: 'outbound',
  fromNumber: '+15550001111',
  toNumber: '+15552223333',
  location: null,
  state: 'ringing',
  startedAt: new Date('2026-01-05T12:00:00Z'),
  answeredAt: null,
  endedAt: null,
  hangupCause: null,
  voiceQuality: null,
});

describe('openDatabase', () => {
  it('fails with DatabaseUnavailableError when Postgres cannot be reached', async () => {
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    const attempt = openDatabase({ url: 'postgres://postgres@127.0.0.1:1/test', pgliteDataDir: 'unused' });
    await expect(attempt).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(attempt).rejects.toMatchObject({ retryable: true, code: 'DATABASE_UNAVAILABLE' });
  });

  it('keeps embedded data on disk across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callbridge-pglite-'));
    try {
      const record = call();
      const first = await openDatabase({ pgliteDataDir: join(dir, 'nested', 'pglite') });
      await migrate(first);
      await new DrizzleCallStore({ db: first.db }).createCall(record);
      await first.close();

      const second = await openDatabase({ pgliteDataDir: join(dir, 'nested', 'pglite') });
      await migrate(second);
      expect(await new DrizzleCallStore({ db: second.db }).getCall(record.id)).toEqual({ ...record, events: [] });
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.each(driverFixtures())('Database on $kind', (fixture) => {
  it('closes once however often close() is called, and then refuses work as unavailable', async () => {
    const database = await fixture.setup();
    try {
      const store = new DrizzleCallStore({ db: database.db });
      await store.ping();
      await Promise.all([database.close(), database.close()]);
      await database.close();
      await expect(store.ping()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await fixture.teardown();
    }
  });

  it('does not put the phone numbers of a failed write into the error message', async () => {
    const database = await fixture.setup();
    try {
      const store = new DrizzleCallStore({ db: database.db });
      const record = call();
      await store.createCall(record);
      const error = (await store.createCall({ ...record, id: randomUUID() }).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(Error);
      expect(error.message).not.toContain('5550001111');
      expect(error.message).not.toContain('5552223333');
    } finally {
      await fixture.teardown();
    }
  });
});

describe('migrate on Postgres', () => {
  let scratch: ScratchPostgres;
  beforeAll(async () => {
    scratch = await createScratchPostgres();
  });
  afterAll(async () => {
    await scratch.drop();
  });

  it('lets several controllers start at once: one migrates, the others find nothing to do', async () => {
    const databases = await Promise.all(
      [1, 2, 3].map(() => openDatabase({ url: scratch.url, pgliteDataDir: 'unused' })),
    );
    try {
      await Promise.all(databases.map((d) => migrate(d)));
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      try {
        const applied = await client.query('select count(*)::int as n from drizzle.__drizzle_migrations');
        // Each migration of sql/ applied exactly once, however many controllers raced.
        const journal = JSON.parse(await readFile(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
        expect(applied.rows[0]).toEqual({ n: journal.entries.length });
        const tables = await client.query(
          "select table_name from information_schema.tables where table_schema = 'public' order by 1",
        );
        expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(['api_tokens', 'audit_log', 'call_events', 'calls', 'do_not_call', 'external_call_events', 'outbound_calls', 'outbox', 'recordings', 'transcripts', 'transfers']);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(databases.map((d) => d.close()));
    }
  });
});
