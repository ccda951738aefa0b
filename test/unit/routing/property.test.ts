// For any call at all (any instant over several years, any DID or caller, any digits, any system mode), the
// decision only names things that exist in the routing file, agents ring in priority order, modes are
// respected, the rule is a real path in the file, and the reason never shows a caller's full number.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { route } from '../../../src/core/routing/route.ts';
import type { RoutingConfig } from '../../../src/core/routing/schema.ts';
import type { CallFacts, FallbackTarget, RouteTarget, SystemMode } from '../../../src/core/routing/types.ts';
import { practice } from './helpers.ts';

const E164 = /^\+[1-9]\d{6,14}$/;

/** Resolves `a.b[2].c` in the parsed document; undefined when any step is missing. */
function resolveRule(config: RoutingConfig, rule: string): unknown {
  const segments = rule.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let node: unknown = config;
  for (const seg of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    const key = seg.startsWith('[') ? Number(seg.slice(1, -1)) : seg;
    if (!Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function checkFallback(config: RoutingConfig, f: FallbackTarget, mode: SystemMode): void {
  if (f.kind === 'voicemail') expect(Object.hasOwn(config.mailboxes, f.mailbox)).toBe(true);
  if (f.kind === 'external') expect(f.number).toMatch(E164);
  if (f.kind === 'ai_agent') {
    expect(mode).not.toBe('ai-down');
    expect(Object.hasOwn(config.ring_groups, f.handoffRingGroup)).toBe(true);
  }
}

function checkTarget(config: RoutingConfig, t: RouteTarget, mode: SystemMode): void {
  switch (t.kind) {
    case 'ring_group': {
      const group = config.ring_groups[t.ringGroup];
      expect(group).toBeDefined();
      const members = group!.agents.map((id) => config.agents[id]!);
      expect(t.agents.map((a) => a.extension).sort()).toEqual(members.map((a) => a.extension).sort());
      for (const a of t.agents) {
        expect(members).toContainEqual(expect.objectContaining({ extension: a.extension, name: a.name, priority: a.priority }));
      }
      for (let i = 1; i < t.agents.length; i++) expect(t.agents[i]!.priority).toBeGreaterThanOrEqual(t.agents[i - 1]!.priority);
      expect(t.ringSeconds).toBe(group!.ring_seconds);
      checkFallback(config, t.fallback, mode);
      break;
    }
    case 'ai_agent':
      expect(mode).not.toBe('ai-down');
      expect(Object.hasOwn(config.ring_groups, t.handoffRingGroup)).toBe(true);
      break;
    case 'voicemail':
      expect(Object.hasOwn(config.mailboxes, t.mailbox)).toBe(true);
      break;
    case 'external':
      expect(t.number).toMatch(E164);
      break;
    case 'reject':
      expect(['CALL_REJECTED', 'USER_BUSY']).toContain(t.cause);
      break;
  }
}

function factsArbitrary(config: RoutingConfig): fc.Arbitrary<CallFacts> {
  const dids = Object.keys(config.numbers);
  const blocked = config.callers.blocked.map((b) => (b.endsWith('*') ? `${b.slice(0, -1)}5550123` : b));
  const vips = config.callers.vip.map((v) => v.number);
  const groups = [...Object.keys(config.ring_groups), 'retired_group'];
  const randomNumber = fc.integer({ min: 2_000_000_000, max: 9_999_999_999 }).map((n) => `+1${n}`);
  const at = fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2029-12-31T23:59:59Z') }).map((ms) => new Date(ms));
  return fc.record(
    {
      to: fc.oneof(fc.constantFrom(...dids), fc.constantFrom(...dids).map((d) => d.slice(2)), randomNumber, fc.constant('')),
      from: fc.oneof(randomNumber, fc.constantFrom(...blocked, ...vips), fc.constantFrom('', 'anonymous', 'Restricted')),
      at,
      digits: fc.option(fc.stringMatching(/^[0-9*#]{0,3}$/), { nil: undefined }),
      mode: fc.constantFrom<SystemMode>('normal', 'ai-down', '3cx-down'),
      history: fc.option(
        fc.record(
          {
            lastCallAt: fc.integer({ min: -10 * 86_400_000, max: 30 * 86_400_000 }).map((back) => new Date(Date.parse('2027-01-01T00:00:00Z') - back)),
            lastRingGroup: fc.constantFrom(...groups),
          },
          { requiredKeys: [] },
        ),
        { nil: undefined },
      ),
    },
    { requiredKeys: ['to', 'from', 'at', 'mode'] },
  );
}

describe('every decision references things that exist', () => {
  it('holds for random calls over five years', () => {
    fc.assert(
      fc.property(factsArbitrary(practice), (facts) => {
        const decision = route(practice, facts);
        checkTarget(practice, decision.target, facts.mode);
        if (decision.location !== null) expect(Object.hasOwn(practice.locations, decision.location)).toBe(true);
        expect(resolveRule(practice, decision.rule)).toBeDefined();
        if (facts.mode === '3cx-down' && decision.target.kind !== 'reject') {
          expect(decision.target).toMatchObject({ kind: 'external', via: 'twilio' });
        }
        const callerDigits = facts.from.replace(/\D/g, '');
        if (callerDigits.length > 4) expect(decision.reason.replace(/\D/g, '')).not.toContain(callerDigits.slice(-7));
        if (decision.target.kind === 'reject') expect(decision.recording.enabled).toBe(false);
      }),
      { numRuns: 2000, seed: 4242 },
    );
  });
});
