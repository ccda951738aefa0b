// The agent's side of one conversation: asking the engine (a streamed reply when it can, contract v2; a whole
// reply otherwise), feeding each piece to the turn machine as it arrives, one synthesis per sentence, and
// each sentence's playback with how it ended, so the turn machine knows what the caller heard. The
// conversation (conversation.ts) owns the turn machine and the call; this does the engine and TTS work it
// asks for, and journals it: lengths, files and timings, never the words.
import type { Logger } from 'pino';
import type { Clock } from '../core/ports.ts';
import { wantsReply, type TurnInput, type TurnState } from '../core/turn-taking.ts';
import type { AgentReply, AgentReplyChunk, ConversationTurn, InterruptedReply } from '../core/voice-ports.ts';
import type { EslEvent } from '../esl/protocol/event.ts';
import type { Prompt, SpokenText } from './spoken-text.ts';
import { TurnTimer } from './turn-timing.ts';
import type { ConversationVoice } from './ports.ts';

/** How a playback ended: played out, or broken by us, with what FreeSWITCH reports it played. */
export interface PlaybackEnd {
  broken: boolean;
  /** FreeSWITCH did not play the file (FILE NOT FOUND, PLAYBACK ERROR), or the command itself failed. */
  failed: boolean;
  /** FreeSWITCH's playback_ms for it; undefined when it did not report one. */
  playedMs: number | undefined;
}

/**
 * A playback's end from its CHANNEL_EXECUTE_COMPLETE. Only `FILE PLAYED` reached the caller; switch_ivr_play_file
 * sets playback_ms (the samples it read from the file, in ms) before PLAYBACK_STOP, also when uuid_break cut
 * it (Playback-Status: break, Application-Response still FILE PLAYED). A playback that never started (FILE
 * NOT FOUND) leaves the previous one's value on the channel, so only a played file's figure counts.
 */
export function playbackEnd(complete: EslEvent, broken: boolean): PlaybackEnd {
  if (complete.headers.get('Application-Response') !== 'FILE PLAYED') return { broken, failed: true, playedMs: undefined };
  const ms = Number(complete.headers.get('variable_playback_ms'));
  return { broken, failed: false, playedMs: Number.isFinite(ms) && ms >= 0 ? ms : undefined };
}

export interface AgentRepliesOptions {
  callId: string;
  pipeline: ConversationVoice;
  language: string;
  speech: SpokenText;
  clock: Clock;
  logger: Logger;
  journal: (type: string, data: Record<string, unknown>) => void;
  /** The turn machine: what it is in, and an input for it. */
  state: () => TurnState;
  step: (input: TurnInput) => void;
  /** Plays a prompt on the call, reporting how it ended. */
  play: (prompt: Prompt, ended: (end: PlaybackEnd) => void, journal: Record<string, unknown>) => void;
  /** The conversation is over: nothing more is fed to the turn machine. */
  over: () => boolean;
  /** No engine answered at all. */
  engineFailed: (error: unknown) => void;
}

/**
 * Longest the caller's next turn waits for FreeSWITCH to report how much of the sentence they cut played
 * (it comes with the broken playback's end, milliseconds after uuid_break); then our own clock's estimate.
 */
const CUT_REPORT_WAIT_MS = 1000;

export class AgentReplies {
  readonly #o: AgentRepliesOptions;
  readonly #timer: TurnTimer;
  /** Caller utterances sent to the agent so far (the journal's turn numbers; 0 is the greeting). */
  #utterances = 0;
  /** The turn machine's turn of the last question to the engine, its utterance number, and when it went. */
  #asked = { turn: 0, utterance: 0, atMs: 0 };
  /** The reply sentence playing: when its command went out, for estimating how much of it was heard. */
  #playing: { turn: number; sentence: number; sentAtMs: number } | undefined;
  /** The sentence the caller cut, with our own clock's estimate of how much of it they heard. */
  #cutEstimate: { turn: number; sentence: number; ms: number } | undefined;
  #cutTimer: NodeJS.Timeout | undefined;

  constructor(options: AgentRepliesOptions) {
    this.#o = options;
    this.#timer = new TurnTimer({ clock: options.clock, metrics: options.pipeline.metrics, journal: options.journal });
  }

  /** The journal's number for the caller's next utterance. */
  get nextUtterance(): number {
    return this.#utterances + 1;
  }

  /** The caller finished a turn (speech or digits) for turn machine turn `turn`. */
  endOfSpeech(turn: number): void {
    this.#timer.endOfSpeech(turn, this.#o.pipeline.engineStreams);
  }

  /** The agent's first words (always a whole reply). */
  greet(request: () => Promise<AgentReply>): void {
    this.#asked = { turn: 0, utterance: 0, atMs: this.#o.clock.monotonicMs() };
    this.#askWhole(0, 0, request);
  }

