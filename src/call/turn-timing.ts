// How long the caller waited for the agent after they stopped speaking, by stage: the engine (end of speech →
// the reply's first sentence, or the whole reply from a v1 engine), speech (→ that sentence's audio ready),
// and the command (→ its playback sent). `total` is end of speech → first audio command sent: what the caller
// waits through in silence, and what the bench reads for v1 and v2 engines alike. `streamed` says whether that
// command went out while a streaming engine (contract v2) was still generating the reply: a v1 or built-in
// reply is whole when it arrives (even read as sentences), and a v2 reply whose done came first was too.
import type { Clock } from '../core/ports.ts';
import type { CallMetrics } from './ports.ts';

interface Pending {
  /** The turn machine's turn the reply belongs to. */
  turn: number;
  endOfSpeechMs: number;
  /** The engine's reply is whole (its done, or a v1 reply). */
  complete: boolean;
  replyMs?: number;
  readyMs?: number;
}

export class TurnTimer {
  readonly #clock: Clock;
  readonly #metrics: CallMetrics;
  readonly #journal: (type: string, data: Record<string, unknown>) => void;
  #pending: Pending | undefined;

  constructor(options: { clock: Clock; metrics: CallMetrics; journal: (type: string, data: Record<string, unknown>) => void }) {
    this.#clock = options.clock;
    this.#metrics = options.metrics;
    this.#journal = options.journal;
  }

  /**
   * The caller finished a turn (speech or digits): the wait starts now. `streaming`: the engine streams its
   * replies as it generates them; otherwise the reply counts as whole from its first piece.
   */
  endOfSpeech(turn: number, streaming: boolean): void {
    this.#pending = { turn, endOfSpeechMs: this.#clock.monotonicMs(), complete: !streaming };
  }

  /** The engine has said all of `turn`'s reply. */
  complete(turn: number): void {
    if (this.#pending?.turn === turn) this.#pending.complete = true;
  }

  /** The first piece of `turn`'s reply arrived. */
  replied(turn: number): void {
    const pending = this.#pending;
    if (pending?.turn === turn && pending.replyMs === undefined) pending.replyMs = this.#clock.monotonicMs();
  }

  /** The first sentence's audio is ready (or its synthesis failed and the fallback will play). */
  ready(turn: number): void {
    const pending = this.#pending;
    if (pending?.turn === turn && pending.readyMs === undefined) pending.readyMs = this.#clock.monotonicMs();
  }

  /** The first audio command of `turn`'s reply was sent: the turn's timing is journaled, once. */
  firstAudioSent(turn: number, utterance: number): void {
    const pending = this.#pending;
    if (pending?.turn !== turn || pending.replyMs === undefined || pending.readyMs === undefined) return;
    this.#pending = undefined;
    const sentMs = this.#clock.monotonicMs();
    const stages = {
      agent: pending.replyMs - pending.endOfSpeechMs,
      tts: pending.readyMs - pending.replyMs,
      playback: sentMs - pending.readyMs,
      total: sentMs - pending.endOfSpeechMs,
    };
    for (const [stage, ms] of Object.entries(stages)) this.#metrics.turnStageSeconds.observe({ stage }, ms / 1000);
    this.#journal('turn_timing', {
      turn: utterance,
      streamed: !pending.complete,
      ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [`${k}Ms`, Math.round(v * 1000) / 1000])),
    });
  }
}
