// This controller's call policy, in one object the composition root builds once from its adapters: how each
// call the outbound socket hands over is made into a CallSession (routing, the AI conversation with the
// answering-machine check of our own follow-up calls, hand-offs, appointment texts, recording), what is
// counted and told when a call transfers, reports its audio quality or ends, and what a change of system
// mode means for the calls and the staff. It builds no adapter: everything it talks to comes in built.
import { planCall } from '../core/call-plan.ts';
import type { SmsSender } from '../core/notify-ports.ts';
import type { RoutingDecision, SystemMode } from '../core/routing/types.ts';
import { appointmentSms, failoverNoticeSms } from '../core/sms-templates.ts';
import type { EslConnection, EslEvent } from '../esl/index.ts';
import type { CallCommands } from '../http/index.ts';
import { AnsweringMachineDetector } from '../voice/answering-machine.ts';
import { AdoptedCall } from '../call/adopted-call.ts';
import type { CallerHistory } from '../call/caller-history.ts';
import { CallSession, type CallOutcome, type ConversationCall, type OutboundCalls, type Pickup } from '../call/call-session.ts';
import type { Conversation } from '../call/conversation.ts';
import type { CallJournal } from '../call/journal.ts';
import type { CallRegistry, RegisteredCall } from '../call/registry.ts';
import type { CallEvents } from './call-events.ts';
import { createRouteCall, type RouteCall } from './call-routing.ts';
import { newConversation } from './call-wiring.ts';
import type { EventBus } from './event-bus.ts';
import { CallHandOffPolicy, staffNumbers, type HandOffPolicyDeps } from './hand-off-policy.ts';
import type { OutboundDialer } from './outbound-dialer.ts';
import type { RecordingCapture } from './recording-capture.ts';

/** A greeting that has not finished playing by then never will (FreeSWITCH lost its PLAYBACK_STOP). */
const GREETING_TIMEOUT_MS = 5 * 60 * 1000;
/** Time for HANGUP_COMPLETE to arrive once the call ended, before the session lets the socket go anyway. */
const LINGER_GRACE_MS = 2000;

export interface CallServicesDeps extends HandOffPolicyDeps {
  journal: CallJournal;
  registry: CallRegistry<RegisteredCall>;
  /** What we remember of recent callers (the repeat-caller rule). */
  history: CallerHistory;
  /** Told whether a follow-up call it placed reached a person or an answering machine. */
  dialer: Pick<OutboundDialer, 'noteAnswered'>;
  /** Undefined when Twilio is not configured: no appointment or failover texts then. */
  sms: SmsSender | undefined;
  events: Pick<EventBus, 'publish'>;
  callEvents: Pick<CallEvents, 'ended' | 'voiceQuality'>;
  /** Undefined without the recording key: calls are then not recorded. */
  recordingCapture: RecordingCapture | undefined;
  /** Every ESL event of a call as it arrives (the controller's event-lag metric). */
  onEslEvent: (event: EslEvent) => void;
  onPickup?: ((session: CallSession, pickup: Pickup) => void) | undefined;
}

export class CallServices {
  readonly #d: CallServicesDeps;
  readonly #handOffs: CallHandOffPolicy;
  readonly #routeCall: RouteCall;
  readonly #outboundCalls: OutboundCalls;
  readonly #sendSms: ((request: { to: string; template: string; values: Record<string, string>; callId: string }) => void) | undefined;

  constructor(deps: CallServicesDeps) {
    this.#d = deps;
    this.#handOffs = new CallHandOffPolicy(deps);
    this.#routeCall = createRouteCall({ routing: deps.routing, history: deps.history, gateways: deps.config.gateways, mode: deps.mode });
    this.#outboundCalls = { route: (purpose) => this.#routeFollowUp(purpose) };
    const sms = deps.sms;
    this.#sendSms = sms && ((request) => this.#sendAppointmentSms(sms, request));
  }

