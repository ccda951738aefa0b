import { describe, expect, it } from 'vitest';
import { dialString } from '../../../src/core/call-plan.ts';
import { MAX_SIP_HEADER_VALUE, sanitizeSipHeaderValue, withSipHeaders } from '../../../src/core/sip-headers.ts';

const gateways = { threecx: 'threecx', twilio: 'twilio' };
const group = (strategy: 'sequential' | 'simultaneous') =>
  dialString(
    {
      kind: 'ring_group',
      ringGroup: 'billing',
      agents: [
        { extension: '101', name: 'Ana', skills: [], priority: 1 },
        { extension: '102', name: 'Ben', skills: [], priority: 2 },
      ],
      ringSeconds: 20,
      strategy,
      fallback: { kind: 'voicemail', mailbox: 'main', extension: '800' },
    },
    gateways,
  );

/** The leading {…} block's variables and what follows it. */
function split(dial: string): { vars: string[]; rest: string } {
  const end = dial.indexOf('}');
  return { vars: dial.slice(1, end).split(','), rest: dial.slice(end + 1) };
}

describe('SIP X-headers on a dial string', () => {
  it('puts the headers in the global block so every leg of a sequential group carries them', () => {
    const dial = withSipHeaders(group('sequential'), {
      'X-Callbridge-Call-Id': '0b7e3f5e-1c1d-4a3e-9a55-3f1f0c4a8d21',
      'X-Callbridge-Summary-Url': 'https://cb.example/v1/calls/0b7e3f5e-1c1d-4a3e-9a55-3f1f0c4a8d21/context',
    });
    expect(dial).toBe(
      '{sip_h_X-Callbridge-Call-Id=0b7e3f5e-1c1d-4a3e-9a55-3f1f0c4a8d21,' +
        'sip_h_X-Callbridge-Summary-Url=https://cb.example/v1/calls/0b7e3f5e-1c1d-4a3e-9a55-3f1f0c4a8d21/context}' +
        '[leg_timeout=20]sofia/gateway/threecx/101|[leg_timeout=20]sofia/gateway/threecx/102',
    );
  });

  it('keeps the per-leg blocks of a simultaneous group and quotes values with spaces', () => {
    const dial = withSipHeaders(group('simultaneous'), { 'X-Callbridge-Reason': 'billing question about a bill' });
    expect(dial).toBe(
      "{sip_h_X-Callbridge-Reason='billing question about a bill'}[leg_timeout=20]sofia/gateway/threecx/101,[leg_timeout=20]sofia/gateway/threecx/102",
    );
  });

  it('merges into an existing global block', () => {
    const dial = withSipHeaders('{origination_uuid=abc,originate_timeout=15}sofia/gateway/threecx/101', { 'X-Callbridge-Call-Id': 'c1' });
    expect(dial).toBe('{origination_uuid=abc,originate_timeout=15,sip_h_X-Callbridge-Call-Id=c1}sofia/gateway/threecx/101');
    expect(withSipHeaders('{}sofia/gateway/threecx/101', { 'X-A': 'b' })).toBe('{sip_h_X-A=b}sofia/gateway/threecx/101');
  });

  it('leaves the dial string alone when no value survives', () => {
    expect(withSipHeaders('sofia/gateway/threecx/101', { 'X-Callbridge-Reason': ' \n,|' })).toBe('sofia/gateway/threecx/101');
  });

  it('cannot be made to add a leg or a variable (injection attempts)', () => {
    const attempts = [
      "x}sofia/gateway/twilio/19005550100|{a=b",
      'x]sofia/gateway/twilio/19005550100,[a=b',
      "x',execute_on_answer=system rm -rf,'",
      'x\\,origination_uuid=evil',
      'line1\nline2\r\nX-Injected: yes',
      '${system(id)}',
      '^^:a=b:c=d',
      '<ignore_early_media=false>',
    ];
    for (const attempt of attempts) {
      const dial = withSipHeaders(group('sequential'), { 'X-Callbridge-Reason': attempt, 'X-Callbridge-Call-Id': 'c1' });
      const { vars, rest } = split(dial);
      expect(rest).toBe(group('sequential'));
      expect(vars).toHaveLength(2);
      expect(vars[0]).toMatch(/^sip_h_X-Callbridge-Reason=/);
      expect(vars[1]).toBe('sip_h_X-Callbridge-Call-Id=c1');
      const value = (vars[0] ?? '').slice('sip_h_X-Callbridge-Reason='.length);
      // At most the pair of quotes we add; nothing else of the dial-string syntax.
      expect(value.replace(/^'(.*)'$/, '$1')).not.toMatch(/[,|{}[\]'"\\<>\n\r^$]/);
    }
  });

  it('refuses header names that are not SIP tokens', () => {
    expect(() => withSipHeaders('sofia/gateway/threecx/101', { 'X-A}=b,x': 'v' })).toThrow(/header name/);
  });

  it('bounds the length of each value', () => {
    const value = sanitizeSipHeaderValue('a'.repeat(1000));
    expect(value).toHaveLength(MAX_SIP_HEADER_VALUE);
  });

  it('collapses whitespace and keeps URLs readable', () => {
    expect(sanitizeSipHeaderValue('  caller\t asks,  about  |billing| ')).toBe('caller asks about billing');
    expect(sanitizeSipHeaderValue('https://cb.example/v1/calls/a-b/context?x=1&y=2')).toBe('https://cb.example/v1/calls/a-b/context?x=1&y=2');
  });
});
