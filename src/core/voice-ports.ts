// Ports of the voice pipeline (issue 5): speech-to-text, text-to-speech and the AI conversation engine.
// The adapters live in src/voice/ and src/agent/; the per-call session uses only these interfaces.

// ---------------------------------------------------------------------------------------------------------
// Speech-to-text: one stream per call, fed with the caller's 16-bit little-endian PCM.

export interface SttStreamOptions {
  /** BCP 47, e.g. en-US, es-US. */
  language: string;
  sampleRate: 8000 | 16000;
  /** Terms the recogniser should expect (medical vocabulary, provider names), with sounds-like hints. */
  vocabulary: readonly { content: string; soundsLike?: readonly string[] }[];
}

export type SttEvent =
  | { type: 'partial'; text: string; startSec: number; endSec: number }
  | { type: 'final'; text: string; confidence: number; startSec: number; endSec: number }
  /** The caller stopped speaking (end of utterance). */
  | { type: 'end_of_utterance'; atSec: number }
  /** The stream failed and could not recover within its limits: the call must go on without STT. */
  | { type: 'failed'; reason: string };

export interface SttStream {
  /** One frame of PCM (not copied; do not reuse the buffer). Returns false when the stream is backed up. */
  sendAudio(frame: Buffer): boolean;
  onEvent(listener: (event: SttEvent) => void): void;
  /** Ends the stream (flushes the last transcript); idempotent and bounded. */
  close(): Promise<void>;
}

export interface SpeechToText {
  start(options: SttStreamOptions): Promise<SttStream>;
}

// ---------------------------------------------------------------------------------------------------------
// Text-to-speech: text in, a file FreeSWITCH can play out (cached by content).

export interface SpeechRequest {
  /** Plain text, or SSML when `ssml` is true. */
  text: string;
  ssml?: boolean;
  /** Voice name, e.g. en-US-Neural2-F. */
  voice: string;
  language: string;
  /** 8000 for a PCMU call, 16000 for wideband. */
  sampleRate: 8000 | 16000;
}

export interface SynthesizedSpeech {
  /** Absolute path of a WAV file FreeSWITCH can read. */
  path: string;
  durationMs: number;
  /** True when it came from the cache without a synthesis. */
  cached: boolean;
  /** True when synthesis failed and this is the recorded generic prompt instead of the requested words. */
  fallback?: boolean;
}

export interface TextToSpeech {
  synthesize(request: SpeechRequest): Promise<SynthesizedSpeech>;
}

// ---------------------------------------------------------------------------------------------------------
// The AI conversation engine (docs/ai-engine-contract.md): an external HTTP service or the built-in agent.

export interface ConversationStart {
  callId: string;
  /** The caller's number (E.164) or '' when withheld. */
  caller: string;
  did: string;
  location: string | null;
  language: string;
  /** Why the call reached the AI: the routing decision's rule and reason. */
  routing: { rule: string; reason: string; messageOnly: boolean };
}

export interface ConversationTurn {
  /** Final transcript of the caller's utterance ('' when only DTMF). */
  text: string;
  confidence: number;
  partial: boolean;
  /** Digits pressed since the last turn. */
  dtmf?: string;
  /**
   * Contract v2: the caller spoke over the previous reply, and this is what of it they really heard (so the
   * engine's memory of what it said matches the caller's). Absent when the previous reply was heard whole.
   */
  interrupted?: InterruptedReply;
}

/** What the caller heard of a reply they interrupted (contract v2). */
export interface InterruptedReply {
  /** The sentences played to their end, in order (the last 64 of a longer reply: the schema's limit). */
  played: string[];
  /** The sentence that was playing when the caller interrupted, and how much of it they heard. */
  cut: { text: string; playedMs: number } | null;
  /** How many sentences of the reply were never played, counting those received until this turn was sent. */
  unplayed: number;
}

export type AgentAction =
  | { type: 'transfer'; target: string; reason: string; summary: string }
  | { type: 'emergency'; reason: string }
  | { type: 'hangup' }
  | { type: 'send_sms'; to: string; template: string; values: Record<string, string> }
  | { type: 'collect_digits'; max: number; timeoutMs: number }
  | { type: 'end_conversation' };

export interface AgentReply {
  /** What to say to the caller ('' to say nothing). */
  say: string;
  ssml?: boolean;
  actions: AgentAction[];
}

/**
 * One piece of a streamed reply (contract v2), in the order the engine sends them: sentences as they are
 * generated, then the actions (at most one `actions` piece), then `done`. A stream that ends without `done`
 * failed: what was already said stands, the actions are not run.
 */
export type AgentReplyChunk =
  | { type: 'sentence'; text: string; ssml?: boolean }
  | { type: 'actions'; actions: AgentAction[] }
  | { type: 'done' };

export interface ConversationEngine {
  start(start: ConversationStart): Promise<AgentReply>;
  turn(callId: string, turn: ConversationTurn): Promise<AgentReply>;
  /**
   * Contract v2: the turn's reply sentence by sentence as the engine produces it. Engines without it are
   * asked with `turn` (v1), and their whole reply is one sentence.
   */
  turnStream?(callId: string, turn: ConversationTurn): AsyncIterable<AgentReplyChunk>;
  end(callId: string, reason: string): Promise<void>;
}
