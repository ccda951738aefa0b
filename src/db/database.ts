// Opens the durable store: real Postgres when a URL is configured, embedded PGlite otherwise (the demo
// default, and a single-box install without a database server). Both are driven by the same drizzle code;
// only opening, migrating and closing differ.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { DatabaseUnavailableError } from '../core/errors.ts';
import { schema, type Schema } from './schema.ts';

export type DrizzleDb = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  kind: 'postgres' | 'pglite';
  db: DrizzleDb;
  /** Closes the pool or the embedded database; safe to call more than once. */
  close(): Promise<void>;
  /** @internal the driver handle, for migrate() only. */
  readonly driver: { kind: 'postgres'; pool: pg.Pool } | { kind: 'pglite'; client: PGlite };
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite in `pgliteDataDir` is used. */
  url?: string;
  /** Directory for PGlite's files, or `memory://` for a throw-away in-memory database. */
  pgliteDataDir: string;
  /** Pool size for Postgres. */
  maxConnections?: number;
  /** Errors of idle pooled connections (server restart, network cut). Without a handler pg would crash the process. */
  onIdleError?: (error: Error) => void;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  return options.url === undefined ? openPglite(options.pgliteDataDir) : openPostgres(options);
}

async function openPostgres(options: OpenDatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    // A dead server must fail a query in bounded time, not hang a call's teardown.
    connectionTimeoutMillis: 5000,
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  try {
    // Fail at boot, with a clear error, rather than on the first call.
    await pool.query('select 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`Cannot connect to Postgres: ${(error as Error).message}`, { cause: error });
  }
  const db = drizzlePostgres({ client: pool, schema }) as unknown as DrizzleDb;
  return {
    kind: 'postgres',
    db,
    driver: { kind: 'postgres', pool },
    close: once(() => pool.end()),
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.includes('://')) await mkdir(dataDir, { recursive: true });
  let client: PGlite;
  try {
    client = await PGlite.create(dataDir);
  } catch (error) {
    throw new DatabaseUnavailableError(`Cannot open the embedded database in ${dataDir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const db = drizzlePglite({ client, schema }) as unknown as DrizzleDb;
  return {
    kind: 'pglite',
    db,
    driver: { kind: 'pglite', client },
    close: once(async () => {
      if (!client.closed) await client.close();
    }),
  };
}

// The first call does the work; later calls wait on the same promise (and never throw twice).
function once(fn: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= fn());
}
