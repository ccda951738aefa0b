// Which agent of a group should ring first for a hand-off. Routing already ordered the group by priority and
// skills for the dialled number; a transfer knows more: the skills this reason needs, who is busy on our
// calls right now, and who served this caller last time. Nobody is ever dropped: a busy agent rings after
// the free ones rather than not at all, so the list is never a dead end when the group has anyone.
import type { RoutedAgent } from './routing/types.ts';

export interface PickAgentsInput {
  /** The group's agents in routing order (the tie-break of last resort). */
  agents: readonly RoutedAgent[];
  /** Skills the transfer's reason needs; agents with more of them ring earlier within a priority. */
  skillsNeeded: readonly string[];
  /** Extensions already on one of our calls. */
  busyExtensions: ReadonlySet<string>;
  /** The agent who served this caller last time, if known. */
  lastAgentExtension?: string;
}

/**
 * Ringing order: the caller's last agent first when free and having every needed skill; then free agents,
 * then busy ones, each by priority (lower first), then needed skills matched (more first), then routing
 * order. Each extension appears once.
 */
export function pickAgents(input: PickAgentsInput): RoutedAgent[] {
  const { skillsNeeded, busyExtensions, lastAgentExtension } = input;
  const seen = new Set<string>();
  const rows = input.agents.flatMap((agent, index) => {
    if (seen.has(agent.extension)) return [];
    seen.add(agent.extension);
    const matches = skillsNeeded.filter((skill) => agent.skills.includes(skill)).length;
    const busy = busyExtensions.has(agent.extension);
    const returning = !busy && agent.extension === lastAgentExtension && matches === skillsNeeded.length;
    return [{ agent, index, matches, busy, returning }];
  });
  rows.sort(
    (a, b) =>
      Number(b.returning) - Number(a.returning) ||
      Number(a.busy) - Number(b.busy) ||
      a.agent.priority - b.agent.priority ||
      b.matches - a.matches ||
      a.index - b.index,
  );
  return rows.map(({ agent }) => agent);
}
