// Call setup, memory and concurrency: the real controller against the simulator, once per database
// (embedded PGlite, the default without DATABASE_URL; and a real Postgres server when one is reachable).
import { fileURLToPath } from 'node:url';
import { runInChild } from '../child.ts';
import type { CallBenchRequest, CallBenchResult } from './controller-worker.ts';
import { postgresReachable } from './scratch-postgres.ts';

export interface CallBenchOptions {
  warmupCalls: number;
  rounds: CallBenchRequest['rounds'];
  roundTimeoutMs: number;
  settleMs: number;
  /** Postgres server to make a scratch database on; undefined skips the Postgres run. */
  postgresAdminUrl: string | undefined;
}

export type CallBenchOutcome = { ok: true; result: CallBenchResult } | { ok: false; reason: string };

const WORKER = fileURLToPath(new URL('./controller-worker.ts', import.meta.url));

async function runOne(request: CallBenchRequest, what: string, timeoutMs: number): Promise<CallBenchOutcome> {
  try {
    return { ok: true, result: await runInChild<CallBenchRequest, CallBenchResult>(WORKER, request, { timeoutMs, what }) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export async function runCallBench(options: CallBenchOptions, progress: (line: string) => void): Promise<Record<'pglite' | 'postgres', CallBenchOutcome>> {
  const base = { warmupCalls: options.warmupCalls, rounds: options.rounds, roundTimeoutMs: options.roundTimeoutMs, settleMs: options.settleMs };
  // Every round may take its timeout three times (place+greet, hang up, release) plus start and stop.
  const timeoutMs = (options.rounds.length + 1) * options.roundTimeoutMs * 3 + 60_000;
  progress('  calls with embedded PGlite …');
  const pglite = await runOne(base, 'call benchmark (PGlite)', timeoutMs);
  let postgres: CallBenchOutcome;
  if (options.postgresAdminUrl === undefined) {
    postgres = { ok: false, reason: 'skipped (--no-postgres)' };
  } else if (!(await postgresReachable(options.postgresAdminUrl))) {
    postgres = { ok: false, reason: 'skipped: no Postgres server answered at the admin URL' };
  } else {
    progress('  calls with Postgres …');
    postgres = await runOne({ ...base, postgresAdminUrl: options.postgresAdminUrl }, 'call benchmark (Postgres)', timeoutMs);
  }
  return { pglite, postgres };
}
