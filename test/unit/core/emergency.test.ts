import { describe, expect, it } from 'vitest';
import { emergencyDial, EmergencyPhrases } from '../../../src/core/emergency.ts';

const gateways = { threecx: 'threecx', twilio: 'twilio' };
const targets = { number: '+17045550911', via: 'threecx' as const, managerExtension: '110' };

describe('emergency phrases', () => {
  const phrases = new EmergencyPhrases({ en: ['chest pain', "can't breathe"], es: ['dolor de pecho', 'no puedo respirar'] });

  it('finds a phrase in a partial transcript, whatever the case, accents and apostrophes', () => {
    expect(phrases.find('I have CHEST pain and')).toEqual({ language: 'en', index: 0 });
    expect(phrases.find('i cant breathe')).toEqual({ language: 'en', index: 1 });
    expect(phrases.find('tengo dolor de pecho')).toEqual({ language: 'es', index: 0 });
    expect(phrases.find('No puedo respirar.')).toEqual({ language: 'es', index: 1 });
  });

  it('matches whole words only', () => {
    expect(phrases.find('my chest painting class')).toBeUndefined();
    expect(phrases.find('')).toBeUndefined();
  });
});

describe('emergency dial string', () => {
  it('tries the emergency line, the manager, then the line over the backup trunk, in one bridge', () => {
    const { dial, fallbackDial } = emergencyDial(targets, gateways, 'normal');
    expect(dial.split('|')).toEqual([
      '[leg_timeout=20]sofia/gateway/threecx/+17045550911',
      '[leg_timeout=20]sofia/gateway/threecx/110',
      '[leg_timeout=20]sofia/gateway/twilio/+17045550911',
    ]);
    expect(fallbackDial).toBe(dial);
  });

  it('uses only the backup trunk while 3CX is down', () => {
    expect(emergencyDial(targets, gateways, '3cx-down').dial).toBe('[leg_timeout=20]sofia/gateway/twilio/+17045550911');
  });

  it('does not dial the same Twilio leg twice when the line is already on Twilio', () => {
    expect(emergencyDial({ ...targets, via: 'twilio' }, gateways, 'normal').dial.split('|')).toHaveLength(2);
  });
});
