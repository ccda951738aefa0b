// The AI engine's wire contract (docs/ai-engine-contract.md) as zod schemas. The shapes are exactly the
// ports in src/core/voice-ports.ts; the type checks at the bottom fail to compile if the two drift apart.
// Replies are parsed with these schemas: a reply that does not match is a failed request, never acted on.
// Version 2 adds streamed turn replies (a chunk per sentence) and what the caller heard of an interrupted
// reply; everything of version 1 stays valid under its own prefix.
import { z } from 'zod';
import type {
  AgentAction,
  AgentReply,
  AgentReplyChunk,
  ConversationStart,
  ConversationTurn,
  InterruptedReply,
} from '../core/voice-ports.ts';

/** Path prefixes of the contract versions; a breaking change gets a new prefix, never a changed meaning. */
export const CONTRACT_VERSIONS = ['v1', 'v2'] as const;
export type ContractVersion = (typeof CONTRACT_VERSIONS)[number];

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

/** What the caller heard of the reply they spoke over (v2): bounded like the replies it comes from. */
export const interruptedReplySchema = z.strictObject({
  played: z.array(text(2000)).max(64),
  cut: z.strictObject({ text: text(2000), playedMs: z.number().int().min(0).max(600_000) }).nullable(),
  unplayed: z.number().int().min(0).max(1000),
});

/** A v2 turn: the v1 fields and, after a barge-in, what of the previous reply the caller heard. */
export const conversationTurnV2Schema = conversationTurnSchema.extend({ interrupted: interruptedReplySchema.optional() });

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

/**
 * One line (NDJSON) or event (SSE) of a streamed v2 turn reply. The order (sentences, at most one actions,
 * done) is a rule of the stream, checked as it arrives (src/agent/reply-stream.ts), not of a single chunk.
 */
export const agentReplyChunkSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('sentence'), text: z.string().min(1).max(2000), ssml: z.boolean().optional() }),
  z.strictObject({ type: z.literal('actions'), actions: z.array(agentActionSchema).max(8) }),
  z.strictObject({ type: z.literal('done') }),
]);

/** The JSON Schemas published in docs/ai-engine-contract.md (a unit test keeps the document in step). */
export function contractJsonSchemas(): Record<string, unknown> {
  return {
    ConversationStart: z.toJSONSchema(conversationStartSchema),
    ConversationTurn: z.toJSONSchema(conversationTurnSchema),
    ConversationEnd: z.toJSONSchema(conversationEndSchema),
    AgentReply: z.toJSONSchema(agentReplySchema),
    ConversationTurnV2: z.toJSONSchema(conversationTurnV2Schema),
    AgentReplyChunk: z.toJSONSchema(agentReplyChunkSchema),
  };
}

// Compile-time proof that the wire shapes and the ports are the same types, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const proofs: [
  Same<z.infer<typeof conversationStartSchema>, ConversationStart>,
  Same<z.infer<typeof conversationTurnSchema>, ConversationTurn>,
  Same<z.infer<typeof agentActionSchema>, AgentAction>,
  Same<z.infer<typeof agentReplySchema>, AgentReply>,
  Same<z.infer<typeof interruptedReplySchema>, InterruptedReply>,
  Same<z.infer<typeof conversationTurnV2Schema>, ConversationTurn>,
  Same<z.infer<typeof agentReplyChunkSchema>, AgentReplyChunk>,
] = [true, true, true, true, true, true, true];
void proofs;
