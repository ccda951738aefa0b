// `callbridge routes explain`: the decision in sentences an admin can act on, with phone numbers masked.
import { describe, expect, it } from 'vitest';
import { explainDecision } from '../../../src/core/routing/explain.ts';
import { route } from '../../../src/core/routing/route.ts';
import { CHARLOTTE_BILLING, CHARLOTTE_MAIN, DALLAS_MAIN, PATIENT, facts, practice } from './helpers.ts';

const explain = (f: ReturnType<typeof facts>): string => explainDecision(route(practice, f), f);

describe('explainDecision', () => {
  it('Christmas Eve evening: says where, why, which rule, and the recording', () => {
    const text = explain(facts({ at: '2026-12-24T17:45:00-05:00' }));
    expect(text).toContain('Location: charlotte.');
    expect(text).toMatch(/AI agent, taking a message only/);
    expect(text).toMatch(/Christmas Eve \(open only 08:00-12:00\)/);
    // After hours: the offer comes first, and a person is not the closed ring group.
    expect(text).toContain('First: the caller hears "If this is an urgent clinical question, press 1 for the on-call provider." Pressing 1 calls the on-call provider.');
    expect(text).toMatch(/asks for a person goes to the after-hours people/);
    expect(text).not.toMatch(/ring group "scheduling"/);
    expect(text).toContain('Rule: locations.charlotte.holidays[1]');
    expect(text).toContain('Recording: on, after the announcement "This call may be recorded for quality and training."');
  });

  it('names the agents in ringing order with extensions, and the fallback', () => {
    const text = explain(facts({ to: CHARLOTTE_BILLING, at: '2026-12-23T10:00:00-05:00' }));
    expect(text).toMatch(/Tom Nguyen \(ext 201, priority 1\), then Rosa García \(ext 202, priority 2\), then Aisha Khan/);
    expect(text).toMatch(/one after another/);
    expect(text).toMatch(/If nobody answers: voicemail box "main"/);
    expect(text).toContain('Recording: off.');
  });

  it('never shows a full phone number: caller, DID and targets are masked to the last 4 digits', () => {
    for (const f of [
      facts({ at: '2026-12-23T10:00:00-05:00', digits: '0' }),
      facts({ to: DALLAS_MAIN, at: '2026-12-23T10:00:00-05:00', mode: '3cx-down' }),
      facts({ from: '+13055550199', at: '2026-12-23T10:00:00-05:00' }),
    ]) {
      const text = explain(f);
      for (const full of [PATIENT, CHARLOTTE_MAIN, DALLAS_MAIN, '+17045550911', '+12145550180', '+13055550199']) {
        expect(text).not.toContain(full.slice(2));
      }
      expect(text).toMatch(/…\d{4}/);
    }
    expect(explain(facts({ at: '2026-12-23T10:00:00-05:00', digits: '0' }))).toMatch(/outside number …0911 through the 3CX trunk/);
  });

  it('a withheld caller is described as such', () => {
    expect(explain(facts({ from: 'anonymous', at: '2026-12-23T10:00:00-05:00' }))).toMatch(/from \(withheld\)/);
  });
});
