// Test support for db-* and http-* integration tests: a real database per test file, on both drivers.
// Postgres: a scratch database created on the shared server and dropped afterwards, so concurrent test runs
// (and other suites using the `test` database) never see each other's rows. PGlite: in memory.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';

export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface ScratchPostgres {
  url: string;
  drop(): Promise<void>;
}

export async function createScratchPostgres(): Promise<ScratchPostgres> {
  const name = `callbridge_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface DriverFixture {
  kind: 'postgres' | 'pglite';
  /** Opens a fresh, migrated database. */
  setup(): Promise<Database>;
  teardown(): Promise<void>;
}

export function driverFixtures(): DriverFixture[] {
  return [postgresFixture(), pgliteFixture()];
}

function postgresFixture(): DriverFixture {
  let scratch: ScratchPostgres | undefined;
  let database: Database | undefined;
  return {
    kind: 'postgres',
    async setup() {
      scratch = await createScratchPostgres();
      database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
      await migrate(database);
      return database;
    },
    async teardown() {
      await database?.close();
      await scratch?.drop();
    },
  };
}

function pgliteFixture(): DriverFixture {
  let database: Database | undefined;
  return {
    kind: 'pglite',
    async setup() {
      database = await openDatabase({ pgliteDataDir: 'memory://' });
      await migrate(database);
      return database;
    },
    async teardown() {
      await database?.close();
    },
  };
}

/** Empties the call tables between tests (events go with their calls). */
export async function truncateCalls(database: Database): Promise<void> {
  await database.db.execute('truncate table calls cascade');
}
