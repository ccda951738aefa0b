// Turn-taking between the caller and the AI agent: pure. Inputs are what the caller and the pipeline did
// (speech detected, transcripts, the agent's reply piece by piece, synthesized audio, playbacks ending,
// digits); outputs are the commands the session performs (stop playback, ask the agent, synthesize, play, act).
//
// A reply is a queue of sentences (contract v2 streams them; a whole v1 reply is one sentence). Each sentence
// is synthesized the moment it arrives, so the next one is ready while the one before plays; they are played
// strictly in order, one playback at a time, and the reply's actions run only once the last sentence has been
// heard and the engine said it was done. A sentence whose synthesis fails plays the fallback prompt in its
// place and the rest goes on; a reply that stops without `done` keeps what was said and runs no action.
//
// Barge-in: the moment the caller is heard while we are speaking (voice activity on the forked audio, the
// first partial transcript or a key press, whichever comes first) playback is broken, and everything that
// belonged to the interrupted turn (sentences still coming, speech still being synthesized) is dropped when
// it arrives: every reply piece and every synthesized sentence carries the turn it was made for, and only the
// current turn counts. What the caller heard of the reply (the sentences played to the end, the one cut off
// with the ms FreeSWITCH played of it, how many never played) goes to the engine with their next turn.
import type { AgentAction, AgentReplyChunk, InterruptedReply } from './voice-ports.ts';

export type TurnPhase =
  /** Waiting for the caller to speak. */
  | 'listening'
  /** The caller is speaking (partials arriving). */
  | 'caller_speaking'
  /** The caller finished; the agent is working on a reply (nothing of it here yet). */
  | 'thinking'
  /** Sentences of the reply are here and being synthesized; none has played yet. */
  | 'synthesizing'
  /** The reply is being spoken: a sentence is playing, or one has played and more are to come. */
  | 'speaking';

export interface ReplySentence {
  text: string;
  ssml: boolean;
  /** pending: being synthesized; ready: a file to play; failed: the fallback prompt plays in its place. */
  speech: { status: 'pending' } | { status: 'ready'; path: string } | { status: 'failed' };
}

/** The reply of the current turn, as far as it has arrived and been played. */
export interface ReplyProgress {
  turn: number;
  sentences: ReplySentence[];
  /** Sentences before this index are over (heard, or replaced by the fallback prompt). */
  next: number;
  /** Sentence `next` is playing now. */
  playing: boolean;
  /** The sentences whose words were heard to the end, in order. */
  heard: string[];
  actions: AgentAction[];
  /** open: more may come; done: the engine finished; failed: the stream stopped without `done`. */
  end: 'open' | 'done' | 'failed';
}

/** What the caller heard of a reply they did not hear whole, until it goes to the engine with the next turn. */
export interface HeardOfReply {
  /** The turn of that reply: its sentences still arriving are counted as never played. */
  turn: number;
  played: string[];
  /** The sentence playing when the caller cut in; `playedMs` undefined until FreeSWITCH reports it. */
  cut: { text: string; sentence: number; playedMs: number | undefined } | null;
  unplayed: number;
}

export interface TurnState {
  phase: TurnPhase;
  /** Increments with every caller utterance: replies for older turns are stale. */
  turn: number;
  /** Final transcript pieces of the caller's current utterance. */
  heard: string[];
  /** The lowest recogniser confidence among `heard`. */
  confidence: number;
  /** What was sent to the agent for the turn still being answered (restored if the caller goes on talking). */
  asked: string[];
  /** Digits pressed since the last turn was sent. */
  digits: string;
  reply: ReplyProgress | undefined;
  /** The last reply the caller did not hear whole; sent with their next turn. */
  interrupted: HeardOfReply | undefined;
  /** A turn held back until FreeSWITCH says how much of the cut sentence played (a key press is that fast). */
  waiting: { text: string; confidence: number; dtmf: string } | undefined;
}

