import { describe, expect, it } from 'vitest';
import { cacheKey, type CacheKeyInput } from '../../../src/voice/tts/cache-key.ts';

const base: CacheKeyInput = { voice: 'en-US-Neural2-F', language: 'en-US', sampleRate: 8000, encoding: 'LINEAR16', ssml: false, text: 'Hello' };

describe('TTS cache key', () => {
  it('is the same hex sha256 for the same request, across calls', () => {
    expect(cacheKey({ ...base })).toBe(cacheKey(base));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with every field that changes the audio', () => {
    const variants: CacheKeyInput[] = [
      { ...base, voice: 'en-US-Neural2-D' },
      { ...base, language: 'es-US' },
      { ...base, sampleRate: 16000 },
      { ...base, encoding: 'MULAW' },
      { ...base, ssml: true },
      { ...base, text: 'Hello.' },
    ];
    const keys = new Set([cacheKey(base), ...variants.map(cacheKey)]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('does not confuse fields that concatenate to the same string', () => {
    expect(cacheKey({ ...base, voice: 'ab', language: 'c' })).not.toBe(cacheKey({ ...base, voice: 'a', language: 'bc' }));
  });
});
