// Keyword and phrase matching (the scripted agent's keywords, emergency phrases): what the recogniser wrote
// and what the configuration says are brought to one form (lower case, no accents, no apostrophes or
// punctuation) and compared as whole words, so "can't breathe" matches "cant breathe", "está" matches
// "esta", and "schedule" misses "reschedule".

export function normalize(text: string): string {
  const plain = text
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/['’`]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return plain === '' ? '' : ` ${plain} `;
}

/** A list of phrases prepared once, matched many times. */
export class PhraseSet {
  private readonly entries: { phrase: string; form: string }[];

  constructor(phrases: readonly string[]) {
    this.entries = phrases.map((phrase) => ({ phrase, form: normalize(phrase) })).filter((e) => e.form !== '');
  }

  /** The first phrase (in list order) found in already-normalized text, as written in the list. */
  find(normalizedText: string): string | undefined {
    if (normalizedText === '') return undefined;
    return this.entries.find((e) => normalizedText.includes(e.form))?.phrase;
  }
}