export type TurnInput =
  /** Voice activity on the caller's audio (before any transcript). */
  | { type: 'voice_activity' }
  | { type: 'partial'; text: string }
  | { type: 'final'; text: string; confidence: number }
  | { type: 'end_of_utterance' }
  | { type: 'dtmf'; digit: string }
  /** A whole reply (the greeting, or an engine without streaming): one sentence, its actions, done. */
  | { type: 'agent_reply'; turn: number; say: string; ssml: boolean; actions: AgentAction[] }
  | { type: 'reply_chunk'; turn: number; chunk: AgentReplyChunk }
  /** The reply stream ended (or broke) without `done`. */
  | { type: 'reply_failed'; turn: number }
  | { type: 'speech_ready'; turn: number; sentence: number; path: string }
  | { type: 'speech_failed'; turn: number; sentence: number }
  /** A sentence's playback ended by itself. */
  | { type: 'playback_finished'; turn: number; sentence: number }
  /** A sentence's playback ended without playing (FreeSWITCH: FILE NOT FOUND, PLAYBACK ERROR): not heard. */
  | { type: 'playback_failed'; turn: number; sentence: number }
  /** A playback broken by a barge-in ended, having played `playedMs` (FreeSWITCH's playback_ms). */
  | { type: 'playback_stopped'; turn: number; sentence: number; playedMs: number };

export type TurnCommand =
  /** `uuid_break <uuid> all`: stop what the caller hears now. */
  | { type: 'break_playback' }
  | { type: 'ask_agent'; turn: number; text: string; confidence: number; dtmf: string; interrupted?: InterruptedReply }
  | { type: 'synthesize'; turn: number; sentence: number; text: string; ssml: boolean }
  | { type: 'play'; turn: number; sentence: number; path: string }
  /** Say the generic "one moment" prompt in place of a sentence that could not be synthesized. */
  | { type: 'play_fallback_prompt'; turn: number; sentence: number }
  /** A sentence of the agent's was heard to its end (the transcript keeps what the caller heard). */
  | { type: 'sentence_heard'; turn: number; sentence: number; text: string }
  /** The reply is over: every sentence played (`heard` of them in its words), `done` or a broken stream. */
  | { type: 'reply_spoken'; turn: number; sentences: number; heard: number; end: 'done' | 'failed' }
  /** The agent's actions, performed in order once its words have been said. */
  | { type: 'perform'; actions: AgentAction[] };

export const initialTurnState: TurnState = {
  phase: 'listening',
  turn: 0,
  heard: [],
  confidence: 1,
  asked: [],
  digits: '',
  reply: undefined,
  interrupted: undefined,
  waiting: undefined,
};

export interface TurnResult {
  next: TurnState;
  commands: TurnCommand[];
  /** Set when an input was dropped as stale or out of place (for the call's journal). */
  dropped?: string;
}

/** The digit that, pressed at any time, asks for a person (routing may change it). */
export interface TurnOptions {
  operatorDigit: string;
}

/**
 * Whether pieces of `turn`'s reply still matter: it is the current turn's, or the caller cut it short and its
 * remaining sentences are still being counted. Otherwise the stream can be let go.
 */
export function wantsReply(state: TurnState, turn: number): boolean {
  return turn === state.turn || state.interrupted?.turn === turn;
}

