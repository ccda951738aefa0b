// The speech vocabulary (dialplan/vocabulary.yaml): terms the recogniser should expect, with sounds-like
// hints. Validated once at start with a position for every mistake, so an admin's typo fails loudly at boot
// instead of silently weakening recognition mid-call.
import { readFile } from 'node:fs/promises';
import { isMap, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { VocabularyError } from '../../core/errors.ts';

export interface VocabularyTerm {
  content: string;
  soundsLike?: readonly string[];
}

// Speechmatics rejects very long entries and a huge list delays every session start; these bounds keep an
// edit from doing either by accident.
const maxTerms = 1000;
const maxTermLength = 100;
const maxFileBytes = 1_000_000;

const phrase = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be text') })
  .trim()
  .min(1, 'must not be empty')
  .max(maxTermLength, `must be at most ${maxTermLength} characters`);

const termSchema = z.strictObject({
  content: phrase,
  sounds_like: z.array(phrase).min(1, 'must list at least one spelling (or leave sounds_like out)').optional(),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  terms: z.array(termSchema).min(1, 'must list at least one term').max(maxTerms, `must list at most ${maxTerms} terms`),
});

function position(doc: Document, counter: LineCounter, path: readonly PropertyKey[]): string {
  // Walk up the path until a node exists (a missing key is reported at its parent).
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as (string | number)[], true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined) {
      const { line, col } = counter.linePos(range[0]);
      return `${line}:${col}`;
    }
  }
  return '1:1';
}

/** Parses vocabulary YAML text; `file` names it in errors. */
export function parseVocabulary(text: string, file = 'vocabulary.yaml'): VocabularyTerm[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new VocabularyError(
      file,
      doc.errors.map((error) => {
        const { line, col } = counter.linePos(error.pos[0]);
        return `${file}:${line}:${col}: ${error.message.split('\n')[0] ?? error.message}`;
      }),
    );
  }
  if (!isMap(doc.contents)) throw new VocabularyError(file, [`${file}:1:1: expected a mapping with version and terms`]);
  const parsed = fileSchema.safeParse(doc.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    throw new VocabularyError(
      file,
      parsed.error.issues.map((issue) => {
        const where = issue.path.map(String).join('.') || '(root)';
        return `${file}:${position(doc, counter, issue.path)}: ${where}: ${issue.message}`;
      }),
    );
  }
  const problems: string[] = [];
  const seen = new Map<string, number>();
  parsed.data.terms.forEach((term, index) => {
    const key = term.content.toLocaleLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else problems.push(`${file}:${position(doc, counter, ['terms', index])}: terms.${index}: "${term.content}" is already listed as terms.${first}`);
  });
  if (problems.length > 0) throw new VocabularyError(file, problems);
  return parsed.data.terms.map((term) =>
    term.sounds_like === undefined ? { content: term.content } : { content: term.content, soundsLike: term.sounds_like },
  );
}

/** Reads and validates a vocabulary file (dialplan/vocabulary.yaml). */
export async function loadVocabulary(file: string): Promise<VocabularyTerm[]> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > maxFileBytes) throw new VocabularyError(file, [`${file}: larger than ${maxFileBytes} bytes`]);
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof VocabularyError) throw error;
    throw new VocabularyError(file, [`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`], {
      cause: error,
    });
  }
  return parseVocabulary(text, file);
}
