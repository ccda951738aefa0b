import { describe, expect, it } from 'vitest';
import { initialCallState, transition, type CallInput, type CallMachineState } from '../../../src/core/call-machine.ts';
import { CallStates } from '../../../src/core/call.ts';

function run(inputs: CallInput[], start: CallMachineState = initialCallState) {
  let state = start;
  const results = inputs.map((input) => {
    const result = transition(state, input);
    state = result.next;
    return result;
  });
  return { state, results };
}

describe('call state machine', () => {
  it('walks the happy path ringing → answered → in conversation → transferring → bridged → ended', () => {
    const { state, results } = run([
      { type: 'offered' },
      { type: 'answered' },
      { type: 'greeting_finished', interrupted: false },
      { type: 'transfer_requested', target: 'user/1001', reason: 'billing' },
      { type: 'bridged', otherLegUuid: 'b-leg' },
      { type: 'hung_up', cause: 'NORMAL_CLEARING' },
    ]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.next.state)).toEqual([
      'ringing',
      'answered',
      'in_conversation',
      'transferring',
      'bridged',
      'ended',
    ]);
    expect(state).toEqual({ state: 'ended', hangupCause: 'NORMAL_CLEARING' });
  });

  it('answers, records and greets as soon as the call is offered, in that order', () => {
    const offered = transition(initialCallState, { type: 'offered' });
    expect(offered.commands).toEqual([{ type: 'answer' }, { type: 'start_recording' }, { type: 'play_greeting' }]);
    const answered = transition(offered.next, { type: 'answered' });
    expect(answered.next.state).toBe('answered');
    expect(answered.commands).toEqual([]);
  });

  it('ends from any live state and always asks for the call to be released', () => {
    for (const state of CallStates.filter((s) => s !== 'ended')) {
      const result = transition({ state, hangupCause: null }, { type: 'hung_up', cause: 'ORIGINATOR_CANCEL' });
      expect(result.ok).toBe(true);
      expect(result.next).toEqual({ state: 'ended', hangupCause: 'ORIGINATOR_CANCEL' });
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

  it('ignores everything after the call ended, including a second hangup', () => {
    const ended: CallMachineState = { state: 'ended', hangupCause: 'NORMAL_CLEARING' };
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

  it('goes back to the conversation when a transfer fails or the human leaves', () => {
    const failed = run([
      { type: 'offered' },
      { type: 'answered' },
      { type: 'transfer_requested', target: 'user/1001', reason: 'x' },
      { type: 'transfer_failed', cause: 'NO_ANSWER' },
    ]);
    expect(failed.state.state).toBe('in_conversation');
    const left = run([
      { type: 'transfer_requested', target: 'user/1001', reason: 'x' },
      { type: 'bridged', otherLegUuid: 'b' },
      { type: 'unbridged' },
    ], { state: 'in_conversation', hangupCause: null });
    expect(left.state.state).toBe('in_conversation');
  });

  it('sends a hangup command on request but keeps the state until FreeSWITCH confirms it', () => {
    const result = transition({ state: 'in_conversation', hangupCause: null }, { type: 'hangup_requested', cause: 'NORMAL_CLEARING' });
    expect(result.next.state).toBe('in_conversation');
    expect(result.commands).toEqual([{ type: 'hangup', cause: 'NORMAL_CLEARING' }]);
  });

  it('does not transfer a call that is still ringing', () => {
    const result = transition(initialCallState, { type: 'transfer_requested', target: 't', reason: 'r' });
    expect(result.ok).toBe(false);
  });
});
