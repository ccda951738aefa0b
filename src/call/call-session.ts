// One call, from the moment FreeSWITCH hands it to us on the outbound socket until every resource it held is
// released. The session translates ESL events into state-machine inputs, performs the machine's commands on
// the call's own connection, and journals every state change. It owns: the ESL connection, its listeners,
// its timers, and its place in the registry; `#release()` frees all of them exactly once, whatever order
// things happen in (caller hangs up while we answer, the socket drops, FreeSWITCH restarts). Where the call
// goes when it leaves the agent (hand-offs, staff transfers, emergencies) is CallHandOffs' job.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CallRecord, CallState } from '../core/call.ts';
import { initialCallState, transition, type CallCommand, type CallInput, type CallMachineState } from '../core/call-machine.ts';
import type { CallPlan } from '../core/call-plan.ts';
import type { EmergencyTrigger } from '../core/emergency.ts';
import type { Clock } from '../core/ports.ts';
import type { RoutingDecision } from '../core/routing/types.ts';
import { assessVoiceQuality, type VoiceQuality } from '../core/voice-quality.ts';
import { ChannelControl } from '../esl/channel-control.ts';
import type { DisconnectDisposition, EslConnection } from '../esl/connection.ts';
import type { EslEvent } from '../esl/protocol/event.ts';
import type { CallJournal } from './journal.ts';
import type { Conversation, ConversationHooks, HandOffRequest } from './conversation.ts';
import type { RegisteredCall } from './registry.ts';
import { performCallCommand, startRecording } from './call-commands.ts';
import { inputData, summarizeDecision } from './session-journal.ts';
import { ANNOUNCEMENT_WAIT_MS, SpokenText, type TtsVoice } from './spoken-text.ts';
import { CallHandOffs, type EscalationResult, type HandOffPolicy, type TransferEnded } from './call-handoffs.ts';
import { UrgentOfferListener } from './urgent-offer.ts';

export type { EmergencyEscalation, EscalationResult, HandOffDial, TransferRecorder, WarmPlan, WarmTransferRunner } from './call-handoffs.ts';

export interface CallSessionSettings {
  greetingSound: string;
  recordingsDir: string;
  /** Longest a greeting may play before we stop waiting for its completion (ms). */
  greetingTimeoutMs: number;
  /** After the call ended, how long we wait for HANGUP_COMPLETE before we say `exit` anyway (ms). */
  lingerGraceMs: number;
  /** MOS under which a call's audio counts as poor. */
  voiceQualityThreshold: number;
  /** False when recordings cannot be encrypted (no key): the call is then not recorded at all. Default true. */
  recordCalls?: boolean;
  /** After hours: how long the caller has to press the on-call digits once the offer was said (ms). Default 5 s. */
  urgentOfferTimeoutMs?: number;
}

export type CallOutcome = 'completed' | 'abandoned' | 'failed' | 'handed_to_dialplan';

/** Time to the greeting's playback command being written, in ms. */
export interface Pickup {
  /** From FreeSWITCH's socket being accepted: includes FreeSWITCH's `connect` reply and our queueing. */
  sinceAcceptMs: number;
  /** From the channel data being read: the controller's own processing. */
  sinceChannelDataMs: number;
}

export interface CallSessionHooks {
  /** How fast the caller was greeted: see Pickup. */
  onPickup?: (pickup: Pickup) => void;
  onEnded?: (outcome: CallOutcome, session: CallSession) => void;
  /** Every event of this call as it arrives (event-lag metric). */
  onEslEvent?: (event: EslEvent) => void;
  /** The caller's audio quality, read at hangup (calls with RTP only). */
  onVoiceQuality?: (quality: VoiceQuality) => void;
  /** A transfer ended: the caller was bridged, or every target (and fallback) failed; ms since the request. */
  onTransfer?: TransferEnded;
  /** FreeSWITCH closed a recording file of this call (RECORD_STOP). */
  onRecordingStopped?: (path: string, session: CallSession) => void;
}

/** What a conversation needs from the call it belongs to. */
export interface ConversationCall {
  callId: string;
  fsUuid: string;
  channel: ChannelControl;
  decision: RoutingDecision;
  fromNumber: string;
  toNumber: string;
  logger: Logger;
  journal: (type: string, data: Record<string, unknown>) => void;
  hooks: ConversationHooks;
  /** How this call says sentences: TTS in its language, FreeSWITCH's own voice only as the last resort. */
  speech: SpokenText;
  /** Set for a call our dialer placed (the conversation first tells person from answering machine). */
  outboundId?: string;
}

