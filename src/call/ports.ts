// What the per-call runtime needs from the controller's services, as narrow interfaces: a call depends on
// these, never on the HTTP layer's metrics registry or on how the voice pipeline is built. The controller's
// Metrics and VoicePipeline satisfy them as they are.
import type { ConversationEngine, SpeechToText } from '../core/voice-ports.ts';
import type { MediaPrompt } from '../esl/channel-control.ts';
import type { AudioForkServer } from '../voice/audio-fork/index.ts';
import type { VocabularyTerm } from '../voice/stt/index.ts';
import type { CachedTts } from '../voice/tts/index.ts';

/** The counters and timings a call reports (prom-client's histograms and counters fit). */
export interface CallMetrics {
  firstPromptSeconds: { observe(seconds: number): void };
  turnStageSeconds: { observe(labels: { stage: string }, seconds: number): void };
  bargeInsTotal: { inc(): void };
  audioForkEventsTotal: { inc(labels: { event: string }): void };
  sttFailuresTotal: { inc(): void };
}

export interface VoicePhrases {
  /** Said before a hand-off because the caller's audio or the recogniser was lost. */
  cannotHear: string;
  /** Said before a hand-off because no engine could answer. */
  connecting: string;
  /** Said the moment an emergency is recognised, before the bridge. */
  emergency: string;
}

/** The voice services an AI conversation uses: audio in, speech to text, the agent, speech out. */
export interface ConversationVoice {
  forks: AudioForkServer;
  /** ws://host:port at which FreeSWITCH reaches the fork endpoint. */
  forkBaseUrl: () => string;
  stt: SpeechToText;
  tts: CachedTts;
  engine: ConversationEngine;
  /**
   * The engine generates replies over time and streams them (an AI engine on contract v2). The built-in
   * agent and v1 engines hand over whole replies, even when they are read as a stream of sentences.
   */
  engineStreams: boolean;
  vocabulary: readonly VocabularyTerm[];
  voiceFor: (language: string) => string;
  sampleRate: 8000 | 16000;
  /** The recorded prompt (TTS_FALLBACK_PROMPT) played when a reply could not be synthesized, if configured. */
  fallbackPrompt: () => MediaPrompt | undefined;
  /** Said when a reply could not be synthesized and no recorded prompt is configured (cached at start). */
  holdingPhrase: (language: string) => string;
  phrases: (language: string) => VoicePhrases;
  maxForkRestarts: number;
  bargeInMinSpeechMs: number;
  metrics: CallMetrics;
}
