// The published contract must be the one the client enforces: the JSON Schemas in the document are compared
// with those generated from src/agent/contract.ts, and the document's example reply must validate.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { agentReplySchema, contractJsonSchemas, conversationTurnSchema } from '../../../src/agent/contract.ts';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/ai-engine-contract.md', import.meta.url)), 'utf8');

function documentedSchemas(): Record<string, unknown> {
  const section = doc.slice(doc.indexOf('## JSON Schemas'));
  const out: Record<string, unknown> = {};
  for (const match of section.matchAll(/^### (\w+)\n\n```json\n([\s\S]*?)\n```/gm)) {
    out[match[1] ?? ''] = JSON.parse(match[2] ?? '');
  }
  return out;
}

describe('docs/ai-engine-contract.md', () => {
  it('publishes exactly the schemas the client validates with', () => {
    expect(documentedSchemas()).toEqual(contractJsonSchemas());
  });

  it('has an example turn and reply that the schemas accept', () => {
    const bodies = [...doc.matchAll(/```http\n[\s\S]*?\n\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1] ?? '') as unknown);
    expect(bodies).toHaveLength(2);
    expect(conversationTurnSchema.safeParse(bodies[0]).success).toBe(true);
    expect(agentReplySchema.safeParse(bodies[1]).success).toBe(true);
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
});
