// The AI engine's wire contract (docs/ai-engine-contract.md) as zod schemas. The shapes are exactly the
// ports in src/core/voice-ports.ts; the type checks at the bottom fail to compile if the two drift apart.
// Replies are parsed with these schemas: a reply that does not match is a failed request, never acted on.
import { z } from 'zod';
import type { AgentAction, AgentReply, ConversationStart, ConversationTurn } from '../core/voice-ports.ts';

/** Path prefix of this contract version; a breaking change gets a new prefix, never a changed meaning. */
export const CONTRACT_VERSION = 'v1';

const text = (max: number) => z.string().max(max);

export const conversationStartSchema = z.strictObject({
  callId: z.string().min(1).max(128),
  caller: z.string().max(32),
  did: z.string().max(32),
  location: z.string().max(64).nullable(),
  language: z.string().min(2).max(35),
  routing: z.strictObject({ rule: text(200), reason: text(500), messageOnly: z.boolean() }),
});

export const conversationTurnSchema = z.strictObject({
  text: text(4000),
  confidence: z.number().min(0).max(1),
  partial: z.boolean(),
  dtmf: z.string().regex(/^[0-9*#A-D]{1,32}$/).optional(),
});

export const conversationEndSchema = z.strictObject({ reason: text(200) });

export const agentActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('transfer'), target: z.string().min(1).max(64), reason: text(200), summary: text(1000) }),
  z.strictObject({ type: z.literal('emergency'), reason: text(200) }),
  z.strictObject({ type: z.literal('hangup') }),
  z.strictObject({
    type: z.literal('send_sms'),
    to: z.string().regex(/^\+[1-9][0-9]{6,14}$/),
    template: z.string().min(1).max(64),
    values: z.record(z.string(), text(500)),
  }),
  z.strictObject({
    type: z.literal('collect_digits'),
    max: z.number().int().min(1).max(32),
    timeoutMs: z.number().int().min(500).max(60_000),
  }),
  z.strictObject({ type: z.literal('end_conversation') }),
]);

export const agentReplySchema = z.strictObject({
  say: text(2000),
  ssml: z.boolean().optional(),
  actions: z.array(agentActionSchema).max(8),
});

/** The JSON Schemas published in docs/ai-engine-contract.md (a unit test keeps the document in step). */
export function contractJsonSchemas(): Record<string, unknown> {
  return {
    ConversationStart: z.toJSONSchema(conversationStartSchema),
    ConversationTurn: z.toJSONSchema(conversationTurnSchema),
    ConversationEnd: z.toJSONSchema(conversationEndSchema),
    AgentReply: z.toJSONSchema(agentReplySchema),
  };
}

// Compile-time proof that the wire shapes and the ports are the same types, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const proofs: [
  Same<z.infer<typeof conversationStartSchema>, ConversationStart>,
  Same<z.infer<typeof conversationTurnSchema>, ConversationTurn>,
  Same<z.infer<typeof agentActionSchema>, AgentAction>,
  Same<z.infer<typeof agentReplySchema>, AgentReply>,
] = [true, true, true, true];
void proofs;