  /**
   * The caller's turn to the engine, read as a stream. Every engine the pipeline builds has turnStream: the
   * resilient wrapper, the built-in agent, and the HTTP client under either contract (on v2 it streams; on v1
   * its whole reply comes as that stream's chunks, and `interrupted` stays off the wire, as v1's closed schema
   * would refuse it). An engine without turnStream is asked with `turn`, its reply one sentence.
   */
  ask(turn: number, request: ConversationTurn, interrupted: InterruptedReply | undefined): void {
    const { engine } = this.#o.pipeline;
    const utterance = ++this.#utterances;
    this.#asked = { turn, utterance, atMs: this.#o.clock.monotonicMs() };
    this.#o.journal('caller_turn', { turn: utterance, chars: request.text.length, confidence: request.confidence, digits: request.dtmf?.length ?? 0 });
    if (interrupted !== undefined) {
      const cut = interrupted.cut;
      this.#o.journal('reply_heard', { turn: utterance, played: interrupted.played.length, cut: cut !== null, ...(cut === null ? {} : { cutMs: cut.playedMs }), unplayed: interrupted.unplayed });
    }
    if (engine.turnStream === undefined) {
      this.#askWhole(turn, utterance, () => engine.turn(this.#o.callId, request));
      return;
    }
    let stream: AsyncIterable<AgentReplyChunk>;
    try {
      stream = engine.turnStream(this.#o.callId, interrupted === undefined ? request : { ...request, interrupted });
    } catch (error) {
      this.#o.engineFailed(error);
      return;
    }
    void this.#read(turn, utterance, stream);
  }

  /**
   * One sentence of a reply to a file FreeSWITCH plays. Each sentence is its own request (and cache entry), so
   * the first plays while the next are still being synthesized. Google's streamingSynthesize would hand us
   * audio before a sentence is whole, but it is a gRPC bidirectional stream, which the REST transport we use
   * for Google TTS does not offer; a sentence is the unit of synthesis instead.
   */
  synthesize(turn: number, sentence: number, text: string, ssml: boolean): void {
    const { pipeline, language } = this.#o;
    const request = { text, ssml, voice: pipeline.voiceFor(language), language, sampleRate: pipeline.sampleRate };
    const utterance = this.#utteranceOf(turn);
    // A prompt already in the cache plays at once, without waiting for the event loop to come round.
    const known = pipeline.tts.knownPath(request);
    if (known !== undefined) {
      if (sentence === 0) this.#timer.ready(turn);
      this.#o.journal('sentence_speech', { turn: utterance, sentence, file: basename(known), cached: true, ms: 0 });
      this.#o.step({ type: 'speech_ready', turn, sentence, path: known });
      return;
    }
    const startedMs = this.#o.clock.monotonicMs();
    const tookMs = (): number => Math.round(this.#o.clock.monotonicMs() - startedMs);
    const failed = (): void => {
      this.#o.journal('sentence_speech', { turn: utterance, sentence, failed: true, ms: tookMs() });
      this.#o.step({ type: 'speech_failed', turn, sentence });
    };
    pipeline.tts.synthesize(request).then(
      (speech) => {
        if (sentence === 0) this.#timer.ready(turn);
        // The recorded generic prompt instead of these words: the sentence was not said.
        if (speech.fallback === true) return failed();
        this.#o.journal('sentence_speech', { turn: utterance, sentence, file: basename(speech.path), cached: speech.cached, durationMs: speech.durationMs, ms: tookMs() });
        this.#o.step({ type: 'speech_ready', turn, sentence, path: speech.path });
      },
      (error: unknown) => {
        if (sentence === 0) this.#timer.ready(turn);
        this.#o.logger.warn({ err: error }, 'speech synthesis failed; playing the generic prompt');
        failed();
      },
    );
  }

  /** A sentence of the reply (`prompt` undefined: the fallback in its place); its end goes to the turn machine. */
  play(turn: number, sentence: number, prompt: Prompt | undefined): void {
    const { pipeline, language } = this.#o;
    // The recorded prompt if there is one, else the holding phrase (cached at start, in the call's voice).
    const said = prompt ?? pipeline.fallbackPrompt() ?? this.#o.speech.ready(pipeline.holdingPhrase(language));
    this.#playing = { turn, sentence, sentAtMs: this.#o.clock.monotonicMs() };
    this.#o.play(
      said,
      (end) => {
        if (!end.broken) return this.#o.step({ type: end.failed ? 'playback_failed' : 'playback_finished', turn, sentence });
        // A cut file that never played was heard for 0 ms, whatever our clock says.
        const playedMs = end.failed ? 0 : (end.playedMs ?? this.#estimate(turn, sentence));
        this.#o.step({ type: 'playback_stopped', turn, sentence, playedMs });
      },
      { turn: this.#utteranceOf(turn), sentence },
    );
    if (sentence === 0) this.#timer.firstAudioSent(turn, this.#utteranceOf(turn));
  }

  /** The conversation broke the playback in progress (barge-in): how much of the sentence went out, by our clock. */
  broke(): void {
    const playing = this.#playing;
    if (playing !== undefined) this.#cutEstimate = { turn: playing.turn, sentence: playing.sentence, ms: Math.round(this.#o.clock.monotonicMs() - playing.sentAtMs) };
  }

  /**
   * After each step of the turn machine: a turn held back for FreeSWITCH's report of the cut sentence does
   * not wait for it forever; after a moment it goes with our own clock's estimate (command sent → uuid_break).
   */
  stepped(): void {
    if (this.#o.state().waiting === undefined || this.#cutTimer !== undefined || this.#o.over()) return;
    this.#cutTimer = setTimeout(() => {
      this.#cutTimer = undefined;
      const state = this.#o.state();
      const draft = state.interrupted;
      if (state.waiting === undefined || !draft?.cut) return;
      this.#o.logger.warn('FreeSWITCH did not report how much of the interrupted sentence played; using our estimate');
      this.#o.step({ type: 'playback_stopped', turn: draft.turn, sentence: draft.cut.sentence, playedMs: this.#estimate(draft.turn, draft.cut.sentence) });
    }, CUT_REPORT_WAIT_MS);
  }

  /** The journal's utterance number of a turn machine turn. */
  utteranceOf(turn: number): number {
    return this.#utteranceOf(turn);
  }

  close(): void {
    clearTimeout(this.#cutTimer);
    this.#cutTimer = undefined;
  }

  /** A whole reply (the greeting, or a v1 engine's turn); dropped by the turn machine if the caller moved on. */
  #askWhole(turn: number, utterance: number, request: () => Promise<AgentReply>): void {
    request().then(
      (reply) => {
        this.#timer.replied(turn);
        this.#timer.complete(turn);
        this.#o.journal('agent_reply', { turn: utterance, chars: reply.say.length, sentences: reply.say.trim() === '' ? 0 : 1, actions: reply.actions.map((a) => a.type), streamed: false });
        this.#o.step({ type: 'agent_reply', turn, say: reply.say, ssml: reply.ssml ?? false, actions: reply.actions });
      },
      (error: unknown) => this.#o.engineFailed(error),
    );
  }

  /**
   * A streamed reply, piece by piece into the turn machine as it arrives. Reading stops (closing the stream)
   * once the turn machine no longer wants it: the caller took the next turn and what they missed was sent.
   */
  async #read(turn: number, utterance: number, stream: AsyncIterable<AgentReplyChunk>): Promise<void> {
    let sentences = 0;
    let chars = 0;
    let actions: string[] = [];
    try {
      for await (const chunk of stream) {
        if (this.#o.over()) return;
        this.#timer.replied(turn);
        if (chunk.type === 'sentence') {
          this.#o.journal('agent_sentence', { turn: utterance, sentence: sentences++, chars: chunk.text.length, afterMs: Math.round(this.#o.clock.monotonicMs() - this.#asked.atMs) });
          chars += chunk.text.length;
        }
        if (chunk.type === 'actions') actions = [...actions, ...chunk.actions.map((a) => a.type)];
        if (chunk.type === 'done') this.#timer.complete(turn);
        this.#o.step({ type: 'reply_chunk', turn, chunk });
        if (chunk.type === 'done') {
          this.#o.journal('agent_reply', { turn: utterance, chars, sentences, actions, streamed: true });
          return;
        }
        if (!wantsReply(this.#o.state(), turn)) return;
      }
    } catch (error) {
      if (this.#o.over()) return;
      this.#o.logger.warn({ err: error, sentences }, 'conversation engine reply stream failed');
    }
    if (this.#o.over()) return;
    this.#o.journal('agent_reply_failed', { turn: utterance, sentences });
    // Nothing said at all is an engine that failed; otherwise what was said stands.
    if (sentences === 0 && turn === this.#o.state().turn) this.#o.engineFailed(new Error('the reply stream ended without a sentence or done'));
    else this.#o.step({ type: 'reply_failed', turn });
  }

  #estimate(turn: number, sentence: number): number {
    const estimate = this.#cutEstimate;
    return estimate?.turn === turn && estimate.sentence === sentence ? estimate.ms : 0;
  }

  #utteranceOf(turn: number): number {
    return this.#asked.turn === turn ? this.#asked.utterance : this.#utterances;
  }
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
