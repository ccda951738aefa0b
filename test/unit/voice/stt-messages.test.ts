import type { RealtimeServerMessage } from '@speechmatics/real-time-client';
import { describe, expect, it } from 'vitest';
import { speechmaticsLanguage, startRecognitionConfig, toSttEvent } from '../../../src/voice/stt/speechmatics-messages.ts';

const tuning = { maxDelaySec: 0.7, enablePartials: true, endOfUtteranceSilenceSec: 0.6, operatingPoint: 'enhanced' as const };

describe('speechmaticsLanguage', () => {
  it.each([
    ['en-US', { language: 'en', outputLocale: 'en-US' }],
    ['en-gb', { language: 'en', outputLocale: 'en-GB' }],
    ['en', { language: 'en' }],
    ['es-US', { language: 'es' }],
    ['es-MX', { language: 'es' }],
  ])('%s', (tag, expected) => {
    expect(speechmaticsLanguage(tag)).toEqual(expected);
  });

  it('rejects something that is not a language tag', () => {
    expect(() => speechmaticsLanguage('')).toThrow(RangeError);
    expect(() => speechmaticsLanguage('12-US')).toThrow(RangeError);
  });
});

describe('startRecognitionConfig', () => {
  it('leaves additional_vocab out when there is no vocabulary, and sounds_like out when empty', () => {
    const none = startRecognitionConfig({ language: 'en-US', sampleRate: 8000, vocabulary: [] }, tuning);
    expect(none.transcription_config).not.toHaveProperty('additional_vocab');
    const some = startRecognitionConfig(
      { language: 'en-US', sampleRate: 8000, vocabulary: [{ content: 'Botox', soundsLike: [] }, { content: 'Mohs', soundsLike: ['moes'] }] },
      { ...tuning, domain: 'medical' },
    );
    expect(some.transcription_config.additional_vocab).toEqual([{ content: 'Botox' }, { content: 'Mohs', sounds_like: ['moes'] }]);
    expect(some.transcription_config.domain).toBe('medical');
  });
});

const transcript = (message: 'AddTranscript' | 'AddPartialTranscript', text: string, results: unknown[]): RealtimeServerMessage =>
  ({ message, metadata: { start_time: 1, end_time: 2, transcript: text }, results }) as RealtimeServerMessage;

describe('toSttEvent', () => {
  it('averages word confidence, ignoring punctuation', () => {
    const event = toSttEvent(
      transcript('AddTranscript', 'Hi there.', [
        { type: 'word', start_time: 1, end_time: 1.5, alternatives: [{ content: 'Hi', confidence: 0.8 }] },
        { type: 'word', start_time: 1.5, end_time: 2, alternatives: [{ content: 'there', confidence: 0.6 }] },
        { type: 'punctuation', start_time: 2, end_time: 2, alternatives: [{ content: '.', confidence: 1 }] },
      ]),
      0,
    );
    expect(event).toEqual({ type: 'final', text: 'Hi there.', confidence: 0.7, startSec: 1, endSec: 2 });
  });

  it('shifts times by the session offset', () => {
    expect(toSttEvent(transcript('AddPartialTranscript', ' eczema ', []), 10.5)).toEqual({
      type: 'partial',
      text: 'eczema',
      startSec: 11.5,
      endSec: 12.5,
    });
    expect(toSttEvent({ message: 'EndOfUtterance', metadata: { start_time: 3, end_time: 3.2 } }, 1)).toEqual({
      type: 'end_of_utterance',
      atSec: 4.2,
    });
  });

  it('passes on no empty transcripts and no other messages', () => {
    expect(toSttEvent(transcript('AddTranscript', '  ', []), 0)).toBeUndefined();
    expect(toSttEvent(transcript('AddPartialTranscript', '', []), 0)).toBeUndefined();
    expect(toSttEvent({ message: 'AudioAdded', seq_no: 3 }, 0)).toBeUndefined();
  });
});
