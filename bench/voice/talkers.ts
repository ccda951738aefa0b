// Simulated callers holding a conversation with the agent: each waits until it has heard the agent's last
// prompt to its end, thinks for a moment, says its sentence, and waits for the answer. Think times are
// spread (deterministically) so the callers do not all speak in the same 20 ms. One poller for all calls.
import { performance } from 'node:perf_hooks';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';

export interface TalkerOptions {
  text: string;
  /** Pause between hearing the agent's prompt end and speaking, ms: drawn from [min, max). */
  thinkMs: { min: number; max: number };
  /** The first sentence comes within this many ms of start() (callers start at different moments). */
  rampMs: number;
}

interface Talker {
  call: SimulatedCall;
  /** Prompts heard so far that the caller has answered (or the greeting, at the start). */
  answered: number;
  speakAtMs: number | undefined;
  said: number;
}

export class Talkers {
  readonly #talkers: Talker[];
  readonly #options: TalkerOptions;
  #random = 0x2545f491;
  #timer: NodeJS.Timeout | undefined;
  #speaking = false;

  constructor(calls: readonly SimulatedCall[], options: TalkerOptions) {
    this.#options = options;
    this.#talkers = calls.map((call) => ({ call, answered: call.playbacks.length, speakAtMs: undefined, said: 0 }));
  }

  /** Sentences said so far, by every caller. */
  get said(): number {
    return this.#talkers.reduce((sum, t) => sum + t.said, 0);
  }

  start(): void {
    const now = performance.now();
    for (const t of this.#talkers) t.speakAtMs = now + this.#next() * this.#options.rampMs;
    this.#speaking = true;
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  /** No new sentences; resolves once every caller has heard the answer to its last one (or after timeoutMs). */
  async stop(timeoutMs: number): Promise<{ unanswered: number }> {
    this.#speaking = false;
    const deadline = performance.now() + timeoutMs;
    const waiting = (): number => this.#talkers.filter((t) => t.call.playbacks.length <= t.answered && t.said > 0 && t.speakAtMs === undefined).length;
    while (waiting() > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    clearInterval(this.#timer);
    return { unanswered: waiting() };
  }

  #tick(): void {
    const now = performance.now();
    for (const t of this.#talkers) {
      const heard = t.call.playbacks.length;
      if (t.speakAtMs === undefined && heard > t.answered) {
        t.answered = heard;
        const { min, max } = this.#options.thinkMs;
        t.speakAtMs = now + min + this.#next() * (max - min);
      }
      if (this.#speaking && t.speakAtMs !== undefined && now >= t.speakAtMs) {
        t.speakAtMs = undefined;
        t.call.say(this.#options.text);
        t.said++;
      }
    }
  }

  /** xorshift32 in [0, 1): the same spread on every run. */
  #next(): number {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x >>> 0;
    return this.#random / 2 ** 32;
  }
}
