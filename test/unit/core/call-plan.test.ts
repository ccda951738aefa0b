import { describe, expect, it } from 'vitest';
import { planCall } from '../../../src/core/call-plan.ts';
import type { RoutingDecision } from '../../../src/core/routing/types.ts';

const gateways = { threecx: 'threecx', twilio: 'twilio' };
const decision = (target: RoutingDecision['target'], recording = { enabled: true, announcement: null as string | null }): RoutingDecision => ({
  target,
  location: 'downtown',
  recording,
  language: 'en-US',
  reason: 'because',
  rule: 'numbers[0]',
});

describe('call plan from a routing decision', () => {
  it('dials a ring group agent by agent, in routing order, each for its ring time, then its fallback', () => {
    const plan = planCall(
      decision({
        kind: 'ring_group',
        ringGroup: 'scheduling',
        agents: [
          { extension: '101', name: 'Ana', skills: ['scheduling'], priority: 1 },
          { extension: '102', name: 'Ben', skills: ['scheduling'], priority: 2 },
        ],
        ringSeconds: 20,
        fallback: { kind: 'voicemail', mailbox: 'main', extension: '800' },
      }),
      gateways,
    );
    expect(plan).toEqual({
      kind: 'connect',
      record: true,
      announcement: null,
      dial: '[leg_timeout=20]sofia/gateway/threecx/101|[leg_timeout=20]sofia/gateway/threecx/102',
      fallbackDial: 'sofia/gateway/threecx/800',
      reason: 'because',
    });
  });

  it('rings every agent of a simultaneous group at once', () => {
    const plan = planCall(
      decision({
        kind: 'ring_group',
        ringGroup: 'nurses',
        strategy: 'simultaneous',
        agents: [
          { extension: '201', name: 'Cy', skills: ['clinical'], priority: 1 },
          { extension: '202', name: 'Di', skills: ['clinical'], priority: 1 },
        ],
        ringSeconds: 30,
        fallback: { kind: 'external', number: '+15550100200', via: 'threecx' },
      }),
      gateways,
    );
    expect(plan).toMatchObject({
      dial: '[leg_timeout=30]sofia/gateway/threecx/201,[leg_timeout=30]sofia/gateway/threecx/202',
      fallbackDial: 'sofia/gateway/threecx/+15550100200',
    });
  });

  it('sends external numbers through the trunk routing chose', () => {
    const viaTwilio = planCall(decision({ kind: 'external', number: '+1 (555) 010-9999', via: 'twilio' }), gateways);
    expect(viaTwilio).toMatchObject({ kind: 'connect', dial: 'sofia/gateway/twilio/+15550109999' });
  });

  it('keeps dial-string syntax out of numbers taken from the routing file', () => {
    const plan = planCall(decision({ kind: 'external', number: '101|sofia/external/evil', via: 'threecx' }), gateways);
    expect(plan).toMatchObject({ dial: 'sofia/gateway/threecx/101' });
  });

  it('keeps AI calls with the controller, with the announcement only when recording', () => {
    expect(
      planCall(decision({ kind: 'ai_agent', language: 'en-US', messageOnly: false, handoffRingGroup: 'front' }, { enabled: true, announcement: 'notice.wav' }), gateways),
    ).toEqual({ kind: 'converse', record: true, announcement: 'notice.wav' });
    expect(
      planCall(decision({ kind: 'ai_agent', language: 'en-US', messageOnly: false, handoffRingGroup: 'front' }, { enabled: false, announcement: 'notice.wav' }), gateways),
    ).toEqual({ kind: 'converse', record: false, announcement: null });
  });

  it('rejects without answering', () => {
    expect(planCall(decision({ kind: 'reject', cause: 'CALL_REJECTED' }), gateways)).toEqual({ kind: 'reject', cause: 'CALL_REJECTED' });
  });
});
