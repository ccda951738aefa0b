// The voice pipeline under load: audio frames forwarded by the controller from mod_audio_fork's stand-in to
// the Speechmatics peer, the controller's CPU meanwhile, and end of utterance → playback command.
import { fileURLToPath } from 'node:url';
import { runInChild } from '../child.ts';
import type { VoiceBenchRequest, VoiceBenchResult } from './worker.ts';

export type { VoiceBenchRequest, VoiceBenchResult };

export type VoiceBenchOutcome = { ok: true; result: VoiceBenchResult } | { ok: false; reason: string };

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export async function runVoiceBench(request: VoiceBenchRequest): Promise<VoiceBenchOutcome> {
  // Setup and teardown may each take their timeout; the windows and drains come on top.
  const timeoutMs = 3 * request.setupTimeoutMs + (request.forwardingSeconds + request.talkingSeconds) * 1000 + 2 * request.drainMs + 60_000;
  try {
    return { ok: true, result: await runInChild<VoiceBenchRequest, VoiceBenchResult>(WORKER, request, { timeoutMs, what: 'voice benchmark' }) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
