// The pure part of streamed replies: framing NDJSON and SSE bodies however the network cuts them, the
// stream's order, sentence splitting, and the conversions between a whole reply and its chunks.
import { describe, expect, it } from 'vitest';
import {
  ChunkOrder,
  collectReply,
  ndjsonFramer,
  parseChunk,
  replyChunks,
  splitSentences,
  sseFramer,
  streamFormatOf,
  type Framer,
} from '../../../src/agent/reply-stream.ts';
import type { AgentReplyChunk } from '../../../src/core/voice-ports.ts';

/** Feeds `body` one character at a time (the worst cutting a network can do), then ends it. */
function byteByByte(framer: Framer, body: string): string[] {
  return [...[...body].flatMap((c) => framer.push(c)), ...framer.end()];
}

describe('NDJSON framing', () => {
  it('yields each line once complete, whatever the pieces, ignoring blank lines and CRs', () => {
    const body = '{"type":"sentence","text":"Hi."}\r\n\n{"type":"done"}\n';
    expect(byteByByte(ndjsonFramer(), body)).toEqual(['{"type":"sentence","text":"Hi."}', '{"type":"done"}']);
    const framer = ndjsonFramer();
    expect(framer.push('{"type":')).toEqual([]);
    expect(framer.push('"done"}\n{"ty')).toEqual(['{"type":"done"}']);
  });

  it('takes a last line without its newline at the end of the body', () => {
    expect(byteByByte(ndjsonFramer(), '{"type":"done"}')).toEqual(['{"type":"done"}']);
  });
});

describe('SSE framing', () => {
  it('joins data lines, skips comments and other fields, and dispatches at the blank line', () => {
    const body = ': keep-alive\n\nevent: chunk\nid: 1\ndata: {"type":\ndata:"done"}\n\ndata: {"type":"done"}\r\n\r\n';
    expect(byteByByte(sseFramer(), body)).toEqual(['{"type":\n"done"}', '{"type":"done"}']);
  });

  it('handles a CRLF cut between its CR and LF as one line end', () => {
    const framer = sseFramer();
    expect(framer.push('data: {"type":"done"}\r')).toEqual([]);
    expect(framer.push('\n\r')).toEqual([]);
    expect(framer.push('\n')).toEqual(['{"type":"done"}']);
  });

  it('drops an event the body ends before its blank line (as browsers do)', () => {
    expect(byteByByte(sseFramer(), 'data: {"type":"sentence","text":"Hi."}\n\ndata: {"type":"done"}\n')).toEqual([
      '{"type":"sentence","text":"Hi."}',
    ]);
  });
});

describe('stream checks', () => {
  it('knows the two content types, with or without parameters', () => {
    expect(streamFormatOf('application/x-ndjson')).toBe('ndjson');
    expect(streamFormatOf('text/event-stream; charset=utf-8')).toBe('sse');
    expect(streamFormatOf('application/json')).toBeUndefined();
    expect(streamFormatOf(null)).toBeUndefined();
  });

  it('names the problem of a chunk without quoting what it would have said', () => {
    expect(parseChunk('{"type":"sentence","text":"Hi."}')).toEqual({ chunk: { type: 'sentence', text: 'Hi.' } });
    expect(parseChunk('not json')).toEqual({ problem: 'chunk is not JSON' });
    const bad = parseChunk('{"type":"sentence","text":"My number is 7045550123","ssml":"yes"}');
    expect('problem' in bad && bad.problem).toMatch(/ssml/);
    expect(JSON.stringify(bad)).not.toContain('7045550123');
  });

  it('accepts sentences, then one actions chunk, then done, and nothing after', () => {
    const s: AgentReplyChunk = { type: 'sentence', text: 'Hi.' };
    const a: AgentReplyChunk = { type: 'actions', actions: [] };
    const d: AgentReplyChunk = { type: 'done' };
    const run = (chunks: AgentReplyChunk[]): (string | undefined)[] => {
      const order = new ChunkOrder();
      return chunks.map((c) => order.accept(c));
    };
    expect(run([s, s, a, d])).toEqual([undefined, undefined, undefined, undefined]);
    expect(run([d])).toEqual([undefined]);
    expect(run([s, a, s])[2]).toBe('sentence after actions');
    expect(run([a, a])[1]).toBe('a second actions chunk');
    expect(run([s, d, s])[2]).toBe('sentence after done');
  });
});

describe('splitSentences', () => {
  it('cuts at sentence ends followed by a new sentence, keeping the punctuation', () => {
    expect(splitSentences('Thank you for calling. How can I help you today? You can say book!')).toEqual([
      'Thank you for calling.',
      'How can I help you today?',
      'You can say book!',
    ]);
    expect(splitSentences('Hola. ¿En qué puedo ayudarle? ¡Gracias!')).toEqual(['Hola.', '¿En qué puedo ayudarle?', '¡Gracias!']);
  });

  it('keeps abbreviations, titles, times and decimals inside their sentence', () => {
    expect(splitSentences('You will see Dr. Patel at 3 p.m. on Friday. The copay is 12.50 dollars.')).toEqual([
      'You will see Dr. Patel at 3 p.m. on Friday.',
      'The copay is 12.50 dollars.',
    ]);
    expect(splitSentences('La Dra. López le atiende. Gracias.')).toEqual(['La Dra. López le atiende.', 'Gracias.']);
  });

  it('returns nothing for blank text and one piece for text without an end', () => {
    expect(splitSentences('  ')).toEqual([]);
    expect(splitSentences('one moment')).toEqual(['one moment']);
  });
});

describe('replies and chunks', () => {
  const transfer = { type: 'transfer', target: 'billing', reason: 'billing', summary: 'Billing.' } as const;

  it('turns a whole reply into one sentence, or sentence by sentence, then actions and done', () => {
    const reply = { say: 'Sure. Connecting you now.', actions: [transfer] };
    expect(replyChunks(reply)).toEqual([{ type: 'sentence', text: 'Sure. Connecting you now.' }, { type: 'actions', actions: [transfer] }, { type: 'done' }]);
    expect(replyChunks(reply, { split: true }).map((c) => (c.type === 'sentence' ? c.text : c.type))).toEqual([
      'Sure.',
      'Connecting you now.',
      'actions',
      'done',
    ]);
    expect(replyChunks({ say: '', actions: [] })).toEqual([{ type: 'done' }]);
  });

  it('keeps an SSML reply whole even when asked to split', () => {
    const ssml = '<speak>Sure. <break time="300ms"/> Connecting you.</speak>';
    expect(replyChunks({ say: ssml, ssml: true, actions: [] }, { split: true })).toEqual([{ type: 'sentence', text: ssml, ssml: true }, { type: 'done' }]);
  });

  it('joins a stream back into the reply it came from', () => {
    const reply = { say: 'Sure. Connecting you now.', actions: [transfer] };
    expect(collectReply(replyChunks(reply, { split: true }))).toEqual(reply);
  });

  it('joins SSML and plain sentences into one SSML document, the plain text escaped', () => {
    const joined = collectReply([
      { type: 'sentence', text: 'Tom & Jerry <3.' },
      { type: 'sentence', text: '<speak version="1.1">Call <say-as interpret-as="digits">0</say-as>.</speak>', ssml: true },
      { type: 'done' },
    ]);
    expect(joined).toEqual({
      say: '<speak>Tom &#38; Jerry &#60;3. Call <say-as interpret-as="digits">0</say-as>.</speak>',
      ssml: true,
      actions: [],
    });
  });
});
