import { describe, expect, it } from 'vitest';
import { pickAgents } from '../../../src/core/agent-selection.ts';
import type { RoutedAgent } from '../../../src/core/routing/types.ts';

const agent = (extension: string, priority: number, skills: string[] = []): RoutedAgent => ({
  extension,
  name: `agent ${extension}`,
  skills,
  priority,
});

const order = (agents: RoutedAgent[]): string[] => agents.map((a) => a.extension);

describe('best-agent selection for a transfer', () => {
  const ana = agent('101', 1, ['scheduling']);
  const ben = agent('102', 1, ['scheduling', 'billing']);
  const cy = agent('103', 2, ['billing']);
  const dee = agent('104', 2, []);

  it('rings by priority, then by needed skills, then in routing order', () => {
    const picked = pickAgents({ agents: [ana, dee, cy, ben], skillsNeeded: ['billing'], busyExtensions: new Set() });
    expect(order(picked)).toEqual(['102', '101', '103', '104']);
  });

  it('keeps routing order among equals (stable)', () => {
    const a = agent('201', 1);
    const b = agent('202', 1);
    const c = agent('203', 1);
    expect(order(pickAgents({ agents: [c, a, b], skillsNeeded: [], busyExtensions: new Set() }))).toEqual(['203', '201', '202']);
  });

  it("puts the caller's last agent first when free and qualified", () => {
    const picked = pickAgents({ agents: [ana, ben, cy], skillsNeeded: ['billing'], busyExtensions: new Set(), lastAgentExtension: '103' });
    expect(order(picked)).toEqual(['103', '102', '101']);
  });

  it('does not favour the last agent when they lack a needed skill or are busy', () => {
    const unqualified = pickAgents({ agents: [ana, ben, dee], skillsNeeded: ['billing'], busyExtensions: new Set(), lastAgentExtension: '104' });
    expect(order(unqualified)).toEqual(['102', '101', '104']);
    const busy = pickAgents({ agents: [ana, ben, cy], skillsNeeded: ['billing'], busyExtensions: new Set(['103']), lastAgentExtension: '103' });
    expect(order(busy)).toEqual(['102', '101', '103']);
  });

  it('rings busy agents last instead of dropping them', () => {
    const picked = pickAgents({ agents: [ana, ben, cy], skillsNeeded: [], busyExtensions: new Set(['101', '102']) });
    expect(order(picked)).toEqual(['103', '101', '102']);
  });

  it('still returns everyone when all are busy: never a dead end', () => {
    const picked = pickAgents({ agents: [cy, ana], skillsNeeded: [], busyExtensions: new Set(['101', '103']) });
    expect(order(picked)).toEqual(['101', '103']);
  });

  it('lists an extension once and returns nothing for an empty group', () => {
    expect(order(pickAgents({ agents: [ana, ana, ben], skillsNeeded: [], busyExtensions: new Set() }))).toEqual(['101', '102']);
    expect(pickAgents({ agents: [], skillsNeeded: ['billing'], busyExtensions: new Set() })).toEqual([]);
  });
});
