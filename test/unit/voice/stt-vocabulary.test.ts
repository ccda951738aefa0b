import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VocabularyError } from '../../../src/core/errors.ts';
import { loadVocabulary, parseVocabulary } from '../../../src/voice/stt/vocabulary.ts';

const practiceFile = fileURLToPath(new URL('../../../dialplan/vocabulary.yaml', import.meta.url));

function problems(text: string): readonly string[] {
  try {
    parseVocabulary(text, 'v.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(VocabularyError);
    return (error as VocabularyError).problems;
  }
  throw new Error('expected the vocabulary to be refused');
}

describe('the practice vocabulary (dialplan/vocabulary.yaml)', () => {
  it('loads, with the dermatology terms, medications and people callers ask for', async () => {
    const terms = await loadVocabulary(practiceFile);
    const contents = terms.map((t) => t.content);
    for (const expected of [
      'Mohs', 'isotretinoin', 'Accutane', 'psoriasis', 'eczema', 'melanoma', 'basal cell', 'squamous cell', 'biopsy',
      'cryotherapy', 'Botox', 'Dysport', 'tretinoin', 'Dupixent', 'rosacea', 'actinic keratosis', 'seborrheic keratosis',
      'reschedule', 'María López', 'Karen Whitfield',
    ]) {
      expect(contents).toContain(expected);
    }
    expect(terms.find((t) => t.content === 'Accutane')?.soundsLike).toContain('acu tane');
    expect(terms.find((t) => t.content === 'new patient')).toEqual({ content: 'new patient' });
  });
});

describe('parseVocabulary errors', () => {
  it('names file, line and column of each mistake', () => {
    expect(problems('version: 1\nterms:\n  - { content: "", sounds_like: [] }\n  - { contnt: x }\n')).toEqual([
      'v.yaml:3:16: terms.0.content: must not be empty',
      'v.yaml:3:33: terms.0.sounds_like: must list at least one spelling (or leave sounds_like out)',
      'v.yaml:4:5: terms.1.content: is required',
      'v.yaml:4:5: terms.1: Unrecognized key: "contnt"',
    ]);
  });

  it('refuses a wrong version, an empty list and duplicates (any case)', () => {
    expect(problems('version: 2\nterms: []\n')).toEqual(['v.yaml:1:10: version: Invalid input: expected 1', 'v.yaml:2:8: terms: must list at least one term']);
    expect(problems('version: 1\nterms:\n  - content: Mohs\n  - content: mohs\n')).toEqual([
      'v.yaml:4:5: terms.1: "mohs" is already listed as terms.0',
    ]);
  });

  it('reports YAML syntax errors and a document that is not a mapping', () => {
    expect(problems('version: 1\nterms: [\n')[0]).toMatch(/^v\.yaml:\d+:\d+: /);
    expect(problems('- just\n- a list\n')).toEqual(['v.yaml:1:1: expected a mapping with version and terms']);
    expect(problems('version: 1\nversion: 1\nterms: [{ content: x }]\n')[0]).toMatch(/^v\.yaml:2:1: .*[Uu]nique/);
  });

  it('refuses over-long terms', () => {
    expect(problems(`version: 1\nterms:\n  - content: ${'a'.repeat(101)}\n`)).toEqual([
      'v.yaml:3:14: terms.0.content: must be at most 100 characters',
    ]);
  });

  it('a missing file is a VocabularyError naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vocab-'));
    try {
      await expect(loadVocabulary(join(dir, 'nope.yaml'))).rejects.toMatchObject({
        code: 'VOCABULARY_INVALID',
        problems: [expect.stringContaining('nope.yaml: cannot be read (ENOENT)')],
      });
      const file = join(dir, 'ok.yaml');
      await writeFile(file, 'version: 1\nterms:\n  - { content: Botox, sounds_like: [bo tox] }\n');
      expect(await loadVocabulary(file)).toEqual([{ content: 'Botox', soundsLike: ['bo tox'] }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
