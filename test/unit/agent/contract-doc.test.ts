// The published contract must be the one the client enforces: the JSON Schemas in the document are compared
// with those generated from src/agent/contract.ts, and the document's example requests and replies (v1 whole,
// v2 streamed as NDJSON and as SSE) must validate and frame as the client reads them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  agentReplyChunkSchema,
  agentReplySchema,
  contractJsonSchemas,
  conversationTurnSchema,
  conversationTurnV2Schema,
} from '../../../src/agent/contract.ts';
import { framerFor, parseChunk, streamFormatOf } from '../../../src/agent/reply-stream.ts';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/ai-engine-contract.md', import.meta.url)), 'utf8');

function documentedSchemas(): Record<string, unknown> {
  const section = doc.slice(doc.indexOf('## JSON Schemas'));
  const out: Record<string, unknown> = {};
  for (const match of section.matchAll(/^### (\w+)\n\n```json\n([\s\S]*?)\n```/gm)) {
    out[match[1] ?? ''] = JSON.parse(match[2] ?? '');
  }
  return out;
}

/** The ```http examples: their header lines and their body. */
const examples = [...doc.matchAll(/```http\n([\s\S]*?)\n\n([\s\S]*?)\n```/g)].map((m) => ({ head: m[1] ?? '', body: m[2] ?? '' }));

describe('docs/ai-engine-contract.md', () => {
  it('publishes exactly the schemas the client validates with, v1 and v2', () => {
    const documented = documentedSchemas();
    expect(Object.keys(documented)).toEqual(expect.arrayContaining(['ConversationTurnV2', 'AgentReplyChunk']));
    expect(documented).toEqual(contractJsonSchemas());
  });

  it('has a v1 example turn and reply that the schemas accept', () => {
    const [request, reply] = examples;
    expect(request?.head).toMatch(/^POST \/v1\//);
    expect(conversationTurnSchema.safeParse(JSON.parse(request?.body ?? '')).success).toBe(true);
    expect(agentReplySchema.safeParse(JSON.parse(reply?.body ?? '')).success).toBe(true);
  });

  it('has a v2 example turn with what the caller heard, which v1 would refuse', () => {
    const request = examples[2];
    expect(request?.head).toMatch(/^POST \/v2\/conversations\/\w+\/turns/);
    expect(request?.head).toContain('Accept: application/x-ndjson, text/event-stream');
    const body: unknown = JSON.parse(request?.body ?? '');
    expect(conversationTurnV2Schema.safeParse(body).success).toBe(true);
    expect(conversationTurnSchema.safeParse(body).success).toBe(false);
  });

  it('shows the same v2 reply as NDJSON and as SSE, each framing to valid chunks in order', () => {
    const streams = examples.slice(3);
    expect(streams).toHaveLength(2);
    const read = ({ head, body }: { head: string; body: string }) => {
      const format = streamFormatOf(/^Content-Type: (.+)$/m.exec(head)?.[1] ?? null);
      expect(format).toBeDefined();
      const framer = framerFor(format ?? 'ndjson');
      // Fed in two pieces cut mid-line, as a network delivers them.
      const cut = Math.floor(body.length / 2);
      const payloads = [...framer.push(body.slice(0, cut)), ...framer.push(`${body.slice(cut)}\n\n`), ...framer.end()];
      return { format, parsed: payloads.map((p) => parseChunk(p)) };
    };
    const [ndjson, sse] = streams.map(read);
    expect([ndjson?.format, sse?.format]).toEqual(['ndjson', 'sse']);
    expect(ndjson?.parsed).toEqual(sse?.parsed);
    expect(ndjson?.parsed.map((p) => ('chunk' in p ? p.chunk.type : p.problem))).toEqual(['sentence', 'sentence', 'actions', 'done']);
  });

  it('rejects replies the contract does not allow', () => {
    const bad = [
      { say: 'hi' },
      { say: 'hi', actions: [{ type: 'dance' }] },
      { say: 'hi', actions: [{ type: 'transfer', target: 'billing', reason: 'x' }] },
      { say: 'hi', actions: [{ type: 'send_sms', to: '7045550123', template: 't', values: {} }] },
      { say: 'hi', actions: [], extra: true },
    ];
    for (const reply of bad) expect(agentReplySchema.safeParse(reply).success).toBe(false);
  });

  it('rejects stream chunks the contract does not allow', () => {
    const bad = [
      { type: 'sentence', text: '' },
      { type: 'sentence', text: 'x'.repeat(2001) },
      { type: 'sentence', text: 'Hello.', extra: true },
      { type: 'actions', actions: [{ type: 'dance' }] },
      { type: 'say', text: 'Hello.' },
      { type: 'done', actions: [] },
    ];
    for (const chunk of bad) expect(agentReplyChunkSchema.safeParse(chunk).success, JSON.stringify(chunk).slice(0, 60)).toBe(false);
  });
});
