export { SpeechmaticsStt, speechmaticsDefaults, type SpeechmaticsSttOptions } from './speechmatics-stt.ts';
export type { SttLogger } from './speechmatics-stream.ts';
export { loadVocabulary, parseVocabulary, type VocabularyTerm } from './vocabulary.ts';
