// Checks the schema cannot express: everything a rule names must exist (ring groups, agents, locations,
// mailboxes, skills), and a few contradictions an admin can write by accident. Each problem carries the path
// of the offending value, so the loader can point at its line and column.
import type { MinuteRange, RoutingConfig, TargetSpec } from './schema.ts';
import { WEEKDAYS } from './schema.ts';

export type RoutingPath = (string | number)[];

export interface ReferenceProblem {
  path: RoutingPath;
  message: string;
}

const RESERVED_HANDOFF_NAMES = ['operator', 'emergency', 'on_call'] as const;

export function checkReferences(config: RoutingConfig): ReferenceProblem[] {
  const problems: ReferenceProblem[] = [];
  const add = (path: RoutingPath, message: string): void => {
    problems.push({ path, message });
  };
  const known = (kind: string, table: Record<string, unknown>, id: string, path: RoutingPath): void => {
    if (!Object.hasOwn(table, id)) {
      const choices = Object.keys(table);
      add(path, `unknown ${kind} "${id}"; defined ${kind}s: ${choices.length > 0 ? choices.join(', ') : '(none)'}`);
    }
  };
  const skills = Object.fromEntries(config.skills.map((s) => [s, true]));
  const target = (spec: TargetSpec | undefined, path: RoutingPath): void => {
    if (spec?.action === 'ring_group') known('ring group', config.ring_groups, spec.ring_group, [...path, 'ring_group']);
    if (spec?.action === 'voicemail') known('mailbox', config.mailboxes, spec.mailbox, [...path, 'mailbox']);
  };

  for (const [id, location] of Object.entries(config.locations)) {
    for (const day of WEEKDAYS) {
      overlaps(location.hours[day] ?? [], ['locations', id, 'hours', day], add);
    }
    const seen = new Map<string, number>();
    location.holidays.forEach((holiday, i) => {
      const first = seen.get(holiday.date);
      if (first !== undefined) add(['locations', id, 'holidays', i, 'date'], `${holiday.date} is already listed as holidays[${first}]`);
      seen.set(holiday.date, i);
      overlaps(holiday.hours ?? [], ['locations', id, 'holidays', i, 'hours'], add);
    });
    target(location.after_hours?.target, ['locations', id, 'after_hours', 'target']);
  }

  const extensions = new Map<string, string>();
  for (const [id, agent] of Object.entries(config.agents)) {
    const other = extensions.get(agent.extension);
    if (other !== undefined) add(['agents', id, 'extension'], `extension ${agent.extension} is already used by agent "${other}"`);
    extensions.set(agent.extension, id);
    agent.skills.forEach((skill, i) => known('skill', skills, skill, ['agents', id, 'skills', i]));
  }

  for (const [id, group] of Object.entries(config.ring_groups)) {
    const members = new Set<string>();
    group.agents.forEach((agent, i) => {
      known('agent', config.agents, agent, ['ring_groups', id, 'agents', i]);
      if (members.has(agent)) add(['ring_groups', id, 'agents', i], `agent "${agent}" is listed twice`);
      members.add(agent);
    });
    if (group.fallback.action === 'voicemail') {
      known('mailbox', config.mailboxes, group.fallback.mailbox, ['ring_groups', id, 'fallback', 'mailbox']);
    }
  }

  known('ring group', config.ring_groups, config.operator.ring_group, ['operator', 'ring_group']);

  // The AI's hand-offs name these destinations themselves (transfer.ts): a ring group of the same id could
  // never be reached by a hand-off.
  for (const reserved of RESERVED_HANDOFF_NAMES) {
    if (Object.hasOwn(config.ring_groups, reserved)) {
      add(['ring_groups', reserved], `"${reserved}" is a hand-off name of its own (${RESERVED_HANDOFF_NAMES.join(', ')}); give the ring group another id`);
    }
  }

  for (const [did, number] of Object.entries(config.numbers)) {
    known('location', config.locations, number.location, ['numbers', did, 'location']);
    known('ring group', config.ring_groups, number.ring_group, ['numbers', did, 'ring_group']);
    number.skills.forEach((skill, i) => known('skill', skills, skill, ['numbers', did, 'skills', i]));
  }

  config.callers.vip.forEach((vip, i) => known('ring group', config.ring_groups, vip.ring_group, ['callers', 'vip', i, 'ring_group']));

  target(config.after_hours.target, ['after_hours', 'target']);
  target(config.modes['ai-down'].after_hours, ['modes', 'ai-down', 'after_hours']);
  target(config.modes['ai-down'].fallback, ['modes', 'ai-down', 'fallback']);
  for (const id of Object.keys(config.modes['3cx-down'].locations)) {
    known('location', config.locations, id, ['modes', '3cx-down', 'locations', id]);
  }

  // The escape is matched anywhere in the digits pressed, so urgent digits containing it would dial 911-style
  // targets when the caller only meant "urgent".
  if (config.after_hours.urgent_digits.includes(config.emergency.dtmf_escape)) {
    add(
      ['after_hours', 'urgent_digits'],
      `"${config.after_hours.urgent_digits}" contains the emergency escape "${config.emergency.dtmf_escape}"; pick other digits`,
    );
  }
  // One digit cannot mean both "a person, please" and "emergency".
  if (config.emergency.dtmf_escape.includes(config.operator.digit)) {
    add(['operator', 'digit'], `"${config.operator.digit}" is also in the emergency escape "${config.emergency.dtmf_escape}"; pick another digit`);
  }
  return problems;
}

function overlaps(ranges: MinuteRange[], path: RoutingPath, add: (path: RoutingPath, message: string) => void): void {
  const sorted = ranges.map((r, i) => ({ ...r, i })).sort((a, b) => a.start - b.start);
  for (let k = 1; k < sorted.length; k++) {
    const prev = sorted[k - 1]!;
    const cur = sorted[k]!;
    if (cur.start < prev.end) add([...path, cur.i], `this range overlaps range ${prev.i + 1} of the same day`);
  }
}
