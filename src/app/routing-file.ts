// Reads dialplan/routing.yaml into a RoutingConfig, or into a list of errors that each name file:line:col.
// The YAML parser keeps node positions, so a schema error's path (from zod) or a reference error's path
// (from checkReferences) is walked back through the document to the key or value it is about. Every error
// is collected, not just the first: an admin fixing a file wants the whole list at once.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { checkReferences, type RoutingPath } from '../core/routing/references.ts';
import { rulePath } from '../core/routing/route.ts';
import { routingDocumentSchema, type RoutingConfig } from '../core/routing/schema.ts';

export interface RoutingError {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  message: string;
}

export type RoutingLoadResult =
  | { ok: true; config: RoutingConfig; /** sha256 hex of the text */ hash: string }
  | { ok: false; errors: RoutingError[] };

/** Larger than any real practice's routing needs; a guard against pointing the loader at the wrong file. */
export const MAX_ROUTING_FILE_BYTES = 1024 * 1024;
/** Aliases expand when read; a cap keeps a "billion laughs" file from eating the controller's memory. */
const MAX_ALIAS_COUNT = 1000;

export function formatRoutingError(e: RoutingError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}

export async function loadRoutingFile(path: string): Promise<RoutingLoadResult> {
  let text: string;
  try {
    // Refuse an oversized file before reading it into memory (someone pointed us at a log or a recording).
    const { size } = await stat(path);
    if (size > MAX_ROUTING_FILE_BYTES) {
      return { ok: false, errors: [{ file: path, line: 1, col: 1, message: `the file is ${size} bytes; the limit is ${MAX_ROUTING_FILE_BYTES} (1 MiB)` }] };
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    return { ok: false, errors: [{ file: path, line: 1, col: 1, message: `cannot read the routing file (${code})` }] };
  }
  return parseRoutingText(text, path);
}

export function parseRoutingText(text: string, fileName: string): RoutingLoadResult {
  const at = (line: number, col: number, message: string): RoutingError => ({ file: fileName, line, col, message });
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_ROUTING_FILE_BYTES) {
    return { ok: false, errors: [at(1, 1, `the file is ${bytes} bytes; the limit is ${MAX_ROUTING_FILE_BYTES} (1 MiB)`)] };
  }
  if (text.trim() === '') return { ok: false, errors: [at(1, 1, 'the file is empty; expected the routing sections (version, practice, locations, …)')] };

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: false, uniqueKeys: true });
  const pos = (offset: number): { line: number; col: number } => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const p = pos(e.pos[0]);
      return at(p.line, p.col, `YAML: ${e.message.split('\n')[0] ?? e.message}`);
    });
    return { ok: false, errors: sortErrors(errors) };
  }
  if (!isMap(doc.contents)) {
    return { ok: false, errors: [at(1, 1, 'the file must be a mapping of sections (version, practice, locations, …)')] };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    return { ok: false, errors: [at(1, 1, `YAML: ${(err as Error).message}`)] };
  }

  const parsed = routingDocumentSchema.safeParse(data);
  if (!parsed.success) {
    const errors = parsed.error.issues.flatMap((issue) => issueErrors(doc, issue).map((e) => {
      const p = pos(e.offset);
      return at(p.line, p.col, e.message);
    }));
    return { ok: false, errors: sortErrors(errors) };
  }
  const problems = checkReferences(parsed.data);
  if (problems.length > 0) {
    const errors = problems.map((problem) => {
      const found = locate(doc, problem.path, false);
      const p = pos(found.offset);
      return at(p.line, p.col, `${rulePath(problem.path)}: ${problem.message}`);
    });
    return { ok: false, errors: sortErrors(errors) };
  }
  return { ok: true, config: parsed.data, hash: createHash('sha256').update(text).digest('hex') };
}

function issueErrors(doc: Document, issue: z.core.$ZodIssue): { offset: number; message: string }[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const where = path.length > 0 ? `${rulePath(path)}: ` : '';
  if (issue.code === 'unrecognized_keys') {
    // One error per unknown key, pointing at the key itself.
    return issue.keys.map((key) => ({
      offset: locate(doc, [...path, key], true).offset,
      message: `${rulePath([...path, key])}: unknown key "${key}" (${issue.message})`,
    }));
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues.map((i) => i.message).join('; ');
    return [{ offset: locate(doc, path, true).offset, message: `${where}invalid key "${String(path.at(-1))}": ${inner}` }];
  }
  const found = locate(doc, path, false);
  if (!found.found) {
    const parent = path.slice(0, -1);
    const name = String(path.at(-1));
    const within = parent.length > 0 ? ` in ${rulePath(parent)}` : ' at the top level';
    return [{ offset: found.offset, message: `missing key "${name}"${within}: ${issue.message}` }];
  }
  return [{ offset: found.offset, message: `${where}${issue.message}` }];
}

/**
 * The offset of the node a path names: the key itself (`key: true`) or its value. When the path runs out of
 * document (a missing key), the offset of the deepest key that does exist, and `found: false`.
 */
function locate(doc: Document, path: RoutingPath, key: boolean): { offset: number; found: boolean } {
  let node: unknown = doc.contents;
  let offset = rangeStart(node) ?? 0;
  // Where a missing key's error goes: the key of the mapping it is missing from (or 1:1 at the top).
  let parentKey = 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    node = deref(doc, node);
    if (isMap(node)) {
      const pair = findPair(doc, node, String(segment));
      if (pair === undefined) return { offset: parentKey, found: false };
      const keyOffset = rangeStart(pair.key) ?? offset;
      parentKey = keyOffset;
      if (last && key) return { offset: keyOffset, found: true };
      node = pair.value;
      // A key with no value (`mode:`) has no value node; point at the key.
      offset = rangeStart(node) ?? keyOffset;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) return { offset: parentKey, found: false };
      offset = rangeStart(node) ?? offset;
    } else {
      return { offset: parentKey, found: false };
    }
  }
  return { offset, found: true };
}

type AnyMap = { items: { key: unknown; value: unknown }[] };

/** A key's pair, looking through `<<` merge keys (and the aliases they name) when it is not written here. */
function findPair(doc: Document, map: AnyMap, key: string): { key: unknown; value: unknown } | undefined {
  for (const pair of map.items) {
    if (isScalar(pair.key) && typeof pair.key.value !== 'symbol' && String(pair.key.value) === key) return pair;
  }
  for (const pair of map.items) {
    if (!isScalar(pair.key) || typeof pair.key.value !== 'symbol') continue;
    const sources = deref(doc, pair.value);
    const candidates = isSeq(sources) ? sources.items.map((s) => deref(doc, s)) : [sources];
    for (const source of candidates) {
      if (isMap(source)) {
        const found = findPair(doc, source as AnyMap, key);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function deref(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return range?.[0];
}

function sortErrors(errors: RoutingError[]): RoutingError[] {
  return errors.sort((a, b) => a.line - b.line || a.col - b.col);
}
