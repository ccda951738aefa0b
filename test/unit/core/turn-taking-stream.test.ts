// Streamed replies (contract v2) through the pure turn machine: sentences synthesized as they arrive, played
// one at a time in order, actions after the last one, and what the caller heard when they cut in.
import { describe, expect, it } from 'vitest';
import { initialTurnState, turnStep, wantsReply, type TurnCommand, type TurnInput, type TurnState } from '../../../src/core/turn-taking.ts';
import type { AgentAction } from '../../../src/core/voice-ports.ts';
import { conversationTurnV2Schema } from '../../../src/agent/contract.ts';

const options = { operatorDigit: '0' };

/** Feeds inputs one by one, keeping every command and every drop. */
class Machine {
  state: TurnState;
  readonly commands: TurnCommand[] = [];
  readonly dropped: string[] = [];

  constructor(state: TurnState = initialTurnState) {
    this.state = state;
  }

  feed(...inputs: TurnInput[]): TurnCommand[] {
    const out: TurnCommand[] = [];
    for (const input of inputs) {
      const result = turnStep(this.state, input, options);
      this.state = result.next;
      if (result.dropped !== undefined) this.dropped.push(result.dropped);
      out.push(...result.commands);
    }
    this.commands.push(...out);
    return out;
  }
}

const sentence = (turn: number, text: string): TurnInput => ({ type: 'reply_chunk', turn, chunk: { type: 'sentence', text } });
const actions = (turn: number, list: AgentAction[]): TurnInput => ({ type: 'reply_chunk', turn, chunk: { type: 'actions', actions: list } });
const done = (turn: number): TurnInput => ({ type: 'reply_chunk', turn, chunk: { type: 'done' } });
const ready = (turn: number, n: number): TurnInput => ({ type: 'speech_ready', turn, sentence: n, path: `/cache/${turn}-${n}.wav` });
const finished = (turn: number, n: number): TurnInput => ({ type: 'playback_finished', turn, sentence: n });
const ofType = <T extends TurnCommand['type']>(list: TurnCommand[], type: T) => list.filter((c): c is Extract<TurnCommand, { type: T }> => c.type === type);

/** A caller who said something; the agent is thinking about turn 0. */
function asked(): Machine {
  const m = new Machine();
  m.feed({ type: 'final', text: 'I need to move my appointment', confidence: 0.9 }, { type: 'end_of_utterance' });
  return m;
}

const transfer: AgentAction = { type: 'transfer', target: 'front', reason: 'reschedule', summary: 'moving an appointment' };

