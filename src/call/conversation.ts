// One caller talking with the AI agent. The pure turn-taking machine (src/core/turn-taking.ts) decides;
// this class feeds it what happened (speech, transcripts, reply sentences as the engine streams them,
// synthesized audio, playback ends, digits) and performs what it asks for on the call's own ESL connection:
// `uuid_break <uuid> all` to stop talking over the caller, the engine's turn, one synthesis per sentence,
// `playback <file>` one sentence after the other, and the agent's actions once the last one was heard.
//
// What the caller hears is never silence: the engine answers within its deadline (a holding phrase, then
// the built-in agent, then a person), a failed synthesis plays the generic prompt, and losing the caller's
// audio (STT down, fork gone) hands the caller to a person with a sentence saying so.
//
// Transcripts are PHI: they go to the engine and nowhere else. The journal keeps lengths, turn numbers and
// timings; logs keep none of the words. The agent's side of the transcript (for the person taking over)
// holds only the sentences the caller heard to their end.
import type { Logger } from 'pino';
import type { EmergencyPhrases, EmergencyTrigger } from '../core/emergency.ts';
import type { Clock } from '../core/ports.ts';
import { initialTurnState, turnStep, type TurnCommand, type TurnInput, type TurnState } from '../core/turn-taking.ts';
import type { AgentAction, AgentReply, ConversationStart } from '../core/voice-ports.ts';
import type { ChannelControl } from '../esl/channel-control.ts';
import type { EslEvent } from '../esl/protocol/event.ts';
import type { AnsweringMachineDetector, AnsweringMachineVerdict } from '../voice/answering-machine.ts';
import { AgentReplies, basename, playbackEnd, type PlaybackEnd } from './agent-replies.ts';
import { CallAudio } from './call-audio.ts';
import type { Prompt, SpokenText } from './spoken-text.ts';
import type { ConversationVoice } from './ports.ts';

export interface HandOffRequest {
  /** `operator`, `emergency`, or a ring group id (resolved by routing). */
  name: string;
  reason: string;
  /** For the person who picks up; never journaled or logged. */
  summary: string;
}

export interface ConversationHooks {
  /** The first prompt's playback command went out (pickup). */
  onFirstPromptSent: () => void;
  /** The first prompt ended (played out or interrupted): the call can be held for the rest of the talk. */
  onGreetingDone: (interrupted: boolean) => void;
  /** The caller must go to a person (the agent asked, a digit was pressed, or the caller can't be heard). */
  onHandOff: (request: HandOffRequest) => void;
  /** The agent ended the call. */
  onHangup: (cause: string) => void;
  /** An emergency: the caller said a phrase, pressed the escape, or the agent said so. */
  onEmergency: (trigger: EmergencyTrigger) => void;
}

/** One line of the conversation as the person taking over sees it (kept in memory, for the hand-off only). */
export interface TranscriptLine {
  speaker: 'caller' | 'agent';
  text: string;
  atMs: number;
}

export interface ConversationOptions {
  callId: string;
  fsUuid: string;
  channel: ChannelControl;
  pipeline: ConversationVoice;
  start: ConversationStart;
  /** The call's way of saying fixed sentences (its TTS voice; FreeSWITCH's own only as the last resort). */
  speech: SpokenText;
  /** Asks for a person at any time. */
  operatorDigit: string;
  /** Digits that are an emergency at any time (routing's emergency escape). */
  emergencyEscape: string;
  /** Spotted in partial and final transcripts alike. */
  emergencyPhrases: EmergencyPhrases;
  /**
   * After hours (routing's urgentOffer): the agent's first words end with `prompt`, whatever engine answers,
   * and pressing `digits` hands the caller to the on-call provider at once.
   */
  urgentOffer?: { digits: string; prompt: string };
  /**
   * An outbound call: the agent waits for this detector's verdict before speaking; an answering machine gets
   * `machineMessage` and the call ends.
   */
  answeringMachine?: { detector: AnsweringMachineDetector; machineMessage: string; onVerdict: (verdict: AnsweringMachineVerdict) => void };
  /** Sends the text the agent asked for (appointment confirmations); absent → not sent, only journaled. */
  sendSms?: (request: { to: string; template: string; values: Record<string, string>; callId: string }) => void;
  clock: Clock;
  logger: Logger;
  journal: (type: string, data: Record<string, unknown>) => void;
  hooks: ConversationHooks;
}

