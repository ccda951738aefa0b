// After hours, as routing decides it: the urgent offer the caller must hear, and where a caller who asks for a
// person goes while the ring groups are closed (the after-hours human target, never a closed group).
import { describe, expect, it } from 'vitest';
import { route } from '../../../src/core/routing/route.ts';
import { resolveTransfer } from '../../../src/core/routing/transfer.ts';
import { CHARLOTTE_MAIN, CHARLOTTE_SPANISH, DALLAS_MAIN, DENVER_MAIN, facts, practice } from './helpers.ts';

// Wednesday 2026-12-23: Charlotte is open 08:00-12:00 and 13:00-17:00 (New York time).
const WED_EVENING = '2026-12-23T19:30:00-05:00';
const WED_OPEN = '2026-12-23T10:00:00-05:00';
const DENVER_EVENING = '2026-12-23T18:00:00-07:00';

const handOff = (name: string, at: string, over: Partial<Parameters<typeof resolveTransfer>[1]> = {}) =>
  resolveTransfer(practice, { name, handoffRingGroup: 'scheduling', to: CHARLOTTE_MAIN, mode: 'normal', at: new Date(at), ...over });

describe('the urgent offer after hours', () => {
  it('is part of an after-hours decision, in the number\'s language, with the digits to press', () => {
    const english = route(practice, facts({ at: WED_EVENING }));
    expect(english.target).toMatchObject({ kind: 'ai_agent', messageOnly: true });
    expect(english.urgentOffer?.digits).toBe('1');
    expect(english.urgentOffer?.prompt).toMatch(/urgent.*press 1.*on-call provider/i);
    const spanish = route(practice, facts({ to: CHARLOTTE_SPANISH, at: WED_EVENING }));
    expect(spanish.urgentOffer?.prompt).toMatch(/urgente.*marque 1/i);
  });

  it('is made before a voicemail after-hours target too (Denver)', () => {
    const denver = route(practice, facts({ to: DENVER_MAIN, at: DENVER_EVENING }));
    expect(denver.target).toMatchObject({ kind: 'voicemail', mailbox: 'denver_front_desk' });
    expect(denver.urgentOffer?.digits).toBe('1');
  });

  it('is not made during opening hours, nor once the caller has pressed the digits', () => {
    expect(route(practice, facts({ at: WED_OPEN })).urgentOffer).toBeUndefined();
    const pressed = route(practice, facts({ at: WED_EVENING, digits: '1' }));
    expect(pressed.target).toMatchObject({ kind: 'external', number: '+17045550190' });
    expect(pressed.urgentOffer).toBeUndefined();
  });
});

describe('a person requested after hours', () => {
  it('goes to the after-hours human target, not to the closed ring group', () => {
    // Charlotte's after-hours target is the AI itself, so the person is the ai-down after-hours target.
    for (const name of ['operator', 'billing', 'scheduling', 'no_such_group']) {
      const resolved = handOff(name, WED_EVENING);
      expect(resolved.target).toMatchObject({ kind: 'voicemail', mailbox: 'main' });
      expect(resolved.resolvedAs).toBe('voicemail:main');
    }
  });

  it('uses the location\'s own after-hours target when it names people (Denver\'s voicemail)', () => {
    const resolved = handOff('operator', DENVER_EVENING, { to: DENVER_MAIN });
    expect(resolved.target).toMatchObject({ kind: 'voicemail', mailbox: 'denver_front_desk' });
  });

  it('rings the ring group during opening hours, as before', () => {
    expect(handOff('operator', WED_OPEN)).toMatchObject({ resolvedAs: 'ring_group:scheduling', target: { kind: 'ring_group' } });
  });

  it('still sends "emergency" to the emergency target, and "on_call" to the location\'s on-call provider', () => {
    expect(handOff('emergency', WED_EVENING).target).toEqual({ kind: 'external', number: practice.emergency.target.number, via: 'threecx' });
    expect(handOff('on_call', WED_EVENING)).toMatchObject({ resolvedAs: 'on_call', target: { kind: 'external', number: '+17045550190', via: 'threecx' } });
    expect(handOff('on_call', '2026-12-23T19:00:00-06:00', { to: DALLAS_MAIN }).target).toMatchObject({ number: '+17045550199' });
  });
});