describe('streamed replies', () => {
  it('synthesizes each sentence as it arrives, ahead of playback, and plays them strictly in order, one at a time', () => {
    const m = asked();
    expect(m.feed(sentence(0, 'Sure.'))).toEqual([{ type: 'synthesize', turn: 0, sentence: 0, text: 'Sure.', ssml: false }]);
    // The first sentence plays the moment its audio is ready, before the engine has finished.
    expect(m.feed(ready(0, 0))).toEqual([{ type: 'play', turn: 0, sentence: 0, path: '/cache/0-0.wav' }]);
    // The second and third are synthesized while the first plays; nothing else plays over it.
    expect(m.feed(sentence(0, 'Which day works?'), sentence(0, 'We have Tuesday or Friday.'))).toEqual([
      { type: 'synthesize', turn: 0, sentence: 1, text: 'Which day works?', ssml: false },
      { type: 'synthesize', turn: 0, sentence: 2, text: 'We have Tuesday or Friday.', ssml: false },
    ]);
    // The third is ready before the second: it waits its turn.
    expect(m.feed(ready(0, 2))).toEqual([]);
    expect(m.feed(finished(0, 0))).toEqual([{ type: 'sentence_heard', turn: 0, sentence: 0, text: 'Sure.' }]);
    expect(m.state.phase).toBe('speaking');
    expect(m.feed(ready(0, 1))).toEqual([{ type: 'play', turn: 0, sentence: 1, path: '/cache/0-1.wav' }]);
    expect(m.feed(finished(0, 1))).toEqual([
      { type: 'sentence_heard', turn: 0, sentence: 1, text: 'Which day works?' },
      { type: 'play', turn: 0, sentence: 2, path: '/cache/0-2.wav' },
    ]);
    expect(ofType(m.commands, 'play').map((c) => c.sentence)).toEqual([0, 1, 2]);
  });

  it('runs the actions only after the last sentence was heard and the engine said done', () => {
    const m = asked();
    m.feed(sentence(0, 'Let me get someone.'), ready(0, 0), actions(0, [transfer]));
    // The sentence ended, but the engine has not said it is done: more could come.
    expect(m.feed(finished(0, 0))).not.toContainEqual(expect.objectContaining({ type: 'perform' }));
    expect(m.state.phase).toBe('speaking');
    expect(m.feed(done(0))).toEqual([
      { type: 'reply_spoken', turn: 0, sentences: 1, heard: 1, end: 'done' },
      { type: 'perform', actions: [transfer] },
    ]);
    expect(m.state).toMatchObject({ phase: 'listening', reply: undefined, interrupted: undefined });

    // Done before the last sentence finished playing: the actions wait for it.
    const early = asked();
    early.feed(sentence(0, 'One.'), sentence(0, 'Two.'), actions(0, [transfer]), done(0), ready(0, 0), ready(0, 1), finished(0, 0));
    expect(ofType(early.commands, 'perform')).toEqual([]);
    expect(early.feed(finished(0, 1))).toEqual([
      { type: 'sentence_heard', turn: 0, sentence: 1, text: 'Two.' },
      { type: 'reply_spoken', turn: 0, sentences: 2, heard: 2, end: 'done' },
      { type: 'perform', actions: [transfer] },
    ]);
  });

  it('plays the fallback prompt for a sentence that cannot be synthesized and goes on with the rest', () => {
    const m = asked();
    m.feed(sentence(0, 'Thanks.'), sentence(0, 'Your code is 4417.'), sentence(0, 'Anything else?'), done(0));
    m.feed(ready(0, 0), { type: 'speech_failed', turn: 0, sentence: 1 }, ready(0, 2));
    m.feed(finished(0, 0));
    expect(m.commands.at(-1)).toEqual({ type: 'play_fallback_prompt', turn: 0, sentence: 1 });
    // The fallback's end is not the sentence heard; the next sentence plays.
    expect(m.feed(finished(0, 1))).toEqual([{ type: 'play', turn: 0, sentence: 2, path: '/cache/0-2.wav' }]);
    expect(m.feed(finished(0, 2))).toContainEqual({ type: 'reply_spoken', turn: 0, sentences: 3, heard: 2, end: 'done' });
    expect(ofType(m.commands, 'sentence_heard').map((c) => c.text)).toEqual(['Thanks.', 'Anything else?']);
    // The caller did not hear one sentence's words: the next turn says so.
    m.feed({ type: 'final', text: 'no', confidence: 1 }, { type: 'end_of_utterance' });
    expect(ofType(m.commands, 'ask_agent').at(-1)?.interrupted).toEqual({ played: ['Thanks.', 'Anything else?'], cut: null, unplayed: 1 });
  });

  it('says the fallback once for failed sentences in a row', () => {
    const m = asked();
    m.feed(sentence(0, 'A.'), sentence(0, 'B.'), sentence(0, 'C.'), done(0));
    m.feed({ type: 'speech_failed', turn: 0, sentence: 0 }, { type: 'speech_failed', turn: 0, sentence: 1 }, ready(0, 2));
    m.feed(finished(0, 0));
    expect(ofType(m.commands, 'play_fallback_prompt')).toHaveLength(1);
    expect(ofType(m.commands, 'play').map((c) => c.sentence)).toEqual([2]);
  });

  it('keeps what was said when the stream stops without done, and runs none of its actions', () => {
    const m = asked();
    m.feed(sentence(0, 'I can help with that.'), actions(0, [transfer]), ready(0, 0));
    m.feed({ type: 'reply_failed', turn: 0 });
    // The sentence already playing is not cut.
    expect(m.state.phase).toBe('speaking');
    expect(m.feed(finished(0, 0))).toEqual([
      { type: 'sentence_heard', turn: 0, sentence: 0, text: 'I can help with that.' },
      { type: 'reply_spoken', turn: 0, sentences: 1, heard: 1, end: 'failed' },
    ]);
    expect(m.state).toMatchObject({ phase: 'listening', reply: undefined });
    expect(ofType(m.commands, 'perform')).toEqual([]);

    // A sentence still being synthesized when the stream broke is still said.
    const pending = asked();
    pending.feed(sentence(0, 'One moment.'), { type: 'reply_failed', turn: 0 }, ready(0, 0));
    expect(ofType(pending.commands, 'play')).toHaveLength(1);
  });

  it('drops pieces of a turn the caller overtook, and speech made for it', () => {
    const m = asked();
    m.feed(sentence(0, 'Sure, when?'));
    // The caller goes on talking before anything was played: the reply is for half an utterance.
    m.feed({ type: 'partial', text: 'next week' });
    expect(m.state).toMatchObject({ phase: 'caller_speaking', turn: 1 });
    expect(m.feed(ready(0, 0), sentence(0, 'Which day?'), done(0))).toEqual([]);
    expect(m.dropped).toEqual([
      'stale speech for turn 0 sentence 0',
      'sentence of interrupted turn 0 counted as unplayed',
      'stale reply done for turn 0',
    ]);
    m.feed({ type: 'final', text: 'next week', confidence: 0.7 }, { type: 'end_of_utterance' });
    // The engine answered the first words already (its reply had begun): only the new ones go, with the
    // news that none of that reply was heard.
    expect(ofType(m.commands, 'ask_agent').at(-1)).toEqual({
      type: 'ask_agent',
      turn: 1,
      text: 'next week',
      confidence: 0.7,
      dtmf: '',
      interrupted: { played: [], cut: null, unplayed: 2 },
    });
    // Once the turn went out, the old reply's stream no longer matters.
    expect(wantsReply(m.state, 0)).toBe(false);
    expect(m.feed(sentence(0, 'Late.'))).toEqual([]);
    expect(m.dropped.at(-1)).toBe('stale reply sentence for turn 0');
  });

  it('on barge-in, tells the next turn what the caller heard: sentences played, the one cut with its ms, how many never played', () => {
    const m = asked();
    m.feed(sentence(0, 'Your appointment is on Tuesday.'), ready(0, 0), sentence(0, 'It is with Dr. Lee at 10.'), ready(0, 1));
    m.feed(sentence(0, 'Please arrive early.'), finished(0, 0));
    expect(m.state.reply).toMatchObject({ next: 1, playing: true });
    // The caller speaks over the second sentence.
    expect(m.feed({ type: 'voice_activity' })).toEqual([{ type: 'break_playback' }]);
    expect(wantsReply(m.state, 0)).toBe(true);
    // The engine keeps streaming: those sentences were never played either.
    m.feed(sentence(0, 'Bring your insurance card.'), actions(0, [transfer]), done(0));
    // FreeSWITCH reports how much of the broken playback it played.
    m.feed({ type: 'playback_stopped', turn: 0, sentence: 1, playedMs: 812.4 });
    m.feed({ type: 'final', text: 'can it be later', confidence: 0.8 }, { type: 'end_of_utterance' });
    expect(ofType(m.commands, 'ask_agent').at(-1)).toEqual({
      type: 'ask_agent',
      turn: 1,
      text: 'can it be later',
      confidence: 0.8,
      dtmf: '',
      interrupted: { played: ['Your appointment is on Tuesday.'], cut: { text: 'It is with Dr. Lee at 10.', playedMs: 812 }, unplayed: 2 },
    });
    // The interrupted turn's actions were never run; only the first sentence counts as heard.
    expect(ofType(m.commands, 'perform')).toEqual([]);
    expect(ofType(m.commands, 'sentence_heard').map((c) => c.text)).toEqual(['Your appointment is on Tuesday.']);
    // The context goes with one turn only.
    m.feed(done(1), { type: 'final', text: 'thanks', confidence: 1 }, { type: 'end_of_utterance' });
    expect(ofType(m.commands, 'ask_agent').at(-1)).not.toHaveProperty('interrupted');
  });

  it('holds the next turn until FreeSWITCH says how much of the cut sentence played', () => {
    const m = asked();
    m.feed(sentence(0, 'Press 1 for yes or 2 for no.'), ready(0, 0));
    // A key press ends the caller's turn at once, before the broken playback's report is in.
    m.feed({ type: 'dtmf', digit: '2' }, { type: 'end_of_utterance' });
    expect(ofType(m.commands, 'ask_agent')).toHaveLength(1);
    expect(m.state.waiting).toEqual({ text: '', confidence: 1, dtmf: '2' });
    // A report for another sentence is not the one awaited.
    m.feed({ type: 'playback_stopped', turn: 0, sentence: 3, playedMs: 10 });
    expect(ofType(m.commands, 'ask_agent')).toHaveLength(1);
    expect(m.feed({ type: 'playback_stopped', turn: 0, sentence: 0, playedMs: 1500 })).toEqual([
      { type: 'ask_agent', turn: 1, text: '', confidence: 1, dtmf: '2', interrupted: { played: [], cut: { text: 'Press 1 for yes or 2 for no.', playedMs: 1500 }, unplayed: 0 } },
    ]);
    expect(m.state).toMatchObject({ phase: 'thinking', waiting: undefined, interrupted: undefined });
  });

  it('barging in between two sentences cuts none: the played ones and the rest are reported', () => {
    const m = asked();
    m.feed(sentence(0, 'First.'), ready(0, 0), finished(0, 0), sentence(0, 'Second.'));
    expect(m.state.reply).toMatchObject({ next: 1, playing: false });
    m.feed({ type: 'partial', text: 'wait' }, { type: 'final', text: 'wait', confidence: 1 }, { type: 'end_of_utterance' });
    expect(ofType(m.commands, 'ask_agent').at(-1)?.interrupted).toEqual({ played: ['First.'], cut: null, unplayed: 1 });
  });

  it("reports at most the schema's 64 played sentences, the last ones before the cut, in a turn the contract accepts", () => {
    const m = asked();
    const texts = Array.from({ length: 70 }, (_, i) => `Sentence ${i}.`);
    for (const [i, text] of texts.entries()) m.feed(sentence(0, text), ready(0, i));
    for (let i = 0; i < 69; i++) m.feed(finished(0, i));
    m.feed({ type: 'voice_activity' }, { type: 'playback_stopped', turn: 0, sentence: 69, playedMs: 300 });
    m.feed({ type: 'final', text: 'stop', confidence: 1 }, { type: 'end_of_utterance' });
    const ask = ofType(m.commands, 'ask_agent').at(-1)!;
    expect(ask.interrupted).toEqual({ played: texts.slice(5, 69), cut: { text: 'Sentence 69.', playedMs: 300 }, unplayed: 0 });
    const turn = { text: ask.text, confidence: ask.confidence, partial: false, interrupted: ask.interrupted };
    expect(conversationTurnV2Schema.safeParse(turn).success).toBe(true);
  });

  it('a sentence whose playback FreeSWITCH reports as failed was not heard', () => {
    const m = asked();
    m.feed(sentence(0, 'One.'), sentence(0, 'Two.'), sentence(0, 'Three.'), actions(0, [transfer]), done(0));
    m.feed(ready(0, 0), ready(0, 1), ready(0, 2), finished(0, 0));
    // FILE NOT FOUND: the next sentence plays, the failed one is not in what the caller heard.
    expect(m.feed({ type: 'playback_failed', turn: 0, sentence: 1 })).toEqual([{ type: 'play', turn: 0, sentence: 2, path: '/cache/0-2.wav' }]);
    expect(m.feed(finished(0, 2))).toEqual([
      { type: 'sentence_heard', turn: 0, sentence: 2, text: 'Three.' },
      { type: 'reply_spoken', turn: 0, sentences: 3, heard: 2, end: 'done' },
      { type: 'perform', actions: [transfer] },
    ]);
    expect(ofType(m.commands, 'sentence_heard').map((c) => c.text)).toEqual(['One.', 'Three.']);
    m.feed({ type: 'final', text: 'what', confidence: 1 }, { type: 'end_of_utterance' });
    expect(ofType(m.commands, 'ask_agent').at(-1)?.interrupted).toEqual({ played: ['One.', 'Three.'], cut: null, unplayed: 1 });
  });

  it('a greeting reply (whole, v1) is one sentence with its actions after it', () => {
    const m = new Machine({ ...initialTurnState, phase: 'thinking' });
    m.feed({ type: 'agent_reply', turn: 0, say: 'Hello, how can I help?', ssml: false, actions: [{ type: 'collect_digits', max: 1, timeoutMs: 5000 }] });
    m.feed(ready(0, 0), finished(0, 0));
    expect(m.commands).toEqual([
      { type: 'synthesize', turn: 0, sentence: 0, text: 'Hello, how can I help?', ssml: false },
      { type: 'play', turn: 0, sentence: 0, path: '/cache/0-0.wav' },
      { type: 'sentence_heard', turn: 0, sentence: 0, text: 'Hello, how can I help?' },
      { type: 'reply_spoken', turn: 0, sentences: 1, heard: 1, end: 'done' },
      { type: 'perform', actions: [{ type: 'collect_digits', max: 1, timeoutMs: 5000 }] },
    ]);
  });
});
