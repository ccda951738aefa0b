// What the controller does with a call once routing has decided: a plan the call state machine follows.
// Pure: the routing decision and the gateway names in, FreeSWITCH dial strings out.
import type { FallbackTarget, RouteTarget, RoutingDecision } from './routing/types.ts';

export type CallPlan =
  /** Refuse the call without answering it. */
  | { kind: 'reject'; cause: string }
  /** Answer, greet, and keep the caller with the controller (the AI conversation, issue 5). */
  | { kind: 'converse'; record: boolean; announcement: string | null }
  /**
   * Answer, then connect the caller to people or a number; `fallback` when nobody answers. With `offer` (after
   * hours) the caller first hears the on-call offer and may press its digits before being connected.
   */
  | { kind: 'connect'; record: boolean; announcement: string | null; dial: string; fallbackDial: string | null; reason: string; offer?: UrgentOffer };

/** "Press 1 for the on-call provider": the sentence and the digits (routing's urgentOffer). */
export interface UrgentOffer {
  prompt: string;
  digits: string;
}

export interface Gateways {
  /** FreeSWITCH gateway to the 3CX trunk (extensions, ring groups, numbers through 3CX). */
  threecx: string;
  /** FreeSWITCH gateway to the Twilio backup trunk. */
  twilio: string;
}

export function planCall(decision: RoutingDecision, gateways: Gateways): CallPlan {
  const { target, recording } = decision;
  const record = recording.enabled;
  const announcement = recording.enabled ? recording.announcement : null;
  switch (target.kind) {
    case 'reject':
      return { kind: 'reject', cause: target.cause };
    case 'ai_agent':
      return { kind: 'converse', record, announcement };
    case 'ring_group':
    case 'external':
    case 'voicemail':
      return {
        kind: 'connect',
        record,
        announcement,
        dial: dialString(target, gateways),
        fallbackDial: target.kind === 'ring_group' ? fallbackDial(target.fallback, gateways) : null,
        reason: decision.reason,
        ...(decision.urgentOffer === undefined ? {} : { offer: { prompt: decision.urgentOffer.prompt, digits: decision.urgentOffer.digits } }),
      };
  }
}

/**
 * A FreeSWITCH dial string. Agents of a sequential ring group are joined with `|`, which FreeSWITCH dials one
 * after another, each for `leg_timeout` seconds, in the order routing chose (priority, skills); a
 * simultaneous group is joined with `,`, which rings them all at once.
 */
export function dialString(target: Exclude<RouteTarget, { kind: 'reject' | 'ai_agent' }>, gateways: Gateways): string {
  switch (target.kind) {
    case 'ring_group':
      return target.agents
        .map((agent) => `[leg_timeout=${target.ringSeconds}]sofia/gateway/${gateways.threecx}/${digitsOnly(agent.extension)}`)
        .join(target.strategy === 'simultaneous' ? ',' : '|');
    case 'external':
      return `sofia/gateway/${target.via === 'twilio' ? gateways.twilio : gateways.threecx}/${digitsOnly(target.number)}`;
    case 'voicemail':
      // 3CX's own voicemail on the mailbox's extension takes the message.
      return `sofia/gateway/${gateways.threecx}/${digitsOnly(target.extension)}`;
  }
}

/** Dial strings for a hand-off during the call (the AI's transfer): the target, then its fallback once. */
export function transferDial(target: RouteTarget, gateways: Gateways): { dial: string; fallbackDial: string | null } | null {
  switch (target.kind) {
    case 'reject':
    case 'ai_agent':
      return null;
    case 'ring_group':
      return { dial: dialString(target, gateways), fallbackDial: fallbackDial(target.fallback, gateways) };
    case 'external':
    case 'voicemail':
      return { dial: dialString(target, gateways), fallbackDial: null };
  }
}

function fallbackDial(fallback: FallbackTarget, gateways: Gateways): string | null {
  return fallback.kind === 'ai_agent' ? null : dialString(fallback, gateways);
}

/** Keeps a leading + and digits: nothing from the routing file can inject dial-string syntax. */
function digitsOnly(number: string): string {
  return number.replace(/[^0-9+*#]/g, '');
}