export function turnStep(state: TurnState, input: TurnInput, options: TurnOptions): TurnResult {
  const keep = (dropped: string): TurnResult => ({ next: state, commands: [], dropped });
  switch (input.type) {
    case 'voice_activity':
    case 'partial':
      return callerHeard(state);
    case 'final': {
      const started = callerHeard(state);
      if (input.text.trim() === '') return started;
      const next = {
        ...started.next,
        heard: [...started.next.heard, input.text.trim()],
        confidence: Math.min(started.next.confidence, input.confidence),
      };
      return { next, commands: started.commands };
    }
    case 'end_of_utterance': {
      if (state.heard.length === 0 && state.digits === '') return keep('end of utterance with nothing heard');
      return askAgent(state);
    }
    case 'dtmf': {
      if (input.digit === options.operatorDigit) {
        // A person, now: stop talking and hand over, whatever the agent was about to say.
        const commands: TurnCommand[] = state.phase === 'speaking' ? [{ type: 'break_playback' }] : [];
        commands.push({ type: 'perform', actions: [{ type: 'transfer', target: 'operator', reason: 'caller pressed the operator digit', summary: state.heard.join(' ') }] });
        return { next: { ...initialTurnState, turn: state.turn + 1 }, commands };
      }
      // A key press is the caller taking their turn, like speech: it stops the agent talking.
      const started = callerHeard(state);
      return { next: { ...started.next, digits: started.next.digits + input.digit }, commands: started.commands };
    }
    case 'agent_reply': {
      if (input.turn !== state.turn || state.phase !== 'thinking' || state.reply !== undefined) return keep(`stale agent reply for turn ${input.turn}`);
      const chunks: AgentReplyChunk[] = [
        ...(input.say.trim() === '' ? [] : [{ type: 'sentence' as const, text: input.say, ssml: input.ssml }]),
        ...(input.actions.length === 0 ? [] : [{ type: 'actions' as const, actions: input.actions }]),
        { type: 'done' },
      ];
      let result: TurnResult = { next: state, commands: [] };
      for (const chunk of chunks) {
        const step = turnStep(result.next, { type: 'reply_chunk', turn: input.turn, chunk }, options);
        result = { next: step.next, commands: [...result.commands, ...step.commands] };
      }
      return result;
    }
    case 'reply_chunk':
      return replyChunk(state, input.turn, input.chunk);
    case 'reply_failed': {
      const reply = openReply(state, input.turn);
      if (reply === undefined) return keep(`stale reply failure for turn ${input.turn}`);
      // What was said stands; actions of a reply the engine did not finish are not run.
      return advance({ ...state, asked: [], reply: { ...reply, end: 'failed', actions: [] } });
    }
    case 'speech_ready':
    case 'speech_failed': {
      const reply = state.reply;
      const sentence = reply?.turn === input.turn ? reply.sentences[input.sentence] : undefined;
      if (reply === undefined || sentence?.speech.status !== 'pending') return keep(`stale speech for turn ${input.turn} sentence ${input.sentence}`);
      const speech: ReplySentence['speech'] = input.type === 'speech_ready' ? { status: 'ready', path: input.path } : { status: 'failed' };
      const sentences = reply.sentences.map((s, i) => (i === input.sentence ? { ...s, speech } : s));
      return advance({ ...state, reply: { ...reply, sentences } });
    }
    case 'playback_finished':
    case 'playback_failed': {
      const reply = state.reply;
      if (reply?.turn !== input.turn || !reply.playing || reply.next !== input.sentence) return keep('playback finished while not speaking');
      const sentence = reply.sentences[reply.next] as ReplySentence;
      // Words replaced by the fallback prompt, or a file FreeSWITCH did not play, were not heard.
      const said = input.type === 'playback_finished' && sentence.speech.status !== 'failed';
      const heard = said ? [...reply.heard, sentence.text] : reply.heard;
      const commands: TurnCommand[] = said ? [{ type: 'sentence_heard', turn: reply.turn, sentence: reply.next, text: sentence.text }] : [];
      const after = advance({ ...state, reply: { ...reply, next: reply.next + 1, playing: false, heard } });
      return { ...after, commands: [...commands, ...after.commands] };
    }
    case 'playback_stopped': {
      const draft = state.interrupted;
      const cut = draft?.cut;
      if (draft?.turn !== input.turn || cut?.sentence !== input.sentence || cut.playedMs !== undefined) return keep('stopped playback is not the cut sentence');
      const known: HeardOfReply = { ...draft, cut: { ...cut, playedMs: Math.max(0, Math.round(input.playedMs)) } };
      const waiting = state.waiting;
      if (waiting === undefined) return { next: { ...state, interrupted: known }, commands: [] };
      return {
        next: { ...state, interrupted: undefined, waiting: undefined },
        commands: [{ type: 'ask_agent', turn: state.turn, ...waiting, interrupted: heardReply(known) }],
      };
    }
  }
}

