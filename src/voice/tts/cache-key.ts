// The cache is addressed by content: the same words in the same voice at the same rate and encoding are the
// same file, whichever call asked first. Every field that changes the audio is part of the key.
import { createHash } from 'node:crypto';
import type { TtsEncoding } from './wav.ts';

export interface CacheKeyInput {
  voice: string;
  language: string;
  sampleRate: number;
  encoding: TtsEncoding;
  ssml: boolean;
  text: string;
}

/** Hex sha256 over the fields, length-prefixed so no two different inputs can produce the same string. */
export function cacheKey(input: CacheKeyInput): string {
  const hash = createHash('sha256');
  hash.update('callbridge-tts-v1');
  const fields = [input.voice, input.language, String(input.sampleRate), input.encoding, input.ssml ? 'ssml' : 'text', input.text];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}
