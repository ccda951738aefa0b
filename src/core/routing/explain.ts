// A routing decision in prose, for the admin who asks "why did this call go there?" (`callbridge routes
// explain`). Phone numbers are masked to their last four digits; 3CX extensions are internal and shown whole.
import { maskNumber } from './phone.ts';
import type { CallFacts, FallbackTarget, RouteTarget, RoutingDecision } from './types.ts';

export function explainDecision(decision: RoutingDecision, facts: CallFacts): string {
  const lines: string[] = [];
  const digits = facts.digits ? `, digits pressed "${facts.digits}"` : '';
  lines.push(
    `Call to ${maskNumber(facts.to)} from ${maskNumber(facts.from)} at ${facts.at.toISOString()} (system mode ${facts.mode}${digits}).`,
  );
  lines.push(`Location: ${decision.location ?? 'none (the dialled number is not in the routing file)'}.`);
  const offer = decision.urgentOffer;
  if (offer !== undefined) lines.push(`First: the caller hears "${offer.prompt}" Pressing ${offer.digits} calls the on-call provider.`);
  lines.push(`Goes to: ${describeTarget(decision.target, offer !== undefined)}`);
  lines.push(`Why: ${decision.reason}`);
  lines.push(`Rule: ${decision.rule}`);
  const rec = decision.recording;
  lines.push(
    rec.enabled
      ? `Recording: on${rec.announcement ? `, after the announcement "${rec.announcement}"` : ' (no announcement)'}.`
      : 'Recording: off.',
  );
  return lines.join('\n');
}

function describeTarget(target: RouteTarget, afterHours: boolean): string {
  switch (target.kind) {
    case 'ai_agent': {
      const agent = `${target.messageOnly ? 'the AI agent, taking a message only' : 'the AI agent'} (language ${target.language})`;
      // The ring groups are closed too: a person means the after-hours people (docs/routing.md, after_hours).
      if (afterHours) return `${agent}; a caller who asks for a person goes to the after-hours people (modes.ai-down.after_hours), not to a closed ring group.`;
      return `${agent}; when it cannot help it hands the caller to ring group "${target.handoffRingGroup}".`;
    }
    case 'ring_group': {
      const order = target.agents.map((a) => `${a.name} (ext ${a.extension}, priority ${a.priority})`).join(', then ');
      const how = target.strategy === 'simultaneous' ? 'all at once' : 'one after another';
      return `ring group "${target.ringGroup}", ringing ${how}: ${order}; ${target.ringSeconds} s each. If nobody answers: ${describeFallback(target.fallback)}.`;
    }
    case 'external':
      return `${describeExternal(target.number, target.via)}.`;
    case 'voicemail':
      return `voicemail box "${target.mailbox}".`;
    case 'reject':
      return `rejected (${target.cause}); nobody answers and nothing is recorded.`;
  }
}

function describeFallback(fallback: FallbackTarget): string {
  switch (fallback.kind) {
    case 'voicemail':
      return `voicemail box "${fallback.mailbox}"`;
    case 'external':
      return describeExternal(fallback.number, fallback.via);
    case 'ai_agent':
      return `the AI agent takes a message (language ${fallback.language})`;
  }
}

function describeExternal(number: string, via: 'threecx' | 'twilio'): string {
  return `the outside number ${maskNumber(number)} through ${via === 'twilio' ? 'the Twilio backup trunk' : 'the 3CX trunk'}`;
}
