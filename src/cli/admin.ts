// Administrative commands that work on the database alone: `db migrate`, `calls list`, `calls show`.
import type { CallRecord, CallState } from '../core/call.ts';
import { DrizzleCallStore, migrate } from '../db/index.ts';
import { textTable } from './format.ts';
import { withDatabase } from './session.ts';
import type { Config } from '../app/config.ts';
import { maskPhoneNumber } from '../app/logger.ts';

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
  return textTable(['id', 'state', 'from', 'to', 'started', 'duration', 'hangup cause'], rows);
}