  /** The session of a call FreeSWITCH handed over on the outbound socket (not yet registered or started). */
  newSession(connection: EslConnection, channelData: EslEvent, acceptedAtMs: number): CallSession {
    const { config, journal, clock, logger, recordingCapture } = this.#d;
    const handOffs = this.#handOffs;
    const session: CallSession = new CallSession({
      connection,
      channelData,
      acceptedAtMs,
      routeCall: this.#routeCall,
      journal,
      clock,
      logger,
      settings: {
        greetingSound: config.greetingSound,
        recordingsDir: config.recordingsDir,
        greetingTimeoutMs: GREETING_TIMEOUT_MS,
        lingerGraceMs: LINGER_GRACE_MS,
        voiceQualityThreshold: config.voiceQualityThreshold,
        recordCalls: recordingCapture !== undefined,
      },
      startConversation: (call) => this.#startConversation(call),
      tts: this.#d.voice,
      resolveHandOff: handOffs.resolveHandOff,
      emergency: handOffs.emergency,
      transfers: handOffs.transfers,
      outbound: this.#outboundCalls,
      ...(handOffs.warmTransfer ? { warmTransfer: handOffs.warmTransfer } : {}),
      hooks: {
        onEnded: (outcome, ended) => this.ended(outcome, ended),
        onPickup: (pickup) => this.#d.onPickup?.(session, pickup),
        onEslEvent: this.#d.onEslEvent,
        onRecordingStopped: (path) => recordingCapture?.stopped(path, session, recordedAt(session)),
        onTransfer: ({ outcome, ms, reason }) => {
          const { metrics, events } = this.#d;
          metrics.transfersTotal.inc({ outcome });
          if (outcome === 'bridged') metrics.transferSeconds.observe(ms / 1000);
          // The reason can come from the AI engine in its own words: events carry only whether it was an emergency.
          events.publish({ type: 'CALL_TRANSFERRED', at: clock.now(), callId: session.callId, data: { outcome, ms: Math.round(ms), emergency: reason === 'emergency' } });
        },
        onVoiceQuality: (quality) => {
          const { metrics, callEvents } = this.#d;
          callEvents.voiceQuality(session.callId, quality);
          metrics.voiceMos.observe(quality.mos);
          if (quality.poor) metrics.poorQualityCallsTotal.inc();
        },
      },
    });
    return session;
  }

  /** A session or an adopted call is over (or was handed back to the dialplan at shutdown). */
  ended(outcome: CallOutcome | 'adopted', call: RegisteredCall): void {
    const { callEvents, registry, metrics, recordingCapture } = this.#d;
    // A call handed back to the dialplan at shutdown goes on without us: it has not ended.
    if (call instanceof CallSession && outcome !== 'adopted' && outcome !== 'handed_to_dialplan') callEvents.ended(outcome, call.record);
    if (call instanceof AdoptedCall && call.ended) callEvents.ended(call.record.answeredAt === null ? 'abandoned' : 'completed', call.record);
    registry.remove(call);
    this.#handOffs.callEnded(call.callId);
    metrics.activeCalls.set(registry.size);
    metrics.callsTotal.inc({ outcome });
    if (outcome !== 'handed_to_dialplan') recordingCapture?.ended(call, call instanceof CallSession ? recordedAt(call) : undefined);
  }

  /** What a new system mode means for the calls in progress and for the staff (after it is shown and logged). */
  modeChanged(to: SystemMode): void {
    const { registry, sms, clock, routing, config, metrics } = this.#d;
    // Calls still with the agent go to people with their context, told why, rather than wait on a failing AI.
    if (to === 'ai-down') for (const call of registry.all()) if (call instanceof CallSession) call.handOverToPeople('the AI side is failing');
    if (sms !== undefined) {
      const body = failoverNoticeSms({ mode: to, since: clock.now(), practiceName: routing.config.practice });
      for (const number of staffNumbers(config, routing)) {
        void sms.send({ to: number, body, purpose: 'failover' }).then((result) => metrics.smsTotal.inc({ purpose: 'failover', outcome: result.ok ? 'sent' : 'failed' }));
      }
    }
  }

