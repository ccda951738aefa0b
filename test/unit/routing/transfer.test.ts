// Where the AI's hand-offs go: names from the agent turned into routing targets, never a dead end.
import { describe, expect, it } from 'vitest';
import { transferDial } from '../../../src/core/call-plan.ts';
import { resolveTransfer } from '../../../src/core/routing/transfer.ts';
import { CHARLOTTE_MAIN, DALLAS_MAIN, practice } from './helpers.ts';

// During opening hours at both locations (after hours: after-hours.test.ts).
const WED_OPEN = new Date('2026-12-23T10:00:00-05:00');

const request = (name: string, over: Partial<Parameters<typeof resolveTransfer>[1]> = {}) =>
  resolveTransfer(practice, { name, handoffRingGroup: 'scheduling', to: CHARLOTTE_MAIN, mode: 'normal', at: WED_OPEN, ...over });

describe('resolveTransfer', () => {
  it('sends "operator" to the call\'s hand-off group and a named group to that group', () => {
    expect(request('operator')).toMatchObject({ resolvedAs: 'ring_group:scheduling', substituted: false, target: { kind: 'ring_group', ringGroup: 'scheduling' } });
    expect(request('billing')).toMatchObject({ resolvedAs: 'ring_group:billing', substituted: false, target: { kind: 'ring_group', ringGroup: 'billing' } });
  });

  it('sends a name the routing file does not know to the hand-off group, flagged as substituted', () => {
    expect(request('astrology')).toMatchObject({ resolvedAs: 'ring_group:scheduling', substituted: true });
  });

  it('sends "emergency" to the emergency target', () => {
    const { target } = request('emergency');
    expect(target).toEqual({ kind: 'external', number: practice.emergency.target.number, via: 'threecx' });
  });

  it('uses the location\'s backup number over Twilio while 3CX is down', () => {
    expect(request('billing', { mode: '3cx-down', to: DALLAS_MAIN }).target).toEqual({ kind: 'external', number: '+12145550180', via: 'twilio' });
  });

  it('dials a group agent by agent, then its fallback once', () => {
    const dial = transferDial(request('billing').target, { threecx: 'threecx', twilio: 'twilio' });
    expect(dial?.dial).toMatch(/^\[leg_timeout=\d+\]sofia\/gateway\/threecx\/\d+/);
    expect(dial?.fallbackDial).toMatch(/^sofia\/gateway\/threecx\/\d+$/);
  });
});