/** The reply `turn` is still arriving for the current turn (created with its first piece). */
function openReply(state: TurnState, turn: number): ReplyProgress | undefined {
  if (turn !== state.turn) return undefined;
  if (state.reply !== undefined) return state.reply.turn === turn && state.reply.end === 'open' ? state.reply : undefined;
  if (state.phase !== 'thinking' || state.waiting !== undefined) return undefined;
  return { turn, sentences: [], next: 0, playing: false, heard: [], actions: [], end: 'open' };
}

function replyChunk(state: TurnState, turn: number, chunk: AgentReplyChunk): TurnResult {
  const reply = openReply(state, turn);
  if (reply === undefined) {
    const draft = state.interrupted;
    // A sentence of a reply the caller cut short still counts: it is one they never heard.
    if (draft?.turn === turn && turn !== state.turn && chunk.type === 'sentence' && chunk.text.trim() !== '') {
      return { next: { ...state, interrupted: { ...draft, unplayed: draft.unplayed + 1 } }, commands: [], dropped: `sentence of interrupted turn ${turn} counted as unplayed` };
    }
    return { next: state, commands: [], dropped: `stale reply ${chunk.type} for turn ${turn}` };
  }
  switch (chunk.type) {
    case 'sentence': {
      if (chunk.text.trim() === '') return { next: { ...state, asked: [], reply }, commands: [] };
      const sentence = reply.sentences.length;
      const sentences = [...reply.sentences, { text: chunk.text, ssml: chunk.ssml ?? false, speech: { status: 'pending' as const } }];
      const phase = state.phase === 'thinking' ? 'synthesizing' : state.phase;
      return {
        next: { ...state, phase, asked: [], reply: { ...reply, sentences } },
        commands: [{ type: 'synthesize', turn, sentence, text: chunk.text, ssml: chunk.ssml ?? false }],
      };
    }
    case 'actions':
      return { next: { ...state, asked: [], reply: { ...reply, actions: [...reply.actions, ...chunk.actions] } }, commands: [] };
    case 'done':
      return advance({ ...state, asked: [], reply: { ...reply, end: 'done' } });
  }
}

/** Plays the next sentence when nothing is playing and it is ready; ends the reply once all of it is over. */
function advance(state: TurnState): TurnResult {
  const reply = state.reply as ReplyProgress;
  if (reply.playing) return { next: state, commands: [] };
  let next = reply.next;
  while (next < reply.sentences.length) {
    const sentence = reply.sentences[next] as ReplySentence;
    if (sentence.speech.status === 'pending') return { next: { ...state, reply: { ...reply, next } }, commands: [] };
    // Two failed sentences in a row say "one moment" once, not twice.
    if (sentence.speech.status === 'failed' && next > 0 && reply.sentences[next - 1]?.speech.status === 'failed') {
      next++;
      continue;
    }
    const command: TurnCommand =
      sentence.speech.status === 'ready'
        ? { type: 'play', turn: reply.turn, sentence: next, path: sentence.speech.path }
        : { type: 'play_fallback_prompt', turn: reply.turn, sentence: next };
    return { next: { ...state, phase: 'speaking', reply: { ...reply, next, playing: true } }, commands: [command] };
  }
  if (reply.end === 'open') return { next: { ...state, reply: { ...reply, next } }, commands: [] };
  const commands: TurnCommand[] = [{ type: 'reply_spoken', turn: reply.turn, sentences: reply.sentences.length, heard: reply.heard.length, end: reply.end }];
  if (reply.end === 'done' && reply.actions.length > 0) commands.push({ type: 'perform', actions: reply.actions });
  // A reply heard whole needs no word to the engine; one with sentences replaced by the fallback does.
  const missed = reply.sentences.length - reply.heard.length;
  const interrupted = missed > 0 ? { turn: reply.turn, played: reply.heard, cut: null, unplayed: missed } : state.interrupted;
  return { next: { ...state, phase: 'listening', reply: undefined, interrupted }, commands };
}

