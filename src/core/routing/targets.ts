// Turns what the routing file says ("ring_group: scheduling", "voicemail: main") into the decision the
// controller acts on: agents in ringing order, fallbacks resolved, the AI replaced when it is down.
import type { FallbackSpec, RoutingConfig, TargetSpec } from './schema.ts';
import type { FallbackTarget, RoutedAgent, RouteTarget, SystemMode, VoicemailTarget } from './types.ts';

export interface TargetContext {
  config: RoutingConfig;
  mode: SystemMode;
  /** Language of the dialled number, for the AI. */
  language: string;
  /** Where the AI hands a caller it cannot help: the dialled number's ring group, or the operator. */
  handoffRingGroup: string;
  /** Skills the dialled number asks for; agents having more of them ring earlier within a priority. */
  skills: readonly string[];
}

/** Lowest priority number first; within a priority, agents matching more wanted skills; then file order. */
export function orderedAgents(config: RoutingConfig, ringGroup: string, skills: readonly string[]): RoutedAgent[] {
  const group = config.ring_groups[ringGroup];
  if (group === undefined) return [];
  const rows = group.agents.flatMap((id, index) => {
    const agent = config.agents[id];
    if (agent === undefined) return [];
    const matches = skills.filter((s) => agent.skills.includes(s)).length;
    return [{ agent, index, matches }];
  });
  rows.sort((a, b) => a.agent.priority - b.agent.priority || b.matches - a.matches || a.index - b.index);
  return rows.map(({ agent }) => ({
    extension: agent.extension,
    name: agent.name,
    skills: [...agent.skills],
    priority: agent.priority,
  }));
}

export function ringGroupTarget(ctx: TargetContext, ringGroup: string): RouteTarget {
  const group = ctx.config.ring_groups[ringGroup];
  if (group === undefined) throw new Error(`ring group "${ringGroup}" is not defined`); // checkReferences rules this out
  return {
    kind: 'ring_group',
    ringGroup,
    agents: orderedAgents(ctx.config, ringGroup, ctx.skills),
    ringSeconds: group.ring_seconds,
    strategy: group.strategy,
    fallback: fallbackTarget(ctx, group.fallback),
  };
}

function fallbackTarget(ctx: TargetContext, spec: FallbackSpec): FallbackTarget {
  // With the AI engine down, an AI fallback would be a dead end: the ai-down mode names the replacement.
  const effective = spec.action === 'ai' && ctx.mode === 'ai-down' ? ctx.config.modes['ai-down'].fallback : spec;
  switch (effective.action) {
    case 'voicemail':
      return voicemailTarget(ctx, effective.mailbox);
    case 'external':
      return { kind: 'external', number: effective.number, via: via(ctx, effective.via) };
    case 'ai':
      return {
        kind: 'ai_agent',
        language: ctx.language,
        messageOnly: true,
        // The group itself did not answer, so the AI's hand-off goes to the operator, not back to it.
        handoffRingGroup: ctx.config.operator.ring_group,
      };
  }
}

export function resolveTarget(ctx: TargetContext, spec: TargetSpec): RouteTarget {
  switch (spec.action) {
    case 'ai':
      return {
        kind: 'ai_agent',
        language: ctx.language,
        messageOnly: spec.message_only,
        handoffRingGroup: ctx.handoffRingGroup,
      };
    case 'ring_group':
      return ringGroupTarget(ctx, spec.ring_group);
    case 'external':
      return { kind: 'external', number: spec.number, via: via(ctx, spec.via) };
    case 'voicemail':
      return voicemailTarget(ctx, spec.mailbox);
    case 'reject':
      return { kind: 'reject', cause: spec.cause };
  }
}

function voicemailTarget(ctx: TargetContext, mailbox: string): VoicemailTarget {
  // References are checked when the file loads, so the mailbox exists.
  return { kind: 'voicemail', mailbox, extension: ctx.config.mailboxes[mailbox]?.extension ?? '' };
}

/** Without 3CX its trunk cannot dial out either; the Twilio backup trunk can. */
function via(ctx: TargetContext, wanted: 'threecx' | 'twilio'): 'threecx' | 'twilio' {
  return ctx.mode === '3cx-down' ? 'twilio' : wanted;
}
