import { describe, expect, it } from 'vitest';
import { initialTurnState, turnStep, type TurnInput, type TurnResult, type TurnState } from '../../../src/core/turn-taking.ts';
import type { AgentAction } from '../../../src/core/voice-ports.ts';

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

/** The agent in the middle of saying one sentence (turn 0), with `actions` to run after it. */
function speakingReply(actions: AgentAction[]): TurnState {
  return run([
    { type: 'final', text: 'hello', confidence: 1 },
    { type: 'end_of_utterance' },
    { type: 'agent_reply', turn: 0, say: 'Press 1 to confirm.', ssml: false, actions },
    { type: 'speech_ready', turn: 0, sentence: 0, path: '/cache/confirm.wav' },
  ]).state;
}

describe('turn-taking', () => {
  it('takes a whole turn: the caller speaks, the agent answers, the reply is synthesized and played', () => {
    const { state, results } = run([
      { type: 'partial', text: 'I need' },
      { type: 'final', text: 'I need an appointment', confidence: 0.93 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: 'Which day suits you?', ssml: false, actions: [] },
      { type: 'speech_ready', turn: 0, sentence: 0, path: '/cache/abc.wav' },
      { type: 'playback_finished', turn: 0, sentence: 0 },
    ]);
    expect(commandsOf(results)).toEqual([
      { type: 'ask_agent', turn: 0, text: 'I need an appointment', confidence: 0.93, dtmf: '' },
      { type: 'synthesize', turn: 0, sentence: 0, text: 'Which day suits you?', ssml: false },
      { type: 'play', turn: 0, sentence: 0, path: '/cache/abc.wav' },
      { type: 'sentence_heard', turn: 0, sentence: 0, text: 'Which day suits you?' },
      { type: 'reply_spoken', turn: 0, sentences: 1, heard: 1, end: 'done' },
    ]);
    expect(state.phase).toBe('listening');
  });

  it('breaks playback the moment the caller talks over the agent, and drops what belonged to that turn', () => {
    const speaking = speakingReply([{ type: 'hangup' }]);
    const barge = turnStep(speaking, { type: 'voice_activity' }, options);
    expect(barge.commands).toEqual([{ type: 'break_playback' }]);
    expect(barge.next).toMatchObject({ phase: 'caller_speaking', turn: 1, reply: undefined });
    // The interrupted playback ends, but it no longer triggers the old turn's actions.
    const ended = turnStep(barge.next, { type: 'playback_finished', turn: 0, sentence: 0 }, options);
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
    // The engine hears that nothing of the reply it was making reached the caller.
    expect(results[5]!.commands).toEqual([
      { type: 'ask_agent', turn: 1, text: 'I want to book for next Tuesday', confidence: 0.8, dtmf: '', interrupted: { played: [], cut: null, unplayed: 0 } },
    ]);
    expect(state.phase).toBe('thinking');
  });

  it('drops synthesized speech for a turn that is over', () => {
    const { results } = run([
      { type: 'final', text: 'hello', confidence: 1 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: 'Hi!', ssml: false, actions: [] },
      { type: 'voice_activity' },
      { type: 'speech_ready', turn: 0, sentence: 0, path: '/cache/hi.wav' },
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
      { type: 'speech_ready', turn: 0, sentence: 0, path: '/cache/b.wav' },
      { type: 'playback_finished', turn: 0, sentence: 0 },
    ]);
    expect(spoken.results[4]!.commands).toContainEqual({ type: 'perform', actions: [transfer] });

    const silent = run([
      { type: 'final', text: 'bill', confidence: 1 },
      { type: 'end_of_utterance' },
      { type: 'agent_reply', turn: 0, say: '', ssml: false, actions: [transfer] },
    ]);
    expect(silent.results[2]!.commands).toEqual([
      { type: 'reply_spoken', turn: 0, sentences: 0, heard: 0, end: 'done' },
      { type: 'perform', actions: [transfer] },
    ]);
  });

  it('hands the caller to a person when they press the operator digit, even mid-sentence', () => {
    const speaking = speakingReply([]);
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
      { type: 'speech_failed', turn: 0, sentence: 0 },
    ]);
    expect(results[3]!.commands).toEqual([{ type: 'play_fallback_prompt', turn: 0, sentence: 0 }]);
  });

  it('ignores an end of utterance with nothing heard', () => {
    const result = turnStep(initialTurnState, { type: 'end_of_utterance' }, options);
    expect(result.commands).toEqual([]);
    expect(result.dropped).toBeDefined();
  });

  it('stops the agent when the caller presses a key while it speaks, and sends the digit as the turn', () => {
    const speaking = speakingReply([{ type: 'collect_digits', max: 1, timeoutMs: 5000 }]);
    const pressed = turnStep(speaking, { type: 'dtmf', digit: '1' }, options);
    expect(pressed.commands).toEqual([{ type: 'break_playback' }]);
    expect(pressed.next).toMatchObject({ phase: 'caller_speaking', digits: '1', reply: undefined });
    // The turn waits for FreeSWITCH to say how much of the cut sentence played, then goes with it.
    const asked = turnStep(pressed.next, { type: 'end_of_utterance' }, options);
    expect(asked.commands).toEqual([]);
    const stopped = turnStep(asked.next, { type: 'playback_stopped', turn: 0, sentence: 0, playedMs: 640 }, options);
    expect(stopped.commands).toEqual([
      { type: 'ask_agent', turn: 1, text: '', confidence: 1, dtmf: '1', interrupted: { played: [], cut: { text: 'Press 1 to confirm.', playedMs: 640 }, unplayed: 0 } },
    ]);
  });
});
