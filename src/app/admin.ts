// Administrative commands that work on the database alone: `db migrate`, `calls list`, `calls show`.
import type { CallRecord, CallState } from '../core/call.ts';
import { DrizzleCallStore, migrate, openDatabase, type Database } from '../db/index.ts';
import type { Config } from './config.ts';
import { maskPhoneNumber } from './logger.ts';

async function withDatabase<T>(config: Config, run: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir });
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

export async function migrateDatabase(config: Config): Promise<void> {
  await withDatabase(config, async (database) => {
    await migrate(database);
    process.stdout.write(`migrations applied (${database.kind})\n`);
  });
}

export async function listCalls(config: Config, options: { limit: number; state?: CallState; json?: boolean }): Promise<void> {
  await withDatabase(config, async (database) => {
    await migrate(database);
    const store = new DrizzleCallStore({ db: database.db });
    const calls = await store.listCalls({ limit: options.limit, ...(options.state ? { state: options.state } : {}) });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(calls, null, 2)}\n`);
      return;
    }
    if (calls.length === 0) {
      process.stdout.write('no calls\n');
      return;
    }
    process.stdout.write(`${formatCallTable(calls)}\n`);
  });
}

export async function showCall(config: Config, id: string, options: { json?: boolean }): Promise<number> {
  return withDatabase(config, async (database) => {
    await migrate(database);
    const store = new DrizzleCallStore({ db: database.db });
    const call = await store.getCall(id);
    if (call === undefined) {
      process.stderr.write(`no call with id ${id}\n`);
      return 1;
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify(call, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${formatCallTable([call])}\n\nevents:\n`);
    for (const event of call.events) {
      const change = event.fromState === event.toState ? '' : ` ${event.fromState ?? '-'} → ${event.toState ?? '-'}`;
      process.stdout.write(`  #${event.seq} ${event.at.toISOString()} ${event.type}${change}\n`);
    }
    return 0;
  });
}

/** A plain table for terminals. Numbers are masked: a terminal scrollback is a log too. */
export function formatCallTable(calls: readonly CallRecord[]): string {
  const rows = calls.map((call) => [
    call.id,
    call.state,
    maskPhoneNumber(call.fromNumber),
    maskPhoneNumber(call.toNumber),
    call.startedAt.toISOString(),
    call.endedAt ? `${Math.round((call.endedAt.getTime() - call.startedAt.getTime()) / 100) / 10}s` : '-',
    call.hangupCause ?? '-',
  ]);
  const header = ['id', 'state', 'from', 'to', 'started', 'duration', 'hangup cause'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