  /** The AI conversation of a call routed to the agent; a call our dialer placed first tells person from machine. */
  #startConversation(call: ConversationCall): Conversation | undefined {
    const { voice, routing, clock, dialer, logger } = this.#d;
    if (voice === undefined) return undefined;
    const outboundId = call.outboundId;
    const answeringMachine =
      outboundId === undefined
        ? undefined
        : {
            detector: new AnsweringMachineDetector({ sampleRate: 16000 }),
            machineMessage: `Hello, this is ${routing.config.practice} calling. Please call us back when you can. Thank you.`,
            onVerdict: (verdict: { kind: string }) => {
              dialer.noteAnswered(outboundId, { callId: call.callId, machine: verdict.kind === 'machine' }).catch((error: unknown) => logger.warn({ err: error }, 'outbound answer not recorded'));
            },
          };
    const sendSms = this.#sendSms;
    return newConversation(call, { voice, routing, clock, ...(sendSms ? { sendSms } : {}), ...(answeringMachine ? { answeringMachine } : {}) });
  }

  /** The AI's plan for a follow-up call the practice placed: the operator's group takes its hand-offs. */
  #routeFollowUp(purpose: string): ReturnType<OutboundCalls['route']> {
    const { routing, config } = this.#d;
    const decision: RoutingDecision = {
      target: { kind: 'ai_agent', language: 'en-US', messageOnly: false, handoffRingGroup: routing.config.operator.ring_group },
      location: null,
      recording: { enabled: true, announcement: null },
      language: 'en-US',
      reason: `Follow-up call placed by the practice (${purpose.replace(/[^a-z_]/g, '')}).`,
      rule: 'outbound',
    };
    return { decision, plan: planCall(decision, config.gateways) };
  }

  /** A text the agent confirmed to the caller (an appointment), counted and published as sent or failed. */
  #sendAppointmentSms(sms: SmsSender, request: { to: string; template: string; values: Record<string, string>; callId: string }): void {
    const { routing, metrics, events, clock } = this.#d;
    const body = appointmentSms(request.template, request.values, routing.config.practice);
    void sms.send({ to: request.to, body, purpose: 'appointment', callId: request.callId }).then((result) => {
      metrics.smsTotal.inc({ purpose: 'appointment', outcome: result.ok ? 'sent' : 'failed' });
      events.publish({
        type: result.ok ? 'SMS_SENT' : 'SMS_FAILED',
        at: clock.now(),
        callId: request.callId,
        data: { purpose: 'appointment', template: request.template, attempts: result.attempts, ...(result.error ? { error: result.error } : {}) },
      });
    });
  }
}

/** The dashboard's commands on a live call (the HTTP layer serves them before the call services exist). */
export function staffCommands(registry: CallRegistry<RegisteredCall>): CallCommands {
  return {
    transfer: async (callId, command) => {
      const session = registry.get(callId);
      if (!(session instanceof CallSession)) return 'not_found';
      return session.transfer({ name: command.target, reason: command.reason, summary: '' });
    },
    takeover: async (callId, command) => {
      const session = registry.get(callId);
      if (!(session instanceof CallSession)) return 'not_found';
      const result = await session.escalate({ kind: 'staff', by: command.extension ?? 'dashboard' });
      return result === 'not_transferable' ? 'not_transferable' : 'accepted';
    },
    hangup: async (callId) => {
      const session = registry.get(callId);
      return session instanceof CallSession ? session.hangup() : 'not_found';
    },
  };
}

/** Recordings are dated from the answer (the call's start when it was never answered). */
function recordedAt(session: CallSession): Date {
  return session.record.answeredAt ?? session.record.startedAt;
}
