import { describe, expect, it } from 'vitest';
import { initialTurnState, turnStep, type TurnInput, type TurnResult, type TurnState } from '../../../src/core/turn-taking.ts';

const options = { operatorDigit: '0' };

function run(inputs: TurnInput[], start: TurnState = initialTurnState): { state: TurnState; results: TurnResult[] } {
  let state = start;
  const results = inputs.map((input) => {
    const result = turnStep(state, input, options);
    state = result.next;
    return result;
  });
  return { state, results };
}

const commandsOf = (results: TurnResult[]) => results.flatMap((r) => r.commands);

describe('turn-taking', () => {
  it('takes a whole turn: the caller speaks, the agent answers, the reply is synthesized and played', () => {
    const { state, results } = run([
      { type: 'partial', text: 'I need' },
      { type: 'final', text: 'I need an appointment', confidence: 0.93 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: 'Which day suits you?', ssml: false, actions: [] },
      { type: 'speech_ready', turn: 0, path: '/cache/abc.wav' },
      { type: 'playback_finished' },
    ]);
    expect(commandsOf(results)).toEqual([
      { type: 'ask_agent', turn: 0, text: 'I need an appointment', confidence: 0.93, dtmf: '' },
      { type: 'synthesize', turn: 0, text: 'Which day suits you?', ssml: false },
      { type: 'play', path: '/cache/abc.wav' },
    ]);
    expect(state.phase).toBe('listening');
  });

  it('breaks playback the moment the caller talks over the agent, and drops what belonged to that turn', () => {
    const speaking: TurnState = {
      ...initialTurnState,
      phase: 'speaking',
      pendingActions: [{ type: 'hangup' }],
    };
    const barge = turnStep(speaking, { type: 'voice_activity' }, options);
    expect(barge.commands).toEqual([{ type: 'break_playback' }]);
    expect(barge.next).toMatchObject({ phase: 'caller_speaking', turn: 1, pendingActions: [] });
    // The interrupted playback ends, but it no longer triggers the old turn's actions.
    const ended = turnStep(barge.next, { type: 'playback_finished' }, options);
    expect(ended.commands).toEqual([]);
    expect(ended.dropped).toMatch(/not speaking/);
  });

  it('drops a stale reply when the caller kept talking, and sends the whole utterance instead', () => {
    const { results, state } = run([
      { type: 'final', text: 'I want to book', confidence: 0.9 },
      { type: 'end_of_utterance' },
      { type: 'partial', text: 'for next' },
      { type: 'agent_reply', turn: 0, say: 'Sure, when?', ssml: false, actions: [] },
      { type: 'final', text: 'for next Tuesday', confidence: 0.8 },
      { type: 'end_of_utterance' },
    ]);
    expect(results[3]!.dropped).toMatch(/stale agent reply for turn 0/);
    expect(results[5]!.commands).toEqual([
      { type: 'ask_agent', turn: 1, text: 'I want to book for next Tuesday', confidence: 0.8, dtmf: '' },
    ]);
    expect(state.phase).toBe('thinking');
  });

  it('drops synthesized speech for a turn that is over', () => {
    const { results } = run([
      { type: 'final', text: 'hello', confidence: 1 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: 'Hi!', ssml: false, actions: [] },
      { type: 'voice_activity' },
      { type: 'speech_ready', turn: 0, path: '/cache/hi.wav' },
    ]);
    expect(results[4]!.commands).toEqual([]);
    expect(results[4]!.dropped).toMatch(/stale speech/);
  });

  it('performs the agent actions after its words were said, or at once when it says nothing', () => {
    const transfer = { type: 'transfer' as const, target: 'billing', reason: 'billing question', summary: 'invoice' };
    const spoken = run([
      { type: 'final', text: 'question about my bill', confidence: 1 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: 'Connecting you to billing.', ssml: false, actions: [transfer] },
      { type: 'speech_ready', turn: 0, path: '/cache/b.wav' },
      { type: 'playback_finished' },
    ]);
    expect(spoken.results[4]!.commands).toEqual([{ type: 'perform', actions: [transfer] }]);

    const silent = run([
      { type: 'final', text: 'bill', confidence: 1 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: '', ssml: false, actions: [transfer] },
    ]);
    expect(silent.results[2]!.commands).toEqual([{ type: 'perform', actions: [transfer] }]);
  });

  it('hands the caller to a person when they press the operator digit, even mid-sentence', () => {
    const speaking: TurnState = { ...initialTurnState, phase: 'speaking', heard: [] };
    const pressed = turnStep(speaking, { type: 'dtmf', digit: '0' }, options);
    expect(pressed.commands[0]).toEqual({ type: 'break_playback' });
    expect(pressed.commands[1]).toMatchObject({ type: 'perform', actions: [{ type: 'transfer', target: 'operator' }] });
  });

  it('sends other digits with the next turn, and a digits-only turn when the caller only pressed keys', () => {
    const { results } = run([{ type: 'dtmf', digit: '2' }, { type: 'dtmf', digit: '#' }, { type: 'end_of_utterance' }]);
    expect(results[2]!.commands).toEqual([{ type: 'ask_agent', turn: 0, text: '', confidence: 1, dtmf: '2#' }]);
  });

  it('plays the generic prompt when synthesis fails, never silence', () => {
    const { results } = run([
      { type: 'final', text: 'hi', confidence: 1 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: 'Hello', ssml: false, actions: [] },
      { type: 'speech_failed', turn: 0 },
    ]);
    expect(results[3]!.commands).toEqual([{ type: 'play_fallback_prompt' }]);
  });

  it('ignores an end of utterance with nothing heard', () => {
    const result = turnStep(initialTurnState, { type: 'end_of_utterance' }, options);
    expect(result.commands).toEqual([]);
    expect(result.dropped).toBeDefined();
  });

  it('stops the agent when the caller presses a key while it speaks, and sends the digit as the turn', () => {
    const speaking: TurnState = { ...initialTurnState, phase: 'speaking', pendingActions: [{ type: 'collect_digits', max: 1, timeoutMs: 5000 }] };
    const pressed = turnStep(speaking, { type: 'dtmf', digit: '1' }, options);
    expect(pressed.commands).toEqual([{ type: 'break_playback' }]);
    expect(pressed.next).toMatchObject({ phase: 'caller_speaking', digits: '1', pendingActions: [] });
    const asked = turnStep(pressed.next, { type: 'end_of_utterance' }, options);
    expect(asked.commands).toEqual([{ type: 'ask_agent', turn: 1, text: '', confidence: 1, dtmf: '1' }]);
  });
});