/** The caller is talking: stop speaking over them, and forget a reply that is no longer wanted. */
function callerHeard(state: TurnState): TurnResult {
  switch (state.phase) {
    case 'listening':
      return { next: { ...state, phase: 'caller_speaking' }, commands: [] };
    case 'caller_speaking':
      return { next: state, commands: [] };
    case 'speaking': {
      // Barge-in: what the agent meant to say and do after this point belonged to the interrupted turn.
      const reply = state.reply as ReplyProgress;
      const playing = reply.playing ? reply.sentences[reply.next] : undefined;
      // The fallback prompt playing in a sentence's place is not that sentence's words.
      const cut = playing !== undefined && playing.speech.status === 'ready' ? { text: playing.text, sentence: reply.next, playedMs: undefined } : null;
      const interrupted: HeardOfReply = { turn: reply.turn, played: reply.heard, cut, unplayed: reply.sentences.length - reply.heard.length - (cut === null ? 0 : 1) };
      return {
        next: { ...state, phase: 'caller_speaking', turn: state.turn + 1, asked: [], reply: undefined, interrupted, waiting: undefined },
        commands: [{ type: 'break_playback' }],
      };
    }
    case 'thinking':
    case 'synthesizing': {
      // The caller goes on talking before we answered: the pending reply is for an utterance they are still
      // adding to, so it is dropped when it arrives, and the whole utterance goes to the agent instead. The
      // engine hears that nothing of its reply was heard; a turn held back was never sent, so the reply
      // before it is still the one to report.
      const interrupted: HeardOfReply | undefined =
        state.waiting === undefined ? { turn: state.turn, played: [], cut: null, unplayed: state.reply?.sentences.length ?? 0 } : state.interrupted;
      return {
        next: { ...state, phase: 'caller_speaking', turn: state.turn + 1, heard: [...state.asked, ...state.heard], asked: [], reply: undefined, interrupted, waiting: undefined },
        commands: [],
      };
    }
  }
}

function askAgent(state: TurnState): TurnResult {
  const ask = { text: state.heard.join(' '), confidence: state.confidence, dtmf: state.digits };
  const asked: TurnState = { ...state, phase: 'thinking', heard: [], confidence: 1, asked: state.heard, digits: '', reply: undefined };
  const draft = state.interrupted;
  if (draft?.cut && draft.cut.playedMs === undefined) return { next: { ...asked, waiting: ask }, commands: [] };
  return {
    next: { ...asked, interrupted: undefined, waiting: undefined },
    commands: [{ type: 'ask_agent', turn: state.turn, ...ask, ...(draft === undefined ? {} : { interrupted: heardReply(draft) }) }],
  };
}

/**
 * The bounds of `interrupted` in the contract's schema (src/agent/contract.ts): a turn beyond them would be
 * refused. A longer reply keeps its last played sentences, the ones that lead up to where the caller cut in.
 */
const HEARD_LIMITS = { played: 64, playedMs: 600_000, unplayed: 1000 } as const;

function heardReply(draft: HeardOfReply): InterruptedReply {
  const cut = draft.cut === null ? null : { text: draft.cut.text, playedMs: Math.min(draft.cut.playedMs ?? 0, HEARD_LIMITS.playedMs) };
  return { played: draft.played.slice(-HEARD_LIMITS.played), cut, unplayed: Math.min(draft.unplayed, HEARD_LIMITS.unplayed) };
}
