// Small pure helpers of the per-call session: what its journal keeps, and how announcements are played.
import type { CallInput } from '../core/call-machine.ts';
import type { RoutingDecision } from '../core/routing/types.ts';
import { fliteSpeech, isSound, type Prompt } from './spoken-text.ts';

export function inputData(input: CallInput): Record<string, unknown> {
  const { type: _type, ...rest } = input;
  return rest;
}

/**
 * An announcement as FreeSWITCH alone plays it: a sound as is, text by its own voice (mod_flite, US English).
 * A call says its sentences through SpokenText (spoken-text.ts), which uses this only when TTS cannot.
 */
export function announcement(sound: string): Prompt {
  return isSound(sound) ? { app: 'playback', arg: sound } : fliteSpeech(sound);
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
