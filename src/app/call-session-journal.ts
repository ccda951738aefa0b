// Small pure helpers of the per-call session: what its journal keeps, and how announcements are played.
import type { CallInput } from '../core/call-machine.ts';
import type { RoutingDecision } from '../core/routing/types.ts';

export function inputData(input: CallInput): Record<string, unknown> {
  const { type: _type, ...rest } = input;
  return rest;
}

/**
 * How FreeSWITCH plays an announcement from the routing file: a sound (a path or a `scheme://` source) is
 * played as is; plain text is spoken by FreeSWITCH's own text-to-speech (mod_flite) until the voice pipeline
 * (issue 5) renders it with the practice's voice.
 */
export function announcement(sound: string): { app: string; arg: string } {
  const isSound = sound.startsWith('/') || sound.includes('://') || /\.(wav|mp3|r8|r16|ulaw|alaw)$/i.test(sound);
  return isSound ? { app: 'playback', arg: sound } : { app: 'speak', arg: `flite|slt|${sound.replace(/[\r\n]+/g, ' ')}` };
}

/** What the call's journal keeps of a routing decision: where, why, and by which rule (no phone numbers). */
export function summarizeDecision(decision: RoutingDecision): Record<string, unknown> {
  const target = decision.target;
  return {
    target: target.kind,
    ...(target.kind === 'ring_group' ? { ringGroup: target.ringGroup, agents: target.agents.map((a) => a.extension) } : {}),
    ...(target.kind === 'ai_agent' ? { language: target.language, messageOnly: target.messageOnly } : {}),
    ...(target.kind === 'reject' ? { cause: target.cause } : {}),
    location: decision.location,
    rule: decision.rule,
    reason: decision.reason,
    recording: decision.recording.enabled,
  };
}
