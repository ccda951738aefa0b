// Post-call recordings: an hour-long recording encrypted, stored and verified, then decrypted as a stream,
// with wall time and the memory they take (which must not grow with the recording's length).
import { fileURLToPath } from 'node:url';
import { runInChild } from '../child.ts';
import type { RecordingBenchRequest, RecordingBenchResult } from './worker.ts';

export type { RecordingBenchRequest, RecordingBenchResult };

export type RecordingBenchOutcome = { ok: true; result: RecordingBenchResult } | { ok: false; reason: string };

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export async function runRecordingBench(request: RecordingBenchRequest): Promise<RecordingBenchOutcome> {
  // Generous: a few seconds per minute of audio on a slow disk, for the spool write and three passes.
  const seconds = request.warmupSeconds + request.lengthsSeconds.reduce((a, b) => a + b, 0);
  const timeoutMs = 60_000 + seconds * 100;
  try {
    return { ok: true, result: await runInChild<RecordingBenchRequest, RecordingBenchResult>(WORKER, request, { timeoutMs, what: 'recording benchmark' }) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
