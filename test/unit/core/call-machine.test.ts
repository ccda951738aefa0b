import { describe, expect, it } from 'vitest';
import {
  initialCallState,
  transition,
  type CallInput,
  type CallMachineState,
} from '../../../src/core/call-machine.ts';
import type { CallPlan } from '../../../src/core/call-plan.ts';
import { CallStates } from '../../../src/core/call.ts';

const converse: CallPlan = { kind: 'converse', record: true, announcement: null };
const connect: CallPlan = {
  kind: 'connect',
  record: true,
  announcement: 'ivr/this-call-is-recorded.wav',
  dial: '[leg_timeout=20]sofia/gateway/threecx/101|[leg_timeout=20]sofia/gateway/threecx/102',
  fallbackDial: 'sofia/gateway/threecx/800',
  reason: 'business hours',
};

function run(inputs: CallInput[], start: CallMachineState = initialCallState) {
  let state = start;
  const results = inputs.map((input) => {
    const result = transition(state, input);
    state = result.next;
    return result;
  });
  return { state, results };
}

const live = (state: CallMachineState['state'], plan: CallPlan | null = converse): CallMachineState => ({
  state,
  hangupCause: null,
  plan,
  fallbackTried: false,
  transferFallback: null,
});

describe('call state machine', () => {
  it('walks ringing → answered → in conversation → transferring → bridged → ended', () => {
    const { state, results } = run([
      { type: 'offered', plan: converse },
      { type: 'answered' },
      { type: 'greeting_finished', interrupted: false },
      { type: 'transfer_requested', target: 'sofia/gateway/threecx/101', reason: 'billing' },
      { type: 'bridged', otherLegUuid: 'b-leg' },
      { type: 'hung_up', cause: 'NORMAL_CLEARING' },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.next.state)).toEqual(['ringing', 'answered', 'in_conversation', 'transferring', 'bridged', 'ended']);
    expect(state).toMatchObject({ state: 'ended', hangupCause: 'NORMAL_CLEARING' });
  });

  it('answers, records and greets as soon as a conversation call is offered, in that order', () => {
    const offered = transition(initialCallState, { type: 'offered', plan: converse });
    expect(offered.commands).toEqual([{ type: 'answer' }, { type: 'start_recording' }, { type: 'play_greeting' }]);
    const answered = transition(offered.next, { type: 'answered' });
    expect(answered.next.state).toBe('answered');
    expect(answered.commands).toEqual([]);
  });

  it('does not record or announce when routing says the number is not recorded', () => {
    const offered = transition(initialCallState, { type: 'offered', plan: { kind: 'converse', record: false, announcement: null } });
    expect(offered.commands).toEqual([{ type: 'answer' }, { type: 'play_greeting' }]);
  });

  it('rejects a blocked call without answering it', () => {
    const offered = transition(initialCallState, { type: 'offered', plan: { kind: 'reject', cause: 'CALL_REJECTED' } });
    expect(offered.commands).toEqual([{ type: 'hangup', cause: 'CALL_REJECTED' }]);
    expect(offered.next.state).toBe('ringing');
  });

  it('announces the recording, then connects a call for people once it is answered', () => {
    const { results, state } = run([{ type: 'offered', plan: connect }, { type: 'answered' }]);
    expect(results[0]!.commands).toEqual([
      { type: 'answer' },
      { type: 'start_recording' },
      { type: 'announce', sound: 'ivr/this-call-is-recorded.wav' },
    ]);
    expect(results[1]!.commands).toEqual([{ type: 'bridge', target: connect.dial }]);
    expect(state.state).toBe('transferring');
  });

  it('tries the ring group fallback once when nobody answers, then holds the caller rather than dropping them', () => {
    const { results, state } = run([
      { type: 'offered', plan: connect },
      { type: 'answered' },
      { type: 'transfer_failed', cause: 'NO_ANSWER' },
      { type: 'transfer_failed', cause: 'NO_ANSWER' },
    ]);
    expect(results[2]!.commands).toEqual([{ type: 'bridge', target: 'sofia/gateway/threecx/800' }]);
    expect(results[2]!.next.state).toBe('transferring');
    expect(results[3]!.commands).toEqual([{ type: 'hold' }]);
    expect(state.state).toBe('in_conversation');
  });

  it('ends from any live state and always asks for the call to be released', () => {
    for (const state of CallStates.filter((s) => s !== 'ended')) {
      const result = transition(live(state), { type: 'hung_up', cause: 'ORIGINATOR_CANCEL' });
      expect(result.ok).toBe(true);
      expect(result.next).toMatchObject({ state: 'ended', hangupCause: 'ORIGINATOR_CANCEL' });
      expect(result.commands).toEqual([{ type: 'release' }]);
    }
  });

  it('reports an illegal input without changing state or emitting commands', () => {
    const result = transition(initialCallState, { type: 'bridged', otherLegUuid: 'x' });
    expect(result.ok).toBe(false);
    expect(result.next).toBe(initialCallState);
    expect(result.commands).toEqual([]);
    if (!result.ok) expect(result.reason).toMatch(/no transfer/);
  });

  it('refuses a second offer', () => {
    const once = transition(initialCallState, { type: 'offered', plan: converse });
    expect(transition(once.next, { type: 'offered', plan: converse }).ok).toBe(false);
  });

  it('ignores everything after the call ended, including a second hangup', () => {
    const ended: CallMachineState = { ...live('ended'), hangupCause: 'NORMAL_CLEARING' };
    for (const input of [
      { type: 'hung_up', cause: 'LATE' },
      { type: 'answered' },
      { type: 'hangup_requested', cause: 'X' },
    ] satisfies CallInput[]) {
      const result = transition(ended, input);
      expect(result.ok).toBe(false);
      expect(result.next).toEqual(ended);
    }
  });

  it('goes back to the conversation when a requested transfer fails or the human leaves', () => {
    const failed = run(
      [
        { type: 'transfer_requested', target: 'sofia/gateway/threecx/101', reason: 'x' },
        { type: 'transfer_failed', cause: 'NO_ANSWER' },
      ],
      live('in_conversation'),
    );
    expect(failed.state.state).toBe('in_conversation');
    const left = run(
      [
        { type: 'transfer_requested', target: 'sofia/gateway/threecx/101', reason: 'x' },
        { type: 'bridged', otherLegUuid: 'b' },
        { type: 'unbridged' },
      ],
      live('in_conversation'),
    );
    expect(left.state.state).toBe('in_conversation');
  });

  it('leaves the ringing to the controller for a warm transfer, then dials the fallback if nobody took the call', () => {
    const { results } = run(
      [
        { type: 'transfer_requested', target: 'warm:front', reason: 'billing', fallback: 'voicemail', warm: true },
        { type: 'transfer_failed', cause: 'NO_ANSWER' },
      ],
      live('in_conversation'),
    );
    expect(results.map((r) => r.commands)).toEqual([[], [{ type: 'bridge', target: 'voicemail' }]]);
  });

  it("tries a hand-off's fallback once when nobody in the group answers, then holds the caller", () => {
    const { state, results } = run(
      [
        { type: 'transfer_requested', target: 'group', reason: 'billing', fallback: 'voicemail' },
        { type: 'transfer_failed', cause: 'NO_ANSWER' },
        { type: 'transfer_failed', cause: 'NO_ANSWER' },
      ],
      live('in_conversation'),
    );
    expect(results.map((r) => r.commands)).toEqual([
      [{ type: 'bridge', target: 'group' }],
      [{ type: 'bridge', target: 'voicemail' }],
      [{ type: 'hold' }],
    ]);
    expect(state.state).toBe('in_conversation');
  });

  it('sends a hangup command on request but keeps the state until FreeSWITCH confirms it', () => {
    const result = transition(live('in_conversation'), { type: 'hangup_requested', cause: 'NORMAL_CLEARING' });
    expect(result.next.state).toBe('in_conversation');
    expect(result.commands).toEqual([{ type: 'hangup', cause: 'NORMAL_CLEARING' }]);
  });

  it('after hours, makes the urgent offer before connecting, then connects to the plan\'s target when it is declined', () => {
    const offer = { prompt: 'If this is an urgent clinical question, press 1 for the on-call provider.', digits: '1' };
    const voicemail: CallPlan = { ...connect, dial: 'sofia/gateway/threecx/850', fallbackDial: null, offer };
    const { state, results } = run([{ type: 'offered', plan: voicemail }, { type: 'answered' }, { type: 'urgent_offer_declined' }]);
    expect(results.every((r) => r.ok)).toBe(true);
    // No bridge until the caller had the chance to choose.
    expect(results[1]!.next.state).toBe('answered');
    expect(results[1]!.commands).toEqual([{ type: 'urgent_offer', ...offer }]);
    expect(results[2]!.commands).toEqual([{ type: 'bridge', target: 'sofia/gateway/threecx/850' }]);
    expect(state.state).toBe('transferring');
  });

  it('connects the urgent caller elsewhere (the on-call number), with the after-hours target as its fallback', () => {
    const voicemail: CallPlan = { ...connect, dial: 'sofia/gateway/threecx/850', fallbackDial: null, offer: { prompt: 'p', digits: '1' } };
    const { state, results } = run([
      { type: 'offered', plan: voicemail },
      { type: 'answered' },
      { type: 'transfer_requested', target: 'sofia/gateway/threecx/+17045550190', reason: 'urgent clinical', fallback: 'sofia/gateway/threecx/850' },
      { type: 'transfer_failed', cause: 'NO_ANSWER' },
    ]);
    expect(results.map((r) => r.commands)).toEqual([
      [{ type: 'answer' }, { type: 'start_recording' }, { type: 'announce', sound: 'ivr/this-call-is-recorded.wav' }],
      [{ type: 'urgent_offer', prompt: 'p', digits: '1' }],
      [{ type: 'bridge', target: 'sofia/gateway/threecx/+17045550190' }],
      [{ type: 'bridge', target: 'sofia/gateway/threecx/850' }],
    ]);
    expect(state.state).toBe('transferring');
    // Declining makes no sense once the caller is being connected.
    expect(transition(state, { type: 'urgent_offer_declined' }).ok).toBe(false);
  });

  it('does not transfer a call that is still ringing', () => {
    const result = transition(initialCallState, { type: 'transfer_requested', target: 't', reason: 'r' });
    expect(result.ok).toBe(false);
  });
});
