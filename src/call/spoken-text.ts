// Sentences the controller says to a caller (the routing file's announcements, the agent's fixed sentences,
// the holding phrase), as something FreeSWITCH plays: a WAV from the TTS cache, said by the voice of the
// call's language. FreeSWITCH's own voice (mod_flite) is the last resort: it only speaks US English, so a
// Spanish sentence comes out mangled. It is used when TTS cannot give us the file (in time), and each call
// says so once in its log, without the words (they can be long and are not ours to log).
import type { Logger } from 'pino';
import { urgentOfferPrompt } from '../core/routing/after-hours.ts';
import type { RoutingConfig } from '../core/routing/schema.ts';
import type { SpeechRequest, SynthesizedSpeech } from '../core/voice-ports.ts';
import type { MediaPrompt } from '../esl/channel-control.ts';

/** What the caller hears: a file (`playback`) or FreeSWITCH's own voice (`speak`). */
export type Prompt = MediaPrompt;

/** The part of the voice pipeline that says text: the prompt cache and the voice of each language. */
export interface TtsVoice {
  tts: {
    knownPath(request: SpeechRequest): string | undefined;
    synthesize(request: SpeechRequest): Promise<SynthesizedSpeech>;
  };
  voiceFor(language: string): string;
  sampleRate: 8000 | 16000;
}

/** Why FreeSWITCH's own voice had to say a sentence. */
export type FliteReason = 'tts_failed' | 'tts_slow' | 'tts_generic_prompt' | 'not_ready';

/** A path or a `scheme://` source (tone_stream://, local_stream://…) is played as is; anything else is text. */
export function isSound(text: string): boolean {
  return text.startsWith('/') || text.includes('://') || /\.(wav|mp3|r8|r16|ulaw|alaw)$/i.test(text);
}

/** FreeSWITCH's own text-to-speech, on one line (a newline would end the sendmsg header). */
export function fliteSpeech(text: string): Prompt {
  return { app: 'speak', arg: `flite|slt|${text.replace(/[\r\n]+/g, ' ')}` };
}

export function speechRequest(voice: TtsVoice, text: string, language: string): SpeechRequest {
  return { text, voice: voice.voiceFor(language), language, sampleRate: voice.sampleRate };
}

/**
 * What a routing file has the controller say, with the language of the number it is said on (once each), for
 * the cache to hold before the first call: each number's recording announcement and the after-hours on-call
 * offer. Sounds are played as they are and are left out.
 */
export function announcementTexts(config: RoutingConfig): { text: string; language: string }[] {
  const seen = new Map<string, { text: string; language: string }>();
  const add = (text: string, language: string): void => {
    if (!isSound(text)) seen.set(`${language}\n${text}`, { text, language });
  };
  const digits = config.after_hours.urgent_digits;
  for (const number of Object.values(config.numbers)) {
    const notice = number.recording.announcement;
    if (number.recording.enabled && notice !== null) add(notice, number.language);
    if (digits !== '') add(urgentOfferPrompt(number.language, digits), number.language);
  }
  return [...seen.values()];
}

export interface SpokenTextOptions {
  /** Undefined when TTS is not configured: then FreeSWITCH's own voice says everything, as expected. */
  voice: TtsVoice | undefined;
  /** The call's language (the dialled number's). */
  language: string;
  logger: Logger;
  /** The first time FreeSWITCH's own voice stands in for TTS on this call (the journal notes it). */
  onFlite?: (reason: FliteReason) => void;
}

/** One call's way of saying sentences. */
export class SpokenText {
  readonly #o: SpokenTextOptions;
  /** Sentences already resolved for this call: the same one is said the same way again, at once. */
  readonly #ready = new Map<string, Prompt>();
  #fliteNoted = false;

  constructor(options: SpokenTextOptions) {
    this.#o = options;
  }

  get language(): string {
    return this.#o.language;
  }

  /**
   * The prompt when it is known without waiting: a sound, a file this process has in the cache, a sentence
   * resolved before on this call, or (without TTS) FreeSWITCH's voice. Undefined when it must be synthesized.
   */
  now(text: string): Prompt | undefined {
    if (isSound(text)) return { app: 'playback', arg: text };
    const voice = this.#o.voice;
    if (voice === undefined) return fliteSpeech(text);
    const ready = this.#ready.get(text);
    if (ready !== undefined) return ready;
    const known = voice.tts.knownPath(speechRequest(voice, text, this.#o.language));
    return known === undefined ? undefined : { app: 'playback', arg: known };
  }

  /** What to play at once, whatever happens: `now()`, else FreeSWITCH's voice (noted as a stand-in). */
  ready(text: string): Prompt {
    return this.now(text) ?? this.#flite(text, 'not_ready');
  }

  /**
   * The sentence synthesized in the call's voice (from the cache when it is there). FreeSWITCH's voice says
   * it instead when synthesis fails, when TTS could only give its generic prompt (the caller must hear these
   * words), or when it takes longer than `waitMs`. Never rejects.
   */
  prompt(text: string, waitMs?: number): Promise<Prompt> {
    const at = this.now(text);
    if (at !== undefined) return Promise.resolve(at);
    const voice = this.#o.voice as TtsVoice;
    let settled = false;
    const spoken = voice.tts.synthesize(speechRequest(voice, text, this.#o.language)).then(
      (speech): Prompt => {
        if (speech.fallback === true) return this.#flite(text, 'tts_generic_prompt', settled);
        const prompt: Prompt = { app: 'playback', arg: speech.path };
        if (!settled) this.#ready.set(text, prompt);
        return prompt;
      },
      (error: unknown): Prompt => this.#flite(text, 'tts_failed', settled, error),
    );
    if (waitMs === undefined) return spoken.finally(() => (settled = true));
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<Prompt>((resolve) => {
      timer = setTimeout(() => resolve(this.#flite(text, 'tts_slow')), waitMs);
      timer.unref();
    });
    return Promise.race([spoken, slow]).finally(() => {
      settled = true;
      clearTimeout(timer);
    });
  }

  /** FreeSWITCH's voice for `text`; the first stand-in of the call is logged (without the words). */
  #flite(text: string, reason: FliteReason, late = false, error?: unknown): Prompt {
    const prompt = fliteSpeech(text);
    // A synthesis that ends after the wait gave up changes nothing: the caller already heard FreeSWITCH.
    if (late) return prompt;
    if (!this.#fliteNoted) {
      this.#fliteNoted = true;
      const code = (error as { code?: unknown } | undefined)?.code;
      this.#o.logger.warn(
        { reason, language: this.#o.language, ...(typeof code === 'string' ? { code } : {}) },
        "TTS could not say this call's text; FreeSWITCH's own voice (mod_flite, US English) says it",
      );
      this.#o.onFlite?.(reason);
    }
    return prompt;
  }
}

/**
 * Longest a call's answer waits for its announcement's TTS file when it is not cached (the caller is still
 * hearing ringback); after that FreeSWITCH's own voice says it.
 */
export const ANNOUNCEMENT_WAIT_MS = 2000;
