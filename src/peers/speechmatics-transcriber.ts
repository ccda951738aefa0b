// What the Speechmatics stand-in "hears" in audio spoken with our codec (src/simulator/spoken-audio.ts):
// while the caller is voiced, AddPartialTranscript every 300 ms of audio with the words said so far; when the
// voice stops, AddTranscript with the whole sentence; after the session's end-of-utterance silence trigger,
// EndOfUtterance. Every time is audio time (frames received), so a run is deterministic however fast the
// audio arrives. Hard medical words missing from the session's additional_vocab come out misheard, with low
// confidence, as a general model would hear them.
import { SpokenAudioDecoder } from '../simulator/spoken-audio.ts';

export interface TranscriberConfig {
  sampleRate: number;
  /** conversation_config.end_of_utterance_silence_trigger (seconds). */
  endOfUtteranceSilenceSec: number;
  /** transcription_config.enable_partials. */
  partials: boolean;
  /** The additional_vocab contents the session was started with. */
  vocabulary: readonly string[];
  language: string;
}

/** Confidence of a word heard well, and of a hard word heard without the vocabulary's help. */
export const CONFIDENCE = 0.95;
export const MISHEARD_CONFIDENCE = 0.42;

/** Hard words (lower case) and what a model without them in its vocabulary makes of them. */
export const MISHEARINGS: Readonly<Record<string, string>> = {
  isotretinoin: 'eye so tret in oh in',
  tretinoin: 'tret in oh in',
  mohs: 'moes',
  dupixent: 'do picks sent',
  dysport: 'this port',
  accutane: 'axe you tane',
  spironolactone: 'spear oh no lack tone',
};

const FRAME_SEC = 0.02;
const PARTIAL_EVERY_FRAMES = 15;

interface Token {
  /** The word as transcribed (possibly misheard, possibly several words). */
  words: string[];
  confidence: number;
  before: string[];
  after: string[];
}

type Result = Record<string, unknown>;

export class SpokenAudioTranscriber {
  private readonly decoder = new SpokenAudioDecoder();
  private readonly frameBytes: number;
  private readonly vocabulary: Set<string>;
  private pending: Buffer = Buffer.alloc(0);
  private frame = 0;
  /** The sentence being said: its tokens, first frame and length in frames. */
  private current: { tokens: Token[]; startFrame: number; frames: number } | undefined;
  /** Frame where the last speech ended, while its EndOfUtterance is still due. */
  private silenceFrom: number | undefined;

  constructor(
    private readonly config: TranscriberConfig,
    private readonly send: (message: Record<string, unknown>) => void,
  ) {
    this.frameBytes = (config.sampleRate / 50) * 2;
    this.vocabulary = new Set(config.vocabulary.map((v) => v.toLowerCase()));
  }

  /** Audio as the client sent it, cut into 20 ms frames (the client sends whole frames from the start). */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= this.frameBytes) {
      this.onFrame(this.pending.subarray(0, this.frameBytes));
      this.pending = this.pending.subarray(this.frameBytes);
    }
  }

  /** End of stream: a sentence still being said is finalised as it stands. */
  flush(): void {
    this.finish(this.frame);
  }

  private onFrame(frame: Buffer): void {
    const index = this.frame++;
    const heard = this.decoder.push(frame);
    if (heard.utterance !== undefined) {
      // A new sentence, perhaps straight after the last one: that one ends here.
      this.finish(index);
      const { text, frames, markerFrames } = heard.utterance;
      this.current = { tokens: this.tokenize(text), startFrame: index + 1 - markerFrames, frames: Math.max(1, frames) };
    }
    if (heard.voiced) {
      this.silenceFrom = undefined;
      // Voice we cannot read (a tone, or marker frames still coming) gives nothing to transcribe.
      const cur = this.current;
      if (cur !== undefined && this.config.partials && (index + 1 - cur.startFrame) % PARTIAL_EVERY_FRAMES === 0) this.partial(index + 1);
      return;
    }
    this.finish(index);
    if (this.silenceFrom !== undefined && (index + 1 - this.silenceFrom) * FRAME_SEC >= this.config.endOfUtteranceSilenceSec - 1e-9) {
      const at = round((index + 1) * FRAME_SEC);
      this.send({ message: 'EndOfUtterance', format: '2.9', metadata: { start_time: at, end_time: at } });
      this.silenceFrom = undefined;
    }
  }

  /** The words said so far, in proportion to how far through the sentence the audio is. */
  private partial(endFrame: number): void {
    const cur = this.current;
    if (cur === undefined) return;
    const progress = Math.min(1, (endFrame - cur.startFrame) / cur.frames);
    const count = Math.floor(cur.tokens.length * progress);
    if (count === 0) return;
    const start = cur.startFrame * FRAME_SEC;
    const perToken = (cur.frames * FRAME_SEC) / cur.tokens.length;
    this.send({
      message: 'AddPartialTranscript',
      format: '2.9',
      ...this.body(cur.tokens.slice(0, count), start, start + perToken * count, endFrame * FRAME_SEC),
    });
  }

  /** The voice stopped at `endFrame`: the whole sentence as a final transcript. */
  private finish(endFrame: number): void {
    const cur = this.current;
    if (cur === undefined) return;
    this.current = undefined;
    this.silenceFrom = endFrame;
    const start = cur.startFrame * FRAME_SEC;
    const end = Math.max(endFrame * FRAME_SEC, start + FRAME_SEC);
    this.send({ message: 'AddTranscript', format: '2.9', ...this.body(cur.tokens, start, end, end) });
  }

  private body(tokens: Token[], start: number, wordsEnd: number, end: number): Record<string, unknown> {
    const results: Result[] = [];
    const parts: string[] = [];
    const step = (wordsEnd - start) / Math.max(1, tokens.length);
    tokens.forEach((token, i) => {
      const from = start + step * i;
      const wordStep = step / token.words.length;
      for (const p of token.before) results.push(punctuation(p, from, 'next', this.config.language));
      token.words.forEach((content, w) => {
        results.push({
          type: 'word',
          start_time: round(from + wordStep * w),
          end_time: round(from + wordStep * (w + 1)),
          alternatives: [{ content, confidence: token.confidence, language: this.config.language }],
        });
      });
      for (const p of token.after) results.push(punctuation(p, from + step, 'previous', this.config.language));
      parts.push(token.before.join('') + token.words.join(' ') + token.after.join(''));
    });
    return { metadata: { start_time: round(start), end_time: round(end), transcript: parts.join(' ') }, results };
  }

  private tokenize(text: string): Token[] {
    const tokens: Token[] = [];
    for (const raw of text.split(/\s+/)) {
      const m = /^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u.exec(raw);
      const word = m?.[2] ?? '';
      if (word === '') continue;
      const misheard = this.vocabulary.has(word.toLowerCase()) ? undefined : MISHEARINGS[word.toLowerCase()];
      tokens.push({
        words: misheard === undefined ? [word] : misheard.split(' '),
        confidence: misheard === undefined ? CONFIDENCE : MISHEARD_CONFIDENCE,
        before: [...(m?.[1] ?? '')],
        after: [...(m?.[3] ?? '')],
      });
    }
    return tokens;
  }
}

function punctuation(content: string, at: number, attachesTo: 'previous' | 'next', language: string): Result {
  return {
    type: 'punctuation',
    start_time: round(at),
    end_time: round(at),
    is_eos: attachesTo === 'previous' && /[.?!]/.test(content),
    attaches_to: attachesTo,
    alternatives: [{ content, confidence: 1, language }],
  };
}

const round = (seconds: number): number => Math.round(seconds * 1000) / 1000;
