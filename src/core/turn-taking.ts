// Turn-taking between the caller and the AI agent: pure. Inputs are what the caller and the pipeline did
// (speech detected, transcripts, the agent's reply, synthesized audio, playback ended, digits); outputs are
// the commands the session performs (stop playback, ask the agent, synthesize, play, act).
//
// Barge-in: the moment the caller is heard while we are speaking (voice activity on the forked audio or the
// first partial transcript, whichever comes first) playback is broken, and everything that belonged to the
// interrupted turn (a reply still being fetched, speech still being synthesized) is dropped when it arrives:
// every reply and every synthesized prompt carries the turn it was made for, and only the current turn counts.
import type { AgentAction } from './voice-ports.ts';

export type TurnPhase =
  /** Waiting for the caller to speak. */
  | 'listening'
  /** The caller is speaking (partials arriving). */
  | 'caller_speaking'
  /** The caller finished; the agent is working on a reply. */
  | 'thinking'
  /** The reply is being synthesized. */
  | 'synthesizing'
  /** The reply is playing to the caller. */
  | 'speaking';

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
  /** Actions of the reply being spoken, performed when it has been said (or at once if it says nothing). */
  pendingActions: AgentAction[];
}

export type TurnInput =
  /** Voice activity on the caller's audio (before any transcript). */
  | { type: 'voice_activity' }
  | { type: 'partial'; text: string }
  | { type: 'final'; text: string; confidence: number }
  | { type: 'end_of_utterance' }
  | { type: 'dtmf'; digit: string }
  | { type: 'agent_reply'; turn: number; say: string; ssml: boolean; actions: AgentAction[] }
  | { type: 'speech_ready'; turn: number; path: string }
  | { type: 'speech_failed'; turn: number }
  | { type: 'playback_finished' };

export type TurnCommand =
  /** `uuid_break <uuid> all`: stop what the caller hears now. */
  | { type: 'break_playback' }
  | { type: 'ask_agent'; turn: number; text: string; confidence: number; dtmf: string }
  | { type: 'synthesize'; turn: number; text: string; ssml: boolean }
  | { type: 'play'; path: string }
  /** The agent's actions, performed in order once its words have been said. */
  | { type: 'perform'; actions: AgentAction[] }
  /** Say the generic "one moment" prompt (synthesis failed). */
  | { type: 'play_fallback_prompt' };

export const initialTurnState: TurnState = {
  phase: 'listening',
  turn: 0,
  heard: [],
  confidence: 1,
  asked: [],
  digits: '',
  pendingActions: [],
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
      if (input.turn !== state.turn || state.phase !== 'thinking') return keep(`stale agent reply for turn ${input.turn}`);
      if (input.say.trim() === '') {
        const commands: TurnCommand[] = input.actions.length > 0 ? [{ type: 'perform', actions: input.actions }] : [];
        return { next: { ...state, phase: 'listening', asked: [], pendingActions: [] }, commands };
      }
      return {
        next: { ...state, phase: 'synthesizing', asked: [], pendingActions: input.actions },
        commands: [{ type: 'synthesize', turn: state.turn, text: input.say, ssml: input.ssml }],
      };
    }
    case 'speech_ready':
      if (input.turn !== state.turn || state.phase !== 'synthesizing') return keep(`stale speech for turn ${input.turn}`);
      return { next: { ...state, phase: 'speaking' }, commands: [{ type: 'play', path: input.path }] };
    case 'speech_failed':
      if (input.turn !== state.turn || state.phase !== 'synthesizing') return keep(`stale speech failure for turn ${input.turn}`);
      return { next: { ...state, phase: 'speaking' }, commands: [{ type: 'play_fallback_prompt' }] };
    case 'playback_finished': {
      if (state.phase !== 'speaking') return keep('playback finished while not speaking');
      const commands: TurnCommand[] = state.pendingActions.length > 0 ? [{ type: 'perform', actions: state.pendingActions }] : [];
      return { next: { ...state, phase: 'listening', pendingActions: [] }, commands };
    }
  }
}

/** The caller is talking: stop speaking over them, and forget a reply that is no longer wanted. */
function callerHeard(state: TurnState): TurnResult {
  switch (state.phase) {
    case 'listening':
      return { next: { ...state, phase: 'caller_speaking' }, commands: [] };
    case 'caller_speaking':
      return { next: state, commands: [] };
    case 'speaking':
      // Barge-in: what the agent meant to do after speaking belonged to the interrupted turn.
      return { next: { ...state, phase: 'caller_speaking', turn: state.turn + 1, pendingActions: [] }, commands: [{ type: 'break_playback' }] };
    case 'thinking':
    case 'synthesizing':
      // The caller goes on talking before we answered: the pending reply is for an utterance they are still
      // adding to, so it is dropped when it arrives, and the whole utterance goes to the agent instead.
      return {
        next: { ...state, phase: 'caller_speaking', turn: state.turn + 1, heard: [...state.asked, ...state.heard], asked: [], pendingActions: [] },
        commands: [],
      };
  }
}

function askAgent(state: TurnState): TurnResult {
  return {
    next: { ...state, phase: 'thinking', heard: [], confidence: 1, asked: state.heard, digits: '' },
    commands: [{ type: 'ask_agent', turn: state.turn, text: state.heard.join(' '), confidence: state.confidence, dtmf: state.digits }],
  };
}