const PLAYBACK_TIMEOUT_MS = 10 * 60 * 1000;
/** Longest an emergency waits for its "connecting you" sentence before using FreeSWITCH's own voice. */
const EMERGENCY_PROMPT_WAIT_MS = 300;

export class Conversation {
  readonly #o: ConversationOptions;
  readonly #audio: CallAudio;
  #turn: TurnState = { ...initialTurnState, phase: 'thinking' };
  /** The input whose commands are being performed. */
  #stepping: TurnInput['type'] | undefined;
  /** Inputs that arrived while another was being performed (a cached sentence is ready at once). */
  readonly #inbox: TurnInput[] = [];
  #ended = false;
  #playbackSeq = 0;
  /** The playback in progress (0: none, or it was broken); a broken one's end reports what it played. */
  #currentPlayback = 0;
  #firstPrompt: { path: string; heard: boolean } | undefined;
  #answeredAtMs: number | undefined;
  readonly #replies: AgentReplies;
  #escape = '';
  #collecting: { max: number; count: number; timeoutMs: number } | undefined;
  readonly #transcript: TranscriptLine[] = [];
  #awaitingAnswerer: boolean;
  #digitTimer: NodeJS.Timeout | undefined;

  constructor(options: ConversationOptions) {
    this.#o = options;
    const { pipeline } = options;
    this.#awaitingAnswerer = options.answeringMachine !== undefined;
    this.#replies = new AgentReplies({
      callId: options.callId,
      pipeline,
      language: options.start.language,
      speech: options.speech,
      clock: options.clock,
      logger: options.logger,
      journal: options.journal,
      state: () => this.#turn,
      step: (input) => this.#step(input),
      play: (prompt, ended, journal) => this.#play(prompt, ended, journal),
      over: () => this.#ended,
      engineFailed: (error) => this.#engineFailed(error),
    });
    this.#audio = new CallAudio({
      callId: options.callId,
      fsUuid: options.fsUuid,
      channel: options.channel,
      forks: pipeline.forks,
      forkBaseUrl: pipeline.forkBaseUrl(),
      stt: pipeline.stt,
      sttOptions: { language: options.start.language, sampleRate: 16000, vocabulary: pipeline.vocabulary },
      maxRestarts: pipeline.maxForkRestarts,
      bargeInMinSpeechMs: pipeline.bargeInMinSpeechMs,
      metrics: pipeline.metrics,
      logger: options.logger,
      journal: options.journal,
      onVoice: () => {
        // Until an outbound call's answerer is known, their "Hello?" is not an interruption.
        if (this.#awaitingAnswerer) return;
        this.#step({ type: 'voice_activity' });
      },
      ...(options.answeringMachine === undefined ? {} : { onFrame: (frame: Buffer) => this.#classifyAnswerer(frame) }),
      onStt: (event) => {
        // An outbound call's "Hello?" only tells person from machine; the agent's greeting answers it.
        if (this.#awaitingAnswerer) return;
        switch (event.type) {
          case 'partial':
            if (event.text.trim() === '' || this.#spotEmergency(event.text)) return;
            this.#step({ type: 'partial', text: event.text });
            return;
          case 'final':
            if (this.#spotEmergency(event.text)) return;
            if (event.text.trim() !== '') this.#transcript.push({ speaker: 'caller', text: event.text.trim(), atMs: this.#o.clock.monotonicMs() });
            this.#step({ type: 'final', text: event.text, confidence: event.confidence });
            return;
          case 'end_of_utterance':
            this.#replies.endOfSpeech(this.#turn.turn);
            this.#step({ type: 'end_of_utterance' });
            return;
        }
      },
      onLost: (reason) => this.#handOffWithExplanation({ name: 'operator', reason, summary: '' }, pipeline.phrases(options.start.language).cannotHear),
    });
  }

  /** At offer: the STT session and the agent's greeting are prepared while FreeSWITCH answers. */
  prepare(): void {
    this.#o.journal('conversation_started', { language: this.#o.start.language, routingRule: this.#o.start.routing.rule });
    void this.#audio.openStt();
    // An outbound call's greeting waits for the verdict: a machine gets a message, not a conversation.
    if (!this.#awaitingAnswerer) this.#greet();
  }

  #greet(): void {
    this.#replies.greet(() => this.#o.pipeline.engine.start(this.#o.start).then((reply) => withOffer(reply, this.#o.urgentOffer?.prompt)));
  }

  #classifyAnswerer(frame: Buffer): void {
    const amd = this.#o.answeringMachine;
    if (!this.#awaitingAnswerer || amd === undefined || this.#ended) return;
    const verdict = amd.detector.push(frame);
    if (verdict === undefined) return;
    this.#awaitingAnswerer = false;
    this.#o.journal('answerer', { kind: verdict.kind, reason: verdict.reason, atMs: verdict.atMs });
    amd.onVerdict(verdict);
    if (verdict.kind !== 'machine') return this.#greet();
    // A message for the machine, then goodbye: no conversation with a recording.
    this.#ended = true;
    void this.#audio.close();
    this.#sentencePrompt(amd.machineMessage)
      .then((prompt) => this.#o.channel.play(prompt, PLAYBACK_TIMEOUT_MS))
      .catch((error: unknown) => this.#o.logger.warn({ err: error }, 'answering machine message failed'))
      .finally(() => this.#o.hooks.onHangup('NORMAL_CLEARING'));
  }

  /** CHANNEL_ANSWER: the caller's audio can be forked now. */
  answered(): void {
    this.#answeredAtMs = this.#o.clock.monotonicMs();
    this.#audio.startFork();
  }

  onEslEvent(event: EslEvent): void {
    if (this.#ended) return;
    switch (event.name) {
      case 'DTMF':
        this.#onDigit(event.headers.get('DTMF-Digit') ?? '');
        return;
      case 'PLAYBACK_START': {
        const first = this.#firstPrompt;
        if (first === undefined || first.heard || event.headers.get('Playback-File-Path') !== first.path) return;
        first.heard = true;
        if (this.#answeredAtMs !== undefined) {
          const ms = this.#o.clock.monotonicMs() - this.#answeredAtMs;
          this.#o.pipeline.metrics.firstPromptSeconds.observe(ms / 1000);
          this.#o.journal('first_prompt_heard', { sinceAnswerMs: Math.round(ms) });
        }
        return;
      }
      case 'CUSTOM':
        this.#audio.onEslEvent(event);
        return;
    }
  }

  /** What was said so far, for the person who takes the call over. */
  transcript(): readonly TranscriptLine[] {
    return this.#transcript;
  }

  /**
   * An emergency takes the call from the agent: stop talking and listening, and say (unless the agent just
   * did) that a person is being connected. Resolves once that sentence is queued, so the bridge goes out
   * right behind it; never waits more than a moment for the sentence.
   */
  async interruptForEmergency(trigger: EmergencyTrigger): Promise<void> {
    this.#ended = true;
    this.#clearTimers();
    this.#breakPlayback();
    void this.#audio.close();
    if (trigger.kind === 'agent') return;
    const prompt = await this.#sentencePrompt(this.#o.pipeline.phrases(this.#o.start.language).emergency, EMERGENCY_PROMPT_WAIT_MS);
    this.#o.journal('prompt', { app: prompt.app, file: prompt.app === 'playback' ? basename(prompt.arg) : undefined, emergency: true });
    this.#o.channel.playQueued(prompt).catch((error: unknown) => this.#o.logger.warn({ err: error }, 'emergency prompt failed'));
  }

  /** True while the agent still has the caller (not handed off, not ended). */
  get active(): boolean {
    return !this.#ended;
  }

  /** Staff moved the call elsewhere: the agent lets go at once, without a word. */
  release(): void {
    this.#ended = true;
    this.#clearTimers();
    this.#breakPlayback();
    void this.#audio.close();
  }

  /** The AI is failing (failover): tell the caller and hand them to a person. */
  handOverToPeople(reason: string): void {
    this.#handOffWithExplanation({ name: 'operator', reason, summary: '' }, this.#o.pipeline.phrases(this.#o.start.language).connecting);
  }

  /** The call is over (called once, when the session releases it): stop listening and tell the engine. */
  async stop(reason: string): Promise<void> {
    this.#ended = true;
    this.#clearTimers();
    await this.#audio.close();
    // The engine hears of the end even after a hand-off: it keeps per-call state until then.
    await this.#o.pipeline.engine.end(this.#o.callId, reason).catch((error: unknown) => this.#o.logger.debug({ err: error }, 'engine end failed'));
  }

  #step(input: TurnInput): void {
    if (this.#ended) return;
    // One input at a time: one that arrives while another's commands are performed waits for them.
    this.#inbox.push(input);
    if (this.#stepping !== undefined) return;
    for (let next = this.#inbox.shift(); next !== undefined && !this.#ended; next = this.#inbox.shift()) {
      const result = turnStep(this.#turn, next, { operatorDigit: this.#o.operatorDigit });
      this.#turn = result.next;
      if (result.dropped !== undefined) this.#o.journal('turn_input_dropped', { input: next.type, reason: result.dropped });
      this.#stepping = next.type;
      for (const command of result.commands) this.#perform(command);
      this.#stepping = undefined;
    }
    this.#inbox.length = 0;
    this.#replies.stepped();
  }

  #perform(command: TurnCommand): void {
    const { pipeline } = this.#o;
    switch (command.type) {
      case 'break_playback':
        // The operator digit also stops playback; only the caller's voice is a barge-in.
        if (this.#stepping !== 'dtmf') {
          pipeline.metrics.bargeInsTotal.inc();
          this.#o.journal('barge_in', { turn: this.#replies.nextUtterance });
        }
        this.#breakPlayback();
        return;
      case 'ask_agent':
        this.#replies.ask(command.turn, { text: command.text, confidence: command.confidence, partial: false, ...(command.dtmf === '' ? {} : { dtmf: command.dtmf }) }, command.interrupted);
        return;
      case 'synthesize':
        this.#replies.synthesize(command.turn, command.sentence, command.text, command.ssml);
        return;
      case 'play':
        this.#replies.play(command.turn, command.sentence, { app: 'playback', arg: command.path });
        return;
      case 'play_fallback_prompt':
        this.#replies.play(command.turn, command.sentence, undefined);
        return;
      case 'sentence_heard':
        this.#transcript.push({ speaker: 'agent', text: command.text.trim(), atMs: this.#o.clock.monotonicMs() });
        return;
      case 'reply_spoken':
        this.#o.journal('reply_spoken', { turn: this.#replies.utteranceOf(command.turn), sentences: command.sentences, heard: command.heard, end: command.end });
        return;
      case 'perform':
        for (const action of command.actions) this.#act(action);
        return;
    }
  }

  #engineFailed(error: unknown): void {
    // The resilient engine answers even when every engine fails; this is the last line of defence.
    this.#o.logger.error({ err: error }, 'conversation engine failed');
    this.#handOffWithExplanation({ name: 'operator', reason: 'the conversation engine failed', summary: '' }, this.#o.pipeline.phrases(this.#o.start.language).connecting);
  }

  #clearTimers(): void {
    clearTimeout(this.#digitTimer);
    this.#replies.close();
  }

  #act(action: AgentAction): void {
    if (this.#ended) return;
    switch (action.type) {
      case 'transfer':
        this.#handOff({ name: action.target, reason: action.reason, summary: action.summary });
        return;
      case 'emergency':
        this.#emergency({ kind: 'agent', reason: action.reason });
        return;
      case 'hangup':
      case 'end_conversation':
        this.#o.journal('agent_ended_call', { action: action.type });
        this.#ended = true;
        this.#o.hooks.onHangup('NORMAL_CLEARING');
        return;
      case 'send_sms': {
        // Recorded without the number or the values; a withheld number gets nothing.
        const sent = action.to !== '' && this.#o.sendSms !== undefined;
        this.#o.journal('sms_requested', { template: action.template, withheld: action.to === '', sent });
        if (sent) this.#o.sendSms?.({ to: action.to, template: action.template, values: action.values, callId: this.#o.callId });
        return;
      }
      case 'collect_digits':
        this.#collecting = { max: action.max, count: 0, timeoutMs: action.timeoutMs };
        this.#armDigitTimer();
        return;
    }
  }

  #onDigit(digit: string): void {
    if (!/^[0-9*#A-D]$/.test(digit)) return;
    this.#escape = (this.#escape + digit).slice(-8);
    if (this.#escape.endsWith(this.#o.emergencyEscape)) {
      this.#o.journal('dtmf', { kind: 'emergency_escape' });
      this.#emergency({ kind: 'dtmf' });
      return;
    }
    const urgent = this.#o.urgentOffer?.digits;
    if (urgent !== undefined && this.#escape.endsWith(urgent)) {
      this.#o.journal('dtmf', { kind: 'urgent' });
      // Like the operator digit, it cuts the agent off; the on-call provider is dialled without a word more.
      this.#breakPlayback();
      this.#handOff({ name: 'on_call', reason: 'caller pressed the urgent digits after hours', summary: 'Urgent clinical question after hours.' });
      return;
    }
    this.#o.journal('dtmf', { kind: digit === this.#o.operatorDigit ? 'operator' : 'digit' });
    this.#step({ type: 'dtmf', digit });
    // Digits end the caller's turn at once, unless the agent asked for several and more are coming.
    const collecting = this.#collecting;
    if (collecting === undefined) return this.#digitsDone();
    collecting.count++;
    if (collecting.count >= collecting.max) this.#digitsDone();
    else this.#armDigitTimer();
  }

  #armDigitTimer(): void {
    clearTimeout(this.#digitTimer);
    const collecting = this.#collecting;
    if (collecting === undefined) return;
    this.#digitTimer = setTimeout(() => this.#digitsDone(), collecting.timeoutMs);
  }

  #digitsDone(): void {
    clearTimeout(this.#digitTimer);
    this.#collecting = undefined;
    this.#replies.endOfSpeech(this.#turn.turn);
    this.#step({ type: 'end_of_utterance' });
  }

  #play(prompt: Prompt, ended: (end: PlaybackEnd) => void, journal: Record<string, unknown>): void {
    const id = ++this.#playbackSeq;
    this.#currentPlayback = id;
    const first = this.#firstPrompt === undefined;
    if (first) this.#firstPrompt = { path: prompt.arg, heard: false };
    this.#o.journal('prompt', { app: prompt.app, file: prompt.app === 'playback' ? basename(prompt.arg) : undefined, ...journal });
    const done = this.#o.channel.play(prompt, PLAYBACK_TIMEOUT_MS);
    if (first) this.#o.hooks.onFirstPromptSent();
    done.then(
      (complete) => {
        const broken = this.#currentPlayback !== id;
        if (!broken) this.#currentPlayback = 0;
        const end = playbackEnd(complete, broken);
        if (first) this.#o.hooks.onGreetingDone(end.failed || broken);
        if (!this.#ended) ended(end);
      },
      (error: unknown) => {
        if (this.#ended || this.#o.channel.closed) return;
        this.#o.logger.warn({ err: error }, 'prompt playback failed');
        const broken = this.#currentPlayback !== id;
        if (!broken) this.#currentPlayback = 0;
        if (first) this.#o.hooks.onGreetingDone(true);
        ended({ broken, failed: true, playedMs: undefined });
      },
    );
  }

  #breakPlayback(): void {
    if (this.#currentPlayback === 0) return;
    this.#currentPlayback = 0;
    this.#replies.broke();
    this.#command('uuid_break', this.#o.channel.breakAll(this.#o.fsUuid));
  }

  /** True (and the emergency raised) when `text` holds an emergency phrase. */
  #spotEmergency(text: string): boolean {
    if (this.#ended) return true;
    const found = this.#o.emergencyPhrases.find(text);
    if (found === undefined) return false;
    this.#emergency({ kind: 'phrase', ...found });
    return true;
  }

  #emergency(trigger: EmergencyTrigger): void {
    if (this.#ended) return;
    this.#o.journal('emergency_detected', { trigger: trigger.kind, ...(trigger.kind === 'phrase' ? { language: trigger.language, phrase: trigger.index } : {}) });
    this.#o.hooks.onEmergency(trigger);
  }

  #handOff(request: HandOffRequest): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#clearTimers();
    this.#o.journal('hand_off', { to: request.name, reason: request.reason, summaryChars: request.summary.length });
    void this.#audio.close();
    this.#o.hooks.onHandOff(request);
  }

  /** Says why (the caller must not wonder what happened), then hands off once it has been said. */
  #handOffWithExplanation(request: HandOffRequest, sentence: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#clearTimers();
    void this.#audio.close();
    this.#breakPlayback();
    const handOff = (): void => {
      this.#o.journal('hand_off', { to: request.name, reason: request.reason, summaryChars: 0 });
      this.#o.hooks.onHandOff(request);
    };
    this.#sentencePrompt(sentence)
      .then((prompt) => {
        const id = ++this.#playbackSeq;
        this.#currentPlayback = id;
        if (this.#firstPrompt === undefined) {
          this.#firstPrompt = { path: prompt.arg, heard: false };
          this.#o.hooks.onFirstPromptSent();
        }
        return this.#o.channel.play(prompt, PLAYBACK_TIMEOUT_MS);
      })
      .catch((error: unknown) => this.#o.logger.warn({ err: error }, 'explanation prompt failed'))
      .finally(handOff);
  }

  /**
   * A fixed sentence of ours as something FreeSWITCH plays: the cached recording (straight from memory when
   * this process has seen it), or, when synthesis fails or takes longer than `waitMs`, FreeSWITCH's own
   * voice saying the same words.
   */
  #sentencePrompt(sentence: string, waitMs?: number): Promise<Prompt> {
    return this.#o.speech.prompt(sentence, waitMs);
  }

  #command(verb: string, sent: Promise<unknown>): void {
    sent.catch((error: unknown) => {
      if (!this.#ended && !this.#o.channel.closed) this.#o.logger.warn({ err: error, command: verb }, 'conversation command failed');
    });
  }
}

/** The agent's first words with the on-call offer after them (inside the SSML when the reply is SSML). */
function withOffer(reply: AgentReply, offer: string | undefined): AgentReply {
  if (offer === undefined) return reply;
  if (reply.say.trim() === '') return { ...reply, say: offer, ssml: false };
  if (reply.ssml === true) {
    const escaped = offer.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const closing = reply.say.lastIndexOf('</speak>');
    if (closing >= 0) return { ...reply, say: `${reply.say.slice(0, closing)} ${escaped}${reply.say.slice(closing)}` };
  }
  return { ...reply, say: `${reply.say.trim()} ${offer}` };
}
