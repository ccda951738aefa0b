// Reads a flat JSON object into ordered [key, value] pairs, KEEPING duplicate keys.
//
// Why not JSON.parse: FreeSWITCH's json events repeat keys exactly where the plain form repeats headers
// (CODEC's Channel-Write-Codec-*, Hangup-Cause twice, two Event-Name in the COMMAND event; trace rule 5).
// JSON.parse keeps only the last one, which would turn the COMMAND event into PRIVATE_COMMAND and lose
// the first Hangup-Cause. ESL event objects are flat and their values are strings; a nested or
// non-string value (seen in other JSON bodies) is kept as its JSON text so nothing is lost.
import { EslProtocolError } from '../../core/errors.ts';

const QUOTE = 34; // "
const BACKSLASH = 92; // \

export function parseJsonPairs(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 123 /* { */) throw bad('expected "{"', i);
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === 125 /* } */) return out;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw bad('expected a key', i);
    const key = readString(text, i);
    i = skipWs(text, key.next);
    if (text.charCodeAt(i) !== 58 /* : */) throw bad('expected ":"', i);
    i = skipWs(text, i + 1);
    let value: string;
    if (text.charCodeAt(i) === QUOTE) {
      const str = readString(text, i);
      value = str.value;
      i = str.next;
    } else {
      const end = skipValue(text, i);
      value = text.slice(i, end);
      i = end;
    }
    out.push([key.value, value]);
    i = skipWs(text, i);
    const c = text.charCodeAt(i);
    if (c === 44 /* , */) {
      i = skipWs(text, i + 1);
      continue;
    }
    if (c === 125 /* } */) return out;
    throw bad('expected "," or "}"', i);
  }
}

function skipWs(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** Reads the string starting at the quote at `i`. */
function readString(text: string, i: number): { value: string; next: number } {
  const close = text.indexOf('"', i + 1);
  if (close === -1) throw bad('unterminated string', i);
  const slash = text.indexOf('\\', i + 1);
  // Fast path: no escape before the closing quote, which is nearly every ESL header.
  if (slash === -1 || slash > close) return { value: text.slice(i + 1, close), next: close + 1 };
  let out = '';
  let from = i + 1;
  let j = i + 1;
  for (;;) {
    const c = text.charCodeAt(j);
    if (Number.isNaN(c)) throw bad('unterminated string', i);
    if (c === QUOTE) return { value: out + text.slice(from, j), next: j + 1 };
    if (c !== BACKSLASH) {
      j++;
      continue;
    }
    out += text.slice(from, j);
    const e = text[j + 1];
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        const hex = text.slice(j + 2, j + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw bad('bad \\u escape', j);
        // Surrogate pairs arrive as two \u escapes; concatenating the code units rebuilds them.
        out += String.fromCharCode(parseInt(hex, 16));
        j += 4;
        break;
      }
      default:
        throw bad('bad escape', j);
    }
    j += 2;
    from = j;
  }
}

/** End of a non-string value (number, literal, nested object or array) starting at `i`. */
function skipValue(text: string, i: number): number {
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) {
      j = readString(text, j).next;
      continue;
    }
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      if (depth === 0) return j;
      depth--;
      if (depth === 0) return j + 1;
    } else if (c === 44 && depth === 0) return j;
    j++;
  }
  if (depth !== 0) throw bad('unterminated value', i);
  return j;
}

function bad(what: string, at: number): EslProtocolError {
  return new EslProtocolError(`ESL json event: ${what} at offset ${at}`);
}
