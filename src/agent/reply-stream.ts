// Streamed replies (contract v2), the pure part: cutting a response body into chunk payloads (NDJSON lines or
// SSE events), checking each chunk and the stream's order, and converting between a whole reply and chunks.
// No I/O here: the HTTP client feeds it text as it arrives, the agents use the conversions.
import type { AgentAction, AgentReply, AgentReplyChunk } from '../core/voice-ports.ts';
import { agentReplyChunkSchema } from './contract.ts';

export type StreamFormat = 'ndjson' | 'sse';

/** Cuts text arriving in arbitrary pieces into complete payloads (one JSON document each). */
export interface Framer {
  /** The payloads completed by this piece of text, in order. */
  push(text: string): string[];
  /** The body ended: payloads a well-formed body may leave unterminated. */
  end(): string[];
}

/** NDJSON: one JSON document per line; blank lines are ignored, and the last line may lack its newline. */
export function ndjsonFramer(): Framer {
  let buffer = '';
  const complete = (line: string): string[] => {
    const trimmed = line.trim();
    return trimmed === '' ? [] : [trimmed];
  };
  return {
    push(text) {
      buffer += text;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      return lines.flatMap(complete);
    },
    end() {
      const rest = buffer;
      buffer = '';
      return complete(rest);
    },
  };
}

/**
 * Server-sent events (the WHATWG event-stream format): `data:` lines are joined into the event's payload, a
 * blank line ends the event, comments (`:`) and other fields (event, id, retry) carry nothing for us. As in
 * browsers, an event the body ends before its blank line is dropped.
 */
export function sseFramer(): Framer {
  let buffer = '';
  let data: string[] = [];
  const line = (raw: string, out: string[]): void => {
    if (raw === '') {
      if (data.length > 0) out.push(data.join('\n'));
      data = [];
      return;
    }
    if (raw.startsWith(':')) return;
    const colon = raw.indexOf(':');
    const field = colon === -1 ? raw : raw.slice(0, colon);
    if (field !== 'data') return;
    const value = colon === -1 ? '' : raw.slice(colon + 1);
    data.push(value.startsWith(' ') ? value.slice(1) : value);
  };
  return {
    push(text) {
      buffer += text;
      const out: string[] = [];
      // A CR at the very end may be the first half of a CRLF: keep it until the next piece says.
      const cut = buffer.endsWith('\r') ? buffer.length - 1 : buffer.length;
      const lines = buffer.slice(0, cut).split(/\r\n|\r|\n/);
      buffer = (lines.pop() ?? '') + buffer.slice(cut);
      for (const raw of lines) line(raw, out);
      return out;
    },
    end() {
      buffer = '';
      data = [];
      return [];
    },
  };
}

export function framerFor(format: StreamFormat): Framer {
  return format === 'sse' ? sseFramer() : ndjsonFramer();
}

/** The stream format a response's Content-Type names, or undefined when it is neither. */
export function streamFormatOf(contentType: string | null): StreamFormat | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-ndjson') return 'ndjson';
  if (type === 'text/event-stream') return 'sse';
  return undefined;
}

/**
 * One payload as a chunk of the contract, or why it is not one. The problem names issue paths and codes
 * only: the values could be what the engine meant to say to the caller.
 */
export function parseChunk(payload: string): { chunk: AgentReplyChunk } | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { problem: 'chunk is not JSON' };
  }
  const parsed = agentReplyChunkSchema.safeParse(json);
  if (parsed.success) return { chunk: parsed.data };
  const where = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.code}`).join('; ');
  return { problem: `chunk does not match the contract (${where})` };
}

/** The stream's order: sentences, then at most one actions chunk, then done, then nothing. */
export class ChunkOrder {
  private stage: 'sentences' | 'actions' | 'done' = 'sentences';

  get done(): boolean {
    return this.stage === 'done';
  }

  /** Takes the next chunk; returns why it is out of order (and then keeps the state), or undefined. */
  accept(chunk: AgentReplyChunk): string | undefined {
    if (this.stage === 'done') return `${chunk.type} after done`;
    if (chunk.type === 'sentence' && this.stage === 'actions') return 'sentence after actions';
    if (chunk.type === 'actions' && this.stage === 'actions') return 'a second actions chunk';
    this.stage = chunk.type === 'sentence' ? 'sentences' : chunk.type;
    return undefined;
  }
}

/** Titles that end in a full stop without ending the sentence ("Dr. Patel", "Sra. López"). */
const TITLES = new Set(['dr', 'dra', 'mr', 'mrs', 'ms', 'sr', 'sra', 'srta', 'st']);

/**
 * Plain text cut where its sentences end: after . ! ? or … followed by a space and a capital, a digit or ¿ ¡
 * (so "3 p.m. on Friday" stays whole), never after a title. Each piece keeps its punctuation.
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (const match of text.matchAll(/[.!?…]+["»”)]?(\s+)(?=[\p{Lu}\p{N}¿¡])/gu)) {
    const end = (match.index ?? 0) + match[0].length - (match[1]?.length ?? 0);
    const word = /(\p{L}+)\.$/u.exec(text.slice(start, end))?.[1]?.toLowerCase();
    if (word !== undefined && TITLES.has(word)) continue;
    out.push(text.slice(start, end).trim());
    start = end;
  }
  out.push(text.slice(start).trim());
  return out.filter((sentence) => sentence !== '');
}

/**
 * A whole reply as the chunks of a stream: its words (one sentence, or sentence by sentence with `split`;
 * SSML always whole, since cutting markup would break it), its actions when it has any, done.
 */
export function replyChunks(reply: AgentReply, options: { split?: boolean } = {}): AgentReplyChunk[] {
  const chunks: AgentReplyChunk[] = [];
  const ssml = reply.ssml === true;
  const sentences = ssml || options.split !== true ? [reply.say.trim()] : splitSentences(reply.say);
  for (const text of sentences) if (text !== '') chunks.push(ssml ? { type: 'sentence', text, ssml } : { type: 'sentence', text });
  if (reply.actions.length > 0) chunks.push({ type: 'actions', actions: reply.actions });
  chunks.push({ type: 'done' });
  return chunks;
}

/**
 * A finished stream as one reply, for callers of the v1-shaped `turn`. Plain sentences are joined with a
 * space; when any is SSML the reply becomes one <speak> document (plain ones escaped, SSML ones unwrapped).
 */
export function collectReply(chunks: readonly AgentReplyChunk[]): AgentReply {
  const sentences = chunks.filter((c): c is Extract<AgentReplyChunk, { type: 'sentence' }> => c.type === 'sentence');
  const actions: AgentAction[] = chunks.flatMap((c) => (c.type === 'actions' ? c.actions : []));
  if (!sentences.some((s) => s.ssml === true)) return { say: sentences.map((s) => s.text).join(' '), actions };
  const inner = sentences.map((s) => (s.ssml === true ? unwrapSpeak(s.text) : escapeXml(s.text)));
  return { say: `<speak>${inner.join(' ')}</speak>`, ssml: true, actions };
}

function unwrapSpeak(ssml: string): string {
  return /^\s*<speak(?:\s[^>]*)?>([\s\S]*)<\/speak>\s*$/.exec(ssml)?.[1]?.trim() ?? ssml.trim();
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
