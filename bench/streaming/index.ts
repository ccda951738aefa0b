// AI engine contract v1 against v2 in one run: how soon after the caller stops speaking the controller sends
// the reply's first audio (a v2 engine streams its sentences; a v1 engine answers once the whole reply is
// ready), with the same engine, callers and words for both.
import { fileURLToPath } from 'node:url';
import { runInChild } from '../child.ts';
import type { StreamingBenchRequest, StreamingBenchResult } from './worker.ts';

export type { StreamingBenchRequest, StreamingBenchResult };

export type StreamingBenchOutcome = { ok: true; result: StreamingBenchResult } | { ok: false; reason: string };

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Longest a caller's turn may take: its sentence, the engine, the reply's audio and the pauses. */
const TURN_MS = 15_000;

export async function runStreamingBench(request: StreamingBenchRequest): Promise<StreamingBenchOutcome> {
  // Per version: setup, the warm-up turn, every caller's turns, the read-back; then teardown.
  const perVersion = 3 * request.setupTimeoutMs + (request.missTurns + request.cachedTurns + 1) * TURN_MS;
  const timeoutMs = request.versions.length * perVersion + 60_000;
  try {
    return { ok: true, result: await runInChild<StreamingBenchRequest, StreamingBenchResult>(WORKER, request, { timeoutMs, what: 'streaming benchmark' }) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
