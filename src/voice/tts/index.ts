// Text-to-speech adapter: Google TTS behind a content-addressed WAV cache (the TextToSpeech port).
export { CachedTts, readWavInfo, type CachedTtsOptions, type PrewarmResult, type TtsLogger, type TtsStats } from './cached-tts.ts';
export { pruneCache, type PruneOptions, type PruneResult } from './housekeeping.ts';
export { cacheKey, type CacheKeyInput } from './cache-key.ts';
export { GOOGLE_TTS_DEFAULT_URL, GoogleTts, type GoogleTtsOptions, type SpeechSynthesizer, type SynthesisInput } from './google-tts.ts';
export { isRiffWave, parseWav, toWav, wavHeader, type TtsEncoding, type WavInfo } from './wav.ts';