/** Calls the outbound dialer placed come back through FreeSWITCH's `socket` like any other. */
export interface OutboundCalls {
  /** The AI's plan for a follow-up call of this purpose. */
  route(purpose: string): { decision: RoutingDecision; plan: CallPlan };
}

/** The hand-off fields (resolveHandOff, emergency, transfers, warmTransfer) are described in HandOffPolicy. */
export interface CallSessionOptions extends Omit<HandOffPolicy, 'onTransfer'> {
  connection: EslConnection;
  channelData: EslEvent;
  /**
   * Decides where the call goes from its facts (the live routing): when the call arrives, and again with the
   * digits the caller pressed for the after-hours on-call offer.
   */
  routeCall: (facts: { from: string; to: string; at: Date; digits?: string }) => { decision: RoutingDecision; plan: CallPlan };
  /** performance.now() (the system clock's monotonic source) when FreeSWITCH's socket was accepted. */
  acceptedAtMs: number;
  journal: CallJournal;
  clock: Clock;
  logger: Logger;
  settings: CallSessionSettings;
  hooks?: CallSessionHooks;
  /** The AI conversation of a call routed to the agent; absent (or undefined) without a voice pipeline. */
  startConversation?: (call: ConversationCall) => Conversation | undefined;
  outbound?: OutboundCalls;
  /** TTS for what the caller is told (the routing file's announcements); without it FreeSWITCH's own voice says it. */
  tts?: TtsVoice | undefined;
}

const HANGUP_EVENTS = new Set(['CHANNEL_HANGUP', 'CHANNEL_HANGUP_COMPLETE']);
// `myevents` covers the channel's life cycle and DTMF, not these; on a myevents connection an extra
// subscription is still limited to our own channel.
const EXTRA_EVENTS = [
  'RECORD_START',
  'RECORD_STOP',
  'PLAYBACK_START',
  'CUSTOM',
  'mod_audio_fork::connect_failed',
  'mod_audio_fork::disconnect',
  'mod_audio_fork::buffer_overrun',
];

