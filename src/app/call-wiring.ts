// How one call's parts are put together from the controller's services: the AI conversation of a call
// routed to the agent, where its hand-offs and emergencies ring, what the person picking up is told, and the
// Twilio client. Pure assembly, no state: the controller owns the services and passes them in.
import type { Logger } from 'pino';
import { transferDial } from '../core/call-plan.ts';
import type { EmergencyTargets } from '../core/emergency.ts';
import { EmergencyPhrases } from '../core/emergency.ts';
import { isAnonymous, normalizeNumber } from '../core/routing/phone.ts';
import type { RoutingConfig } from '../core/routing/schema.ts';
import { resolveTransfer } from '../core/routing/transfer.ts';
import type { RoutingDecision, SystemMode } from '../core/routing/types.ts';
import type { Clock } from '../core/ports.ts';
import { TwilioSms } from '../twilio/index.ts';
import type { ConversationCall, HandOffDial } from '../call/call-session.ts';
import type { Config } from './config.ts';
import { Conversation, type ConversationOptions, type HandOffRequest } from '../call/conversation.ts';
import type { RoutingService } from './routing-service.ts';
import type { VoicePipeline } from './voice-pipeline.ts';

/** The AI conversation of a call routed to the agent, with this controller's voice pipeline and routing. */
export function newConversation(
  call: ConversationCall,
  deps: {
    voice: VoicePipeline;
    routing: RoutingService;
    clock: Clock;
    sendSms?: ConversationOptions['sendSms'];
    answeringMachine?: ConversationOptions['answeringMachine'];
  },
): Conversation | undefined {
  const { decision } = call;
  if (decision.target.kind !== 'ai_agent') return undefined;
  const routing = deps.routing.config;
  const caller = normalizeNumber(call.fromNumber);
  return new Conversation({
    callId: call.callId,
    fsUuid: call.fsUuid,
    channel: call.channel,
    pipeline: deps.voice,
    speech: call.speech,
    start: {
      callId: call.callId,
      caller: isAnonymous(call.fromNumber) || !caller.startsWith('+') ? '' : caller,
      did: normalizeNumber(call.toNumber),
      location: decision.location,
      language: decision.target.language,
      routing: { rule: decision.rule, reason: decision.reason, messageOnly: decision.target.messageOnly },
    },
    operatorDigit: routing.operator.digit,
    emergencyEscape: routing.emergency.dtmf_escape,
    emergencyPhrases: new EmergencyPhrases(routing.emergency.phrases),
    ...(decision.urgentOffer === undefined ? {} : { urgentOffer: decision.urgentOffer }),
    ...(deps.sendSms ? { sendSms: deps.sendSms } : {}),
    ...(deps.answeringMachine ? { answeringMachine: deps.answeringMachine } : {}),
    clock: deps.clock,
    logger: call.logger,
    journal: call.journal,
    hooks: call.hooks,
  });
}

/**
 * Dial strings for the agent's hand-off, from the routing live now (a group's agents may have changed) at
 * `deps.at` (after hours a person means the after-hours target, not the closed group).
 */
export function handOffDial(
  request: HandOffRequest,
  call: { decision: RoutingDecision; toNumber: string },
  deps: { routing: RoutingService; gateways: Config['gateways']; mode: SystemMode; at: Date },
): HandOffDial {
  const config = deps.routing.config;
  const target = call.decision.target;
  const handoffRingGroup = target.kind === 'ai_agent' ? target.handoffRingGroup : config.operator.ring_group;
  const resolved = resolveTransfer(config, { name: request.name, handoffRingGroup, to: call.toNumber, mode: deps.mode, at: deps.at });
  // resolveTransfer only returns ring groups and numbers, which always have a dial string.
  const dial = transferDial(resolved.target, deps.gateways) ?? { dial: '', fallbackDial: null };
  const group = resolved.target;
  return {
    ...dial,
    resolvedAs: resolved.resolvedAs,
    ...(group.kind === 'ring_group' && group.agents.length > 0 ? { warm: { agents: group.agents, ringSeconds: group.ringSeconds } } : {}),
  };
}

export function twilioSms(config: Config, statusCallbackUrl: string | undefined, logger: Logger): TwilioSms | undefined {
  const { twilio } = config;
  if (!twilio.enabled) {
    logger.warn('Twilio not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER): no text messages will be sent');
    return undefined;
  }
  return new TwilioSms({
    accountSid: twilio.accountSid as string,
    authToken: twilio.authToken as string,
    from: twilio.phoneNumber as string,
    ...(twilio.apiUrl === undefined ? {} : { apiUrl: twilio.apiUrl }),
    ...(statusCallbackUrl === undefined ? {} : { statusCallbackUrl }),
    logger: logger.child({ component: 'twilio' }),
  });
}

/** The emergency chain: the environment's numbers where set, routing.yaml's otherwise. */
export function emergencyTargets(config: Config, routing: RoutingConfig): EmergencyTargets {
  const fromFile = routing.emergency;
  return {
    number: config.emergency.transferNumber ?? fromFile.target.number,
    via: config.emergency.transferNumber === undefined ? fromFile.target.via : 'threecx',
    managerExtension: config.emergency.managerExtension ?? fromFile.manager_extension,
  };
}

/** What the person picking up hears before the caller is put through (the AI's summary). */
export function whisperText(request: HandOffRequest): string {
  const summary = request.summary.trim() === '' ? 'No summary.' : request.summary.trim();
  return `Call from the AI assistant. Reason: ${request.name.replace(/_/g, ' ')}. ${summary}`;
}
