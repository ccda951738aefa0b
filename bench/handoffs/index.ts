// Hand-offs under load: emergency trigger → bridge command with many conversations escalating at once, and
// many simultaneous warm transfers (request → bridged in the simulator).
import { fileURLToPath } from 'node:url';
import { runInChild } from '../child.ts';
import type { HandoffBenchRequest, HandoffBenchResult } from './worker.ts';

export type { HandoffBenchRequest, HandoffBenchResult };

export type HandoffBenchOutcome = { ok: true; result: HandoffBenchResult } | { ok: false; reason: string };

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export async function runHandoffBench(request: HandoffBenchRequest): Promise<HandoffBenchOutcome> {
  // Four setups (warm-up, two phases, read-back) and two bridge waits at most, plus teardown.
  const timeoutMs = 4 * request.setupTimeoutMs + 2 * request.bridgeTimeoutMs + 60_000;
  try {
    return { ok: true, result: await runInChild<HandoffBenchRequest, HandoffBenchResult>(WORKER, request, { timeoutMs, what: 'hand-off benchmark' }) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