export class CallSession implements RegisteredCall {
  readonly callId = randomUUID();
  readonly fsUuid: string;
  readonly record: CallRecord;
  readonly #connection: EslConnection;
  /** The typed verbs over the call's connection. */
  readonly #channel: ChannelControl;
  readonly #journal: CallJournal;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #settings: CallSessionSettings;
  readonly #hooks: CallSessionHooks;
  readonly #routeCall: CallSessionOptions['routeCall'];
  readonly #startConversation: CallSessionOptions['startConversation'];
  readonly #handOffs: CallHandOffs;
  readonly #outbound: OutboundCalls | undefined;
  /** Our dialer's id for this call, when we placed it (the channel variable callbridge_outbound_id). */
  readonly #outboundId: string | undefined;
  #recording = false;
  #recordingSkipped = false;
  /** Bridges sent so far: a bridge that returns after a newer one was sent says nothing about the newer one. */
  #bridges = 0;
  #decision: RoutingDecision | undefined;
  readonly #tts: TtsVoice | undefined;
  #speech: SpokenText | undefined;
  #conversation: Conversation | undefined;
  /** The after-hours on-call offer listening for the caller's digits (calls without the AI). */
  #urgentOffer: UrgentOfferListener | undefined;
  readonly #offeredAtMs: number;
  readonly #channelData: EslEvent['headers'];
  readonly #channelDataAtMs: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #machine: CallMachineState = initialCallState;
  #seq = 0;
  #hangupComplete = false;
  #released: Promise<void> | undefined;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(options: CallSessionOptions) {
    this.#connection = options.connection;
    this.#channel = new ChannelControl(options.connection);
    this.#journal = options.journal;
    this.#clock = options.clock;
    this.#settings = options.settings;
    this.#hooks = options.hooks ?? {};
    this.#routeCall = options.routeCall;
    this.#startConversation = options.startConversation;
    this.#outbound = options.outbound;
    this.#tts = options.tts;
    const outboundId = options.channelData.headers.get('variable_callbridge_outbound_id');
    this.#outboundId = outboundId !== undefined && /^[0-9a-f-]{36}$/i.test(outboundId) ? outboundId : undefined;
    this.#offeredAtMs = options.acceptedAtMs;
    this.#channelDataAtMs = this.#clock.monotonicMs();
    const data = options.channelData.headers;
    this.#channelData = data;
    this.fsUuid = options.channelData.uniqueId ?? data.get('Channel-Call-UUID') ?? 'unknown';
    this.#logger = options.logger.child({ callId: this.callId, fsUuid: this.fsUuid });
    this.record = {
      id: this.callId,
      fsUuid: this.fsUuid,
      direction: data.get('Call-Direction') === 'outbound' ? 'outbound' : 'inbound',
      fromNumber: data.get('Caller-Caller-ID-Number') ?? data.get('Channel-Caller-ID-Number') ?? '',
      toNumber: data.get('Caller-Destination-Number') ?? data.get('Channel-Destination-Number') ?? '',
      location: null,
      state: 'ringing',
      startedAt: this.#clock.now(),
      answeredAt: null,
      endedAt: null,
      hangupCause: null,
      voiceQuality: null,
    };
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#handOffs = this.#newHandOffs(options);
  }

  get state(): CallState {
    return this.#machine.state;
  }

  /** Listeners this session still has on its connection (0 once released; for leak checks). */
  connectionListeners(): number {
    const c = this.#connection;
    return c.listenerCount('event') + c.listenerCount('disconnectNotice') + c.listenerCount('close');
  }

  /** Resolves once the call has ended and every resource is released. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** Starts handling the call. Commands go out before any database write so pickup is not held up by I/O. */
  start(): void {
    const connection = this.#connection;
    connection.on('event', this.#onEvent);
    connection.on('disconnectNotice', this.#onDisconnectNotice);
    connection.on('close', this.#onClose);
    this.#journal.create(this.record);
    // Written back to back with the first commands; their replies come in the same order.
    this.#background('myevents', connection.myevents());
    this.#background('event', connection.subscribe('plain', EXTRA_EVENTS));
    this.#background('linger', connection.linger());
    // If this controller goes away mid-call, FreeSWITCH's dialplan carries on to its fallback (a human).
    this.#background('resume', connection.resume());
    let routed: ReturnType<CallSessionOptions['routeCall']>;
    try {
      const purpose = this.#channelVariable('callbridge_purpose') ?? 'follow_up';
      routed =
        this.#outboundId !== undefined && this.#outbound !== undefined
          ? this.#outbound.route(purpose)
          : this.#routeCall({ from: this.record.fromNumber, to: this.record.toNumber, at: this.record.startedAt });
    } catch (error) {
      // A routing bug must not drop the caller: answer and keep them with the controller, on record.
      this.#logger.error({ err: error }, 'routing failed; answering the call without a decision');
      this.#apply({ type: 'offered', plan: { kind: 'converse', record: true, announcement: null } }, { routingError: (error as Error).message });
      return;
    }
    const { decision, plan } = routed;
    this.#decision = decision;
    this.record.location = decision.location;
    // The announcement is said before anything else. When its TTS file is not cached yet (TTS was down when
    // routing loaded), the answer waits for it, briefly: FreeSWITCH runs what we send in order, so the
    // greeting or the bridge sent after it still follows it.
    const notice = plan.kind === 'reject' || this.#settings.recordCalls === false ? null : plan.announcement;
    if (notice === null || this.#spoken().now(notice) !== undefined) return this.#offer(decision, plan);
    void this.#spoken().prompt(notice, ANNOUNCEMENT_WAIT_MS).then(() => {
      // The caller may have hung up (or staff ended the call) meanwhile.
      if (this.#machine.state === 'ringing' && this.#machine.plan === null && !this.#connection.closed) this.#offer(decision, plan);
    });
  }

  #offer(decision: RoutingDecision, plan: CallPlan): void {
    // Prepared before the answer goes out: the STT handshake and the agent's greeting overlap the answer.
    if (plan.kind === 'converse' && decision.target.kind === 'ai_agent') this.#conversation = this.#newConversation(decision);
    this.#conversation?.prepare();
    this.#apply({ type: 'offered', plan }, { route: summarizeDecision(decision), ...(this.#outboundId ? { outboundId: this.#outboundId } : {}) });
    if (decision.location !== null) this.#journal.update(this.callId, { location: decision.location });
    // A leg we originated reaches us already answered: no CHANNEL_ANSWER will come.
    if (this.#channelVariable('Answer-State', false) === 'answered') this.#onAnswered();
  }

  /** The call's way of saying sentences, in the dialled number's language. */
  #spoken(): SpokenText {
    this.#speech ??= new SpokenText({
      voice: this.#tts,
      language: this.#decision?.language ?? 'en-US',
      logger: this.#logger,
      onFlite: (reason) => this.#journalEvent('tts_fallback', this.state, this.state, { reason }),
    });
    return this.#speech;
  }

  /**
   * Registry contract (controller shutdown): let go of the call without hanging up on the caller. The session
   * sent `resume`, so FreeSWITCH continues its dialplan after the `socket` application (the fallback to the
   * human ring group). The call row stays open: whichever controller resyncs next re-attaches it or ends it.
   */
  async close(reason: string): Promise<void> {
    if (this.#machine.state !== 'ended' && !this.#connection.closed) {
      this.#logger.info({ reason }, 'handing the call back to the FreeSWITCH dialplan');
      this.#journalEvent('handed_to_dialplan', this.state, this.state, { reason });
    }
    await this.#release(reason);
  }

  #apply(input: CallInput, data: Record<string, unknown> = {}): void {
    const result = transition(this.#machine, input);
    if (!result.ok) {
      this.#logger.warn({ input: input.type, state: result.from, reason: result.reason }, 'illegal call transition');
      this.#journalEvent(`illegal:${input.type}`, result.from, result.from, { reason: result.reason, ...data });
      return;
    }
    this.#machine = result.next;
    this.#journalEvent(input.type, result.from, result.to, { ...inputData(input), ...data });
    if (result.from !== result.to) this.#journalStateChange(result.to);
    this.#handOffs.timeTransfer(input, result.to);
    for (const command of result.commands) this.#perform(command);
  }

  #perform(command: CallCommand): void {
    // Not recorded (no key to protect it): not announced as recorded either.
    if ((command.type === 'start_recording' || command.type === 'announce') && !this.#recordCalls()) return;
    const bridge = command.type === 'bridge' ? ++this.#bridges : this.#bridges;
    performCallCommand(command, {
      channel: this.#channel,
      fsUuid: this.fsUuid,
      answered: this.record.answeredAt !== null,
      recordingPath: this.#recordingPath(),
      greetingSound: this.#settings.greetingSound,
      greetingTimeoutMs: this.#settings.greetingTimeoutMs,
      // The agent's own first words are the greeting; the conversation reports when they go out.
      conversationGreets: this.#conversation !== undefined,
      greetingSent: () => this.#reportPickup(),
      greetingEnded: (interrupted, data) => {
        // A greeting cut off by the caller's hangup completes after the call ended: nothing to do.
        if (this.#machine.state === 'answered' && !this.#connection.closed) this.#apply({ type: 'greeting_finished', interrupted }, data);
      },
      bridgeReturned: (cause) => {
        // A bridge that returns while we are still transferring never connected the caller.
        if (this.#machine.state === 'transferring' && bridge === this.#bridges) this.#apply({ type: 'transfer_failed', cause });
      },
      ended: () => this.#afterEnd(),
      say: (text) => this.#spoken().ready(text),
      urgentOffer: (offer) => this.#offerOnCall(offer),
      background: (what, promise) => this.#background(what, promise),
      failed: (what, error) => this.#backgroundFailed(what, error),
    });
  }

  readonly #onEvent = (event: EslEvent): void => {
    if (event.uniqueId !== undefined && event.uniqueId !== this.fsUuid) return;
    this.#hooks.onEslEvent?.(event);
    const headers = event.headers;
    switch (event.name) {
      case 'CHANNEL_ANSWER':
        this.#onAnswered();
        return;
      case 'CHANNEL_BRIDGE':
        this.#handOffs.bridgedTo(headers.get('Other-Leg-Unique-ID'));
        this.#apply({ type: 'bridged', otherLegUuid: headers.get('Other-Leg-Unique-ID') ?? '' });
        return;
      case 'CHANNEL_UNBRIDGE':
        if (this.#machine.state === 'bridged') this.#apply({ type: 'unbridged' });
        return;
      case 'RECORD_START':
      case 'RECORD_STOP':
        this.#recording = event.name === 'RECORD_START';
        this.#journalEvent(event.name.toLowerCase(), this.state, this.state, {
          path: headers.get('Record-File-Path'),
          completionCause: headers.get('Record-Completion-Cause'),
        });
        if (event.name === 'RECORD_STOP') {
          const path = headers.get('Record-File-Path');
          if (path !== undefined) this.#hooks.onRecordingStopped?.(path, this);
        }
        return;
      case 'DTMF':
        this.#urgentOffer?.digit(headers.get('DTMF-Digit') ?? '');
        this.#conversation?.onEslEvent(event);
        return;
      case 'PLAYBACK_START':
      case 'CUSTOM':
        this.#conversation?.onEslEvent(event);
        return;
    }
    if (HANGUP_EVENTS.has(event.name)) {
      if (event.name === 'CHANNEL_HANGUP_COMPLETE') {
        this.#hangupComplete = true;
        this.#recordVoiceQuality(event);
      }
      if (this.#machine.state !== 'ended') {
        this.#apply({ type: 'hung_up', cause: headers.get('Hangup-Cause') ?? 'NORMAL_CLEARING' });
      } else if (this.#hangupComplete) {
        this.#finish('hangup complete');
      }
    }
  };

  readonly #onDisconnectNotice = (_notice: unknown, disposition: DisconnectDisposition): void => {
    // A linger notice means the channel is gone but events keep coming until we say `exit`.
    if (disposition === 'linger' && this.#machine.state !== 'ended') {
      this.#journalEvent('linger', this.state, this.state, {});
    }
  };

  readonly #onClose = (): void => {
    if (this.#machine.state !== 'ended') {
      // The socket went away without a hangup event: FreeSWITCH restarted or the network cut.
      this.#apply({ type: 'hung_up', cause: 'CONTROLLER_SOCKET_LOST' }, { socketLost: true });
    }
    void this.#release('socket closed');
  };

  /** The call has ended: journal it, then close the socket once FreeSWITCH has told us everything. */
  #afterEnd(): void {
    const endedAt = this.#clock.now();
    this.record.endedAt = endedAt;
    this.record.hangupCause = this.#machine.hangupCause;
    this.#journal.update(this.callId, { state: 'ended', endedAt, hangupCause: this.#machine.hangupCause });
    if (this.#hangupComplete) this.#finish('hangup complete');
    else this.#timer(this.#settings.lingerGraceMs, () => this.#finish('linger grace elapsed'));
  }

  #finish(reason: string): void {
    void this.#release(reason);
  }

  #release(reason: string): Promise<void> {
    this.#released ??= this.#doRelease(reason);
    return this.#released;
  }

  async #doRelease(reason: string): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#handOffs.stop();
    this.#urgentOffer?.stop();
    await this.#conversation?.stop(reason);
    const connection = this.#connection;
    connection.off('event', this.#onEvent);
    connection.off('disconnectNotice', this.#onDisconnectNotice);
    connection.off('close', this.#onClose);
    try {
      if (!connection.closed) await connection.exit({ timeoutMs: 1000 });
    } catch (error) {
      this.#logger.debug({ err: error }, 'exit on release failed');
    }
    await connection.close();
    this.#journalEvent('released', this.state, this.state, { reason });
    await this.#journal.flush();
    this.#hooks.onEnded?.(this.#outcome(), this);
    this.#logger.info({ state: this.state, hangupCause: this.#machine.hangupCause, reason }, 'call released');
    this.#resolveDone();
  }

  #onAnswered(): void {
    if (this.record.answeredAt !== null) return;
    this.record.answeredAt = this.#clock.now();
    this.#apply({ type: 'answered' });
    this.#journal.update(this.callId, { answeredAt: this.record.answeredAt });
    this.#conversation?.answered();
  }

  #channelVariable(name: string, variable = true): string | undefined {
    return this.#channelData.get(variable ? `variable_${name}` : name);
  }

  #newConversation(decision: RoutingDecision): Conversation | undefined {
    return this.#startConversation?.({
      ...(this.#outboundId === undefined ? {} : { outboundId: this.#outboundId }),
      callId: this.callId,
      fsUuid: this.fsUuid,
      channel: this.#channel,
      decision,
      fromNumber: this.record.fromNumber,
      toNumber: this.record.toNumber,
      logger: this.#logger,
      speech: this.#spoken(),
      journal: (type, data) => this.#journalEvent(type, this.state, this.state, data),
      hooks: {
        onFirstPromptSent: () => this.#reportPickup(),
        onGreetingDone: (interrupted) => {
          if (this.#machine.state === 'answered') this.#apply({ type: 'greeting_finished', interrupted });
        },
        onHandOff: (request) => void this.#handOffs.handOff(request),
        onHangup: (cause) => this.#apply({ type: 'hangup_requested', cause }),
        onEmergency: (trigger) => void this.escalate(trigger),
      },
    });
  }

  /** After hours, before people or a mailbox take the call: the on-call offer is said, the digits collected. */
  #offerOnCall(offer: { prompt: string; digits: string }): void {
    this.#journalEvent('urgent_offer', this.state, this.state, { digits: offer.digits });
    this.#urgentOffer = new UrgentOfferListener({
      channel: this.#channel,
      fsUuid: this.fsUuid,
      offer,
      // In the number's language and the practice's voice (cached when routing loaded), like the announcements.
      sentence: (text) => this.#spoken().prompt(text, ANNOUNCEMENT_WAIT_MS),
      timeoutMs: this.#settings.urgentOfferTimeoutMs ?? 5000,
      logger: this.#logger,
      collected: (digits) => this.#urgentOfferAnswered(digits),
    });
    this.#urgentOffer.start();
  }

  /**
   * The caller's digits go back to routing as a fact: the urgent digits give the on-call provider (the
   * after-hours target stays the fallback if nobody answers), the emergency escape an emergency, anything
   * else (or nothing) the after-hours target the call was routed to.
   */
  #urgentOfferAnswered(digits: string): void {
    if (this.#machine.state !== 'answered' || this.#connection.closed) return;
    const plan = this.#machine.plan;
    let routed: ReturnType<CallSessionOptions['routeCall']> | undefined;
    if (digits !== '') {
      try {
        routed = this.#routeCall({ from: this.record.fromNumber, to: this.record.toNumber, at: this.record.startedAt, digits });
      } catch (error) {
        this.#logger.error({ err: error }, 'routing the urgent digits failed; connecting as first routed');
      }
    }
    const next = routed?.decision;
    if (next === undefined || next.urgentOffer !== undefined || routed?.plan.kind !== 'connect' || plan?.kind !== 'connect') {
      this.#journalEvent('urgent_offer_choice', this.state, this.state, { choice: 'declined', digits: digits.length });
      this.#apply({ type: 'urgent_offer_declined' });
      return;
    }
    if (next.rule === 'emergency.dtmf_escape') {
      this.#journalEvent('urgent_offer_choice', this.state, this.state, { choice: 'emergency', digits: digits.length });
      void this.escalate({ kind: 'dtmf' });
      return;
    }
    this.#journalEvent('urgent_offer_choice', this.state, this.state, { choice: 'urgent', digits: digits.length, route: summarizeDecision(next) });
    this.#decision = next;
    this.#apply({ type: 'transfer_requested', target: routed.plan.dial, reason: 'urgent clinical (on-call provider)', fallback: plan.dial }, { to: 'on_call' });
  }

  /**
   * An emergency (a phrase, the escape digit, the agent, or staff taking over): stop the agent, tell the
   * caller, make sure the call is recorded, and bridge to the emergency chain; then alert people. Once per
   * call. Staff can take over a call bridged to someone else: that leg is ended and the chain dialled.
   */
  escalate(trigger: EmergencyTrigger): Promise<EscalationResult> {
    return this.#handOffs.escalate(trigger);
  }

  /**
   * Staff (dashboard) move the call to `request.name` (a ring group, `operator`, …): the agent lets go, or a
   * person the caller is bridged to is replaced (their leg ends, the new bridge follows).
   */
  transfer(request: HandOffRequest): 'accepted' | 'not_transferable' {
    return this.#handOffs.transfer(request);
  }

  /** The AI is failing: a call still with the agent is told and handed to people. */
  handOverToPeople(reason: string): boolean {
    return this.#handOffs.handOverToPeople(reason);
  }

  /** Staff end the call. */
  hangup(cause = 'NORMAL_CLEARING'): 'accepted' | 'not_found' {
    if (this.#machine.state === 'ended') return 'not_found';
    this.#apply({ type: 'hangup_requested', cause });
    return 'accepted';
  }

  #newHandOffs(options: CallSessionOptions): CallHandOffs {
    const { resolveHandOff, emergency, transfers, warmTransfer } = options;
    const onTransfer: TransferEnded = (transfer) => this.#hooks.onTransfer?.(transfer);
    const call = {
      callId: this.callId,
      fsUuid: this.fsUuid,
      record: this.record,
      channel: this.#channel,
      clock: this.#clock,
      logger: this.#logger,
      machine: () => this.#machine,
      decision: () => this.#decision,
      conversation: () => this.#conversation,
      apply: (input: CallInput, data?: Record<string, unknown>) => this.#apply(input, data),
      journal: (type: string, data: Record<string, unknown>) => this.#journalEvent(type, this.state, this.state, data),
      background: (what: string, promise: Promise<unknown>) => this.#background(what, promise),
      recordEmergency: () => this.#recordEmergency(),
    };
    return new CallHandOffs(call, { resolveHandOff, emergency, transfers, warmTransfer, onTransfer });
  }

  /** An emergency is recorded even when the call's plan did not record it (unless it may not be recorded). */
  #recordEmergency(): void {
    const plan = this.#machine.plan;
    const planRecords = plan !== null && plan.kind !== 'reject' && plan.record;
    if (!this.#recording && !planRecords && this.#recordCalls()) {
      startRecording({ channel: this.#channel, recordingPath: this.#recordingPath(), background: (what, promise) => this.#background(what, promise) });
    }
  }

  #reportPickup(): void {
    const sentAtMs = this.#clock.monotonicMs();
    this.#hooks.onPickup?.({ sinceAcceptMs: sentAtMs - this.#offeredAtMs, sinceChannelDataMs: sentAtMs - this.#channelDataAtMs });
  }

  #outcome(): CallOutcome {
    if (this.#machine.state !== 'ended') return 'handed_to_dialplan';
    if (this.#machine.hangupCause === 'CONTROLLER_SOCKET_LOST') return 'failed';
    return this.record.answeredAt === null ? 'abandoned' : 'completed';
  }

  #recordVoiceQuality(event: EslEvent): void {
    const quality = assessVoiceQuality((name) => event.headers.get(`variable_${name}`), this.#settings.voiceQualityThreshold);
    if (quality === null) return;
    this.record.voiceQuality = quality;
    this.#journal.update(this.callId, { voiceQuality: quality });
    this.#journalEvent('voice_quality', this.state, this.state, { ...quality });
    this.#hooks.onVoiceQuality?.(quality);
  }

  /** Adds an event to the call's journal from outside the session (a recording stored after the call). */
  note(type: string, data: Record<string, unknown>): void {
    this.#journalEvent(type, this.state, this.state, data);
  }

  #recordingPath(): string {
    return join(this.#settings.recordingsDir, `${this.callId}.wav`);
  }

  /** Whether the call may be recorded; when not, says so once in the journal. */
  #recordCalls(): boolean {
    if (this.#settings.recordCalls !== false) return true;
    if (!this.#recordingSkipped) this.#journalEvent('recording_skipped', this.state, this.state, { reason: 'no_encryption_key' });
    this.#recordingSkipped = true;
    return false;
  }

  #journalStateChange(state: CallState): void {
    this.record.state = state;
    if (state !== 'ended') this.#journal.update(this.callId, { state });
  }

  #journalEvent(type: string, fromState: CallState | null, toState: CallState | null, data: Record<string, unknown>): void {
    this.#journal.append({
      callId: this.callId,
      seq: ++this.#seq,
      type,
      fromState,
      toState,
      at: this.#clock.now(),
      monotonicMs: this.#clock.monotonicMs(),
      data: { ...data, sinceOfferedMs: Math.round((this.#clock.monotonicMs() - this.#offeredAtMs) * 1000) / 1000 },
    });
  }

  #timer(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      run();
    }, ms);
    this.#timers.add(timer);
  }

  #background(what: string, promise: Promise<unknown>): void {
    promise.catch((error: unknown) => this.#backgroundFailed(what, error));
  }

  #backgroundFailed(what: string, error: unknown): void {
    // After the call ended, a command failing because the socket closed is expected, not news.
    if (this.#machine.state === 'ended' || this.#connection.closed) {
      this.#logger.debug({ err: error, command: what }, 'command ended with the call');
      return;
    }
    this.#logger.warn({ err: error, command: what }, 'call command failed');
    this.#journalEvent('command_failed', this.state, this.state, { command: what, error: (error as Error).message });
  }
}
