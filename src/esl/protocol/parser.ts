// ESL framing: a message is a header block ended by an empty line ("\n\n"), followed by exactly
// Content-Length bytes of body when that header is present. TCP reads cut messages anywhere, including
// between the two LFs that end a header block (trace rule 18), so the parser buffers across reads.
//
// Throughput matters (every event of every call passes here), hence:
// - one loop, no recursion per message;
// - a read offset into the buffered bytes instead of slicing off each consumed message (slicing the rest
//   per message is what makes other parsers quadratic in the read size);
// - a read that arrives with nothing buffered is used in place, without a copy;
// - bytes already handed out as a frame body are never overwritten: the buffer is only ever appended to
//   or replaced by a fresh one, so `frame.body` stays valid (it is a view, not a copy).
import { EslProtocolError } from '../../core/errors.ts';
import { decodeValue } from './decode.ts';
import { EslHeaders } from './headers.ts';

export interface EslFrame {
  /** Outer headers, values URL-decoded. */
  headers: EslHeaders;
  /** Exactly Content-Length bytes, or undefined when the message has no Content-Length. */
  body: Buffer | undefined;
  /** The outer Content-Type ('' when absent). */
  contentType: string;
}

export interface EslFrameParserOptions {
  /** A header block longer than this without its terminator is a framing error. */
  maxHeaderBytes?: number;
  /** A Content-Length above this is a framing error. */
  maxBodyBytes?: number;
}

const LF = 0x0a;
const EMPTY = Buffer.alloc(0);
const MIN_CAPACITY = 16 * 1024;

export class EslFrameParser {
  #buf: Buffer = EMPTY;
  /** True when #buf is ours to append into (not a caller's chunk). */
  #owned = false;
  #start = 0;
  #end = 0;
  /** How far the search for "\n\n" has already looked, relative to #start (so 1-byte reads stay linear). */
  #scanned = 0;
  /** Headers of a message whose body is still incomplete. */
  #pending: { headers: EslHeaders; contentType: string; headerBytes: number; bodyLength: number } | undefined;
  readonly #maxHeaderBytes: number;
  readonly #maxBodyBytes: number;

  constructor(options: EslFrameParserOptions = {}) {
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 1024 * 1024;
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  }

  /** Bytes received but not yet part of a complete message. */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /** Feeds one read; returns every message it completed, in order. Throws EslProtocolError on bad framing. */
  push(chunk: Buffer): EslFrame[] {
    const frames: EslFrame[] = [];
    if (chunk.length === 0) return frames;
    this.#append(chunk);
    const buf = this.#buf;
    const end = this.#end;
    // Searches must not look past the received bytes into the unused tail of our own buffer.
    const view = this.#owned ? buf.subarray(0, end) : buf;
    let start = this.#start;
    for (;;) {
      let pending = this.#pending;
      if (pending === undefined) {
        // A stray empty line between messages is not a message.
        while (start < end && buf[start] === LF && this.#scanned === 0) start++;
        const terminator = this.#findTerminator(view, start);
        if (terminator === -1) break;
        pending = parseHeaderBlock(buf, start, terminator, this.#maxBodyBytes);
        this.#scanned = 0;
        if (pending.bodyLength < 0) {
          frames.push({ headers: pending.headers, body: undefined, contentType: pending.contentType });
          start += pending.headerBytes;
          continue;
        }
        this.#pending = pending;
      }
      const bodyStart = start + pending.headerBytes;
      const bodyEnd = bodyStart + pending.bodyLength;
      if (bodyEnd > end) break;
      frames.push({ headers: pending.headers, body: buf.subarray(bodyStart, bodyEnd), contentType: pending.contentType });
      this.#pending = undefined;
      start = bodyEnd;
    }
    this.#start = start;
    if (start === end) {
      // Everything consumed: forget the buffer so the next read can be adopted without a copy.
      this.#buf = EMPTY;
      this.#owned = false;
      this.#start = 0;
      this.#end = 0;
    } else if (this.#pending === undefined && end - start > this.#maxHeaderBytes) {
      throw new EslProtocolError(`ESL header block longer than ${this.#maxHeaderBytes} bytes`);
    }
    return frames;
  }

  /** Drops everything buffered (after the socket closed). */
  reset(): void {
    this.#buf = EMPTY;
    this.#owned = false;
    this.#start = 0;
    this.#end = 0;
    this.#scanned = 0;
    this.#pending = undefined;
  }

  #append(chunk: Buffer): void {
    const remaining = this.#end - this.#start;
    if (remaining === 0) {
      this.#buf = chunk;
      this.#owned = false;
      this.#start = 0;
      this.#end = chunk.length;
      return;
    }
    if (this.#owned && this.#buf.length - this.#end >= chunk.length) {
      chunk.copy(this.#buf, this.#end);
      this.#end += chunk.length;
      return;
    }
    // A fresh buffer (never compaction in place: earlier frame bodies may still point into the old one).
    const needed = remaining + chunk.length;
    const pendingTotal = this.#pending ? this.#pending.headerBytes + this.#pending.bodyLength : 0;
    const capacity = Math.max(MIN_CAPACITY, needed * 2, pendingTotal);
    const next = Buffer.allocUnsafe(capacity);
    this.#buf.copy(next, 0, this.#start, this.#end);
    chunk.copy(next, remaining);
    this.#buf = next;
    this.#owned = true;
    this.#start = 0;
    this.#end = needed;
  }

  /** Index of the first LF of the "\n\n" ending the header block at `start`, or -1. */
  #findTerminator(view: Buffer, start: number): number {
    const end = view.length;
    let i = start + this.#scanned;
    for (;;) {
      const lf = view.indexOf(LF, i);
      if (lf === -1 || lf + 1 >= end) break;
      if (view[lf + 1] === LF) return lf;
      i = lf + 1;
    }
    // Resume one byte before the end next time: this read may have ended between the two LFs.
    this.#scanned = Math.max(0, end - 1 - start);
    return -1;
  }
}

function parseHeaderBlock(
  buf: Buffer,
  start: number,
  terminator: number,
  maxBodyBytes: number,
): { headers: EslHeaders; contentType: string; headerBytes: number; bodyLength: number } {
  const text = buf.toString('utf8', start, terminator);
  const headers = new EslHeaders();
  let contentType = '';
  let contentLength = -1;
  let pos = 0;
  while (pos < text.length) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = text.length;
    const colon = text.indexOf(': ', pos);
    // Split on the FIRST ": " only: values contain it (`Reply-Text: +OK Job-UUID: …`).
    let name: string;
    let value: string;
    if (colon === -1 || colon > eol) {
      const bare = text.indexOf(':', pos);
      if (bare !== -1 && bare < eol) {
        name = text.slice(pos, bare);
        value = text.slice(bare + 1, eol).trimStart();
      } else {
        name = text.slice(pos, eol);
        value = '';
      }
    } else {
      name = text.slice(pos, colon);
      value = decodeValue(text.slice(colon + 2, eol));
    }
    if (name.length > 0) {
      headers.add(name, value);
      if (name === 'Content-Type') contentType = value;
      else if (name === 'Content-Length') contentLength = parseLength(value, maxBodyBytes);
    }
    pos = eol + 1;
  }
  return { headers, contentType, headerBytes: terminator + 2 - start, bodyLength: contentLength };
}

function parseLength(value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || value.length === 0) {
    throw new EslProtocolError(`ESL Content-Length is not a length: "${value}"`);
  }
  if (n > max) throw new EslProtocolError(`ESL Content-Length ${n} exceeds the limit of ${max}`);
  return n;
}
