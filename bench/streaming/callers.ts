// A simulated caller of the streaming benchmark: hears the greeting out, then, turn after turn, thinks for a
// moment, says its sentence and listens to the agent's whole reply. A reply is over when every playback
// that began after the caller spoke has stopped and nothing new has started for `quietMs` (longer than the
// engine's gap between two sentences), so the caller never speaks over a reply whether it comes as one file
// (contract v1) or one file a sentence (v2). Every moment is read on the benchmark's clock.
import { performance } from 'node:perf_hooks';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import type { PlaybackWatch } from './playback-watch.ts';

export interface CallerScript {
  turns: number;
  sentence: string;
  /** How long the caller speaks (ms): the sentence's audio is exactly this long. */
  sayMs: number;
  quietMs: number;
  /** Pause before each turn (ms), drawn from [min, max). */
  thinkMs: { min: number; max: number };
  /** The first turn comes up to this many ms later (callers do not all speak in the same 20 ms). */
  rampMs: number;
  /** A reply that has not begun this long after the caller finished speaking counts as unanswered. */
  replyTimeoutMs: number;
}

export interface CallerTurn {
  turn: number;
  /** The caller's last audio frame leaves the simulator's fork (within one 20 ms tick). */
  speechEndAt: number;
  /** The first playback of the reply began (PLAYBACK_START); undefined: unanswered. */
  firstAudioAt?: number;
  /** The reply's last playback stopped. */
  replyEndAt?: number;
  playbacks: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const POLL_MS = 5;

/** xorshift32 in [0, 1), seeded per caller: the same pauses on every run and for both contract versions. */
function pauses(seed: number): () => number {
  let x = (seed * 0x9e3779b1) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/** Waits until playbacks after index `from` have begun and all stopped, with `quietMs` of nothing since. */
async function replyHeard(call: SimulatedCall, watch: PlaybackWatch, from: number, quietMs: number, beginTimeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + beginTimeoutMs;
  for (;;) {
    const list = watch.playbacks(call.uuid);
    const now = performance.now();
    if (list.length > from) {
      const last = list[list.length - 1];
      if (last?.stoppedAt !== undefined && now - last.stoppedAt >= quietMs) return true;
    } else if (now > deadline) return false;
    await sleep(POLL_MS);
  }
}

export async function converse(call: SimulatedCall, watch: PlaybackWatch, script: CallerScript, seed: number): Promise<CallerTurn[]> {
  const next = pauses(seed);
  const turns: CallerTurn[] = [];
  if (!(await replyHeard(call, watch, 0, script.quietMs, script.replyTimeoutMs))) return turns;
  // Speech is heard only once the audio fork is open.
  const deadline = performance.now() + script.replyTimeoutMs;
  while (!call.listening && performance.now() < deadline) await sleep(POLL_MS);
  await sleep(next() * script.rampMs);
  for (let turn = 1; turn <= script.turns; turn++) {
    const { min, max } = script.thinkMs;
    await sleep(min + next() * (max - min));
    const from = watch.playbacks(call.uuid).length;
    const saidAt = performance.now();
    call.say(script.sentence, script.sayMs);
    const answered = await replyHeard(call, watch, from, script.quietMs, script.sayMs + script.replyTimeoutMs);
    const reply = watch.playbacks(call.uuid).slice(from);
    turns.push({
      turn,
      speechEndAt: saidAt + script.sayMs,
      firstAudioAt: reply[0]?.startedAt,
      replyEndAt: answered ? reply[reply.length - 1]?.stoppedAt : undefined,
      playbacks: reply.length,
    });
    if (!answered) break;
  }
  return turns;
}
