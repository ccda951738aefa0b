// Pure translation between our port (SttStreamOptions, SttEvent) and Speechmatics real-time messages.
// Field names follow the real-time API reference (StartRecognition, AddTranscript, EndOfUtterance ...).
import type {
  AdditionalVocabObject,
  RealtimeServerMessage,
  RealtimeTranscriptionConfig,
  RecognitionResult,
} from '@speechmatics/real-time-client';
import type { SttEvent, SttStreamOptions } from '../../core/voice-ports.ts';

export interface RecognitionTuning {
  maxDelaySec: number;
  enablePartials: boolean;
  endOfUtteranceSilenceSec: number;
  operatingPoint: 'standard' | 'enhanced';
  /** Optional Speechmatics domain (e.g. 'medical' where the account has it). */
  domain?: string;
}

// Speechmatics formats English output per locale; other languages take no output_locale.
const englishLocales = new Set(['en-US', 'en-GB', 'en-AU']);

/** Speechmatics wants the ISO 639-1 language ('en', 'es'), not the BCP 47 tag the routing file uses. */
export function speechmaticsLanguage(tag: string): { language: string; outputLocale?: string } {
  const trimmed = tag.trim();
  const primary = trimmed.split(/[-_]/)[0]?.toLowerCase() ?? '';
  if (!/^[a-z]{2,3}$/.test(primary)) throw new RangeError(`Not a BCP 47 language tag: "${tag}"`);
  const canonical = trimmed.replace('_', '-');
  const region = canonical.split('-')[1];
  const locale = region === undefined ? undefined : `${primary}-${region.toUpperCase()}`;
  return locale !== undefined && englishLocales.has(locale) ? { language: primary, outputLocale: locale } : { language: primary };
}

export function startRecognitionConfig(
  options: SttStreamOptions,
  tuning: RecognitionTuning,
): RealtimeTranscriptionConfig {
  const { language, outputLocale } = speechmaticsLanguage(options.language);
  const vocab: AdditionalVocabObject[] = options.vocabulary.map((term) =>
    term.soundsLike !== undefined && term.soundsLike.length > 0
      ? { content: term.content, sounds_like: [...term.soundsLike] }
      : { content: term.content },
  );
  return {
    audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: options.sampleRate },
    transcription_config: {
      language,
      ...(outputLocale === undefined ? {} : { output_locale: outputLocale }),
      ...(tuning.domain === undefined ? {} : { domain: tuning.domain }),
      // `model` replaces the deprecated `operating_point` (the client warns on every start when it is used).
      model: tuning.operatingPoint,
      max_delay: tuning.maxDelaySec,
      enable_partials: tuning.enablePartials,
      ...(vocab.length === 0 ? {} : { additional_vocab: vocab }),
      conversation_config: { end_of_utterance_silence_trigger: tuning.endOfUtteranceSilenceSec },
    },
  };
}

/** Mean confidence of the words (punctuation carries no recognition confidence). */
function meanConfidence(results: readonly RecognitionResult[]): number {
  let sum = 0;
  let count = 0;
  for (const result of results) {
    if (result.type === 'punctuation') continue;
    const confidence = result.alternatives?.[0]?.confidence;
    if (typeof confidence === 'number') {
      sum += confidence;
      count += 1;
    }
  }
  return count === 0 ? 0 : sum / count;
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/**
 * Maps one server message to our event. `offsetSec` moves session-relative times onto the call's audio
 * timeline (after a reconnect the new session's clock starts at the first replayed frame).
 * Returns undefined for messages that are not transcript events, and for empty transcripts (the service
 * sends them while it is sure of nothing yet; passing them on would look like speech to barge-in).
 */
export function toSttEvent(message: RealtimeServerMessage, offsetSec: number): SttEvent | undefined {
  switch (message.message) {
    case 'AddPartialTranscript': {
      const text = message.metadata.transcript.trim();
      if (text === '') return undefined;
      return {
        type: 'partial',
        text,
        startSec: round(message.metadata.start_time + offsetSec),
        endSec: round(message.metadata.end_time + offsetSec),
      };
    }
    case 'AddTranscript': {
      const text = message.metadata.transcript.trim();
      if (text === '') return undefined;
      return {
        type: 'final',
        text,
        confidence: round(meanConfidence(message.results)),
        startSec: round(message.metadata.start_time + offsetSec),
        endSec: round(message.metadata.end_time + offsetSec),
      };
    }
    case 'EndOfUtterance': {
      const at = message.metadata.end_time ?? message.metadata.start_time ?? 0;
      return { type: 'end_of_utterance', atSec: round(at + offsetSec) };
    }
    default:
      return undefined;
  }
}

// Errors after which a new session would fail the same way: reconnecting only delays the fallback.
const permanentErrors = new Set([
  'invalid_message',
  'invalid_model',
  'invalid_language',
  'invalid_config',
  'invalid_audio_type',
  'invalid_output_format',
  'not_authorised',
  'not_allowed',
  'timelimit_exceeded',
]);

export function isPermanentError(type: string): boolean {
  return permanentErrors.has(type);
}
