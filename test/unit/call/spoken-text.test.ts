import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/app/logger.ts';
import { loadRoutingFile } from '../../../src/app/routing-file.ts';
import { announcementTexts, fliteSpeech, isSound, SpokenText, type FliteReason, type TtsVoice } from '../../../src/call/spoken-text.ts';
import type { SpeechRequest, SynthesizedSpeech } from '../../../src/core/voice-ports.ts';

const SHIPPED_ROUTING = fileURLToPath(new URL('../../../dialplan/routing.yaml', import.meta.url));

/** A TTS voice whose synthesis the test answers by hand; it records what it was asked. */
function scriptedVoice(answer: (request: SpeechRequest) => Promise<SynthesizedSpeech>, known: Map<string, string> = new Map()): TtsVoice & { asked: SpeechRequest[] } {
  const asked: SpeechRequest[] = [];
  return {
    asked,
    tts: {
      knownPath: (request) => known.get(`${request.language}|${request.text}`),
      synthesize: (request) => {
        asked.push(request);
        return answer(request);
      },
    },
    voiceFor: (language) => (language.startsWith('es') ? 'es-US-Neural2-A' : 'en-US-Neural2-F'),
    sampleRate: 16000,
  };
}

function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', format: 'json', destination }), lines };
}

const TEXT = 'Esta llamada puede ser grabada.';

describe('FreeSWITCH sounds and its own voice', () => {
  it('tells sounds from text and keeps flite text on one line', () => {
    expect(isSound('/var/lib/callbridge/notice.wav')).toBe(true);
    expect(isSound('tone_stream://%(200,0,440)')).toBe(true);
    expect(isSound('notice.wav')).toBe(true);
    expect(isSound('This call may be recorded.')).toBe(false);
    expect(fliteSpeech('One.\r\nTwo.')).toEqual({ app: 'speak', arg: 'flite|slt|One. Two.' });
  });
});

describe('what a routing file has the controller say', () => {
  it('lists each announcement and the on-call offer once per language, in the language of the number', async () => {
    const loaded = await loadRoutingFile(SHIPPED_ROUTING);
    if (!loaded.ok) throw new Error('the shipped routing file is invalid');
    const texts = announcementTexts(loaded.config);
    expect(texts).toContainEqual({ text: 'Esta llamada puede ser grabada para control de calidad.', language: 'es-US' });
    expect(texts).toContainEqual({ text: 'This call may be recorded for quality and training.', language: 'en-US' });
    expect(texts.some((t) => t.language === 'es-US' && /proveedor de guardia/.test(t.text))).toBe(true);
    expect(new Set(texts.map((t) => `${t.language}|${t.text}`)).size).toBe(texts.length);
  });
});

describe("a call's sentences", () => {
  it('plays the cached file in the call language at once, without asking TTS', async () => {
    const { logger } = capturedLogger();
    const voice = scriptedVoice(() => Promise.reject(new Error('not expected')), new Map([[`es-US|${TEXT}`, '/cache/abc.wav']]));
    const speech = new SpokenText({ voice, language: 'es-US', logger });
    expect(speech.now(TEXT)).toEqual({ app: 'playback', arg: '/cache/abc.wav' });
    expect(await speech.prompt(TEXT)).toEqual({ app: 'playback', arg: '/cache/abc.wav' });
    expect(voice.asked).toEqual([]);
  });

  it('synthesizes with the voice of the call language, then knows the file for the rest of the call', async () => {
    const { logger, lines } = capturedLogger();
    const voice = scriptedVoice(async () => ({ path: '/cache/es.wav', durationMs: 1200, cached: false }));
    const speech = new SpokenText({ voice, language: 'es-US', logger });
    expect(speech.now(TEXT)).toBeUndefined();
    expect(await speech.prompt(TEXT, 1000)).toEqual({ app: 'playback', arg: '/cache/es.wav' });
    expect(voice.asked).toEqual([{ text: TEXT, voice: 'es-US-Neural2-A', language: 'es-US', sampleRate: 16000 }]);
    expect(speech.ready(TEXT)).toEqual({ app: 'playback', arg: '/cache/es.wav' });
    expect(lines.join('')).not.toContain('TTS could not say');
  });

  it('falls back to FreeSWITCH’s voice when TTS fails, is slow or only has its generic prompt, and says so once without the words', async () => {
    const { logger, lines } = capturedLogger();
    const reasons: FliteReason[] = [];
    const answers: (() => Promise<SynthesizedSpeech>)[] = [
      () => Promise.reject(Object.assign(new Error('Google TTS failed'), { code: 'TTS_SYNTHESIS_FAILED' })),
      () => new Promise(() => undefined),
      async () => ({ path: '/prompts/generic.wav', durationMs: 900, cached: false, fallback: true }),
    ];
    const voice = scriptedVoice(() => answers.shift()!());
    const speech = new SpokenText({ voice, language: 'es-US', logger, onFlite: (reason) => reasons.push(reason) });
    expect(await speech.prompt('Uno.')).toEqual(fliteSpeech('Uno.'));
    expect(await speech.prompt('Dos.', 10)).toEqual(fliteSpeech('Dos.'));
    expect(await speech.prompt('Tres.')).toEqual(fliteSpeech('Tres.'));
    expect(speech.ready('Cuatro.')).toEqual(fliteSpeech('Cuatro.'));
    const noted = lines.filter((l) => l.includes('TTS could not say'));
    expect(noted).toHaveLength(1);
    expect(JSON.parse(noted[0]!)).toMatchObject({ reason: 'tts_failed', language: 'es-US', code: 'TTS_SYNTHESIS_FAILED' });
    expect(reasons).toEqual(['tts_failed']);
    expect(lines.join('')).not.toMatch(/Uno|Dos|Tres|Cuatro/);
  });

  it('without TTS, FreeSWITCH’s voice says the text and sounds play as they are, with nothing to report', async () => {
    const { logger, lines } = capturedLogger();
    const speech = new SpokenText({ voice: undefined, language: 'es-US', logger });
    expect(await speech.prompt(TEXT)).toEqual(fliteSpeech(TEXT));
    expect(speech.ready('/sounds/notice.wav')).toEqual({ app: 'playback', arg: '/sounds/notice.wav' });
    expect(lines).toEqual([]);
  });
});
