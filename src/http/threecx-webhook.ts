// POST /v1/webhooks/3cx: call events from the 3CX side (CALL_STARTED, CALL_ENDED, CALL_TRANSFERRED,
// EMERGENCY_ALERT). Authenticated by signature, not by token:
//   X-3CX-Timestamp: <unix seconds>
//   X-3CX-Signature: sha256=<hex HMAC-SHA256(THREECX_WEBHOOK_SECRET, `${timestamp}.${raw body}`)>
// The HMAC covers the exact bytes received, so the body is kept raw (a content-type parser scoped to this
// route) and parsed only once the signature holds. 401: bad or missing signature, or a timestamp more than
// five minutes off (a captured request replayed later); 400: not JSON or not the schema (the reason, never
// the values); 200 {duplicate: true}: this event id was already taken; 202: stored, with our call if found.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { HttpError } from './http-error.ts';
import { parseInput } from './validation.ts';

export const THREECX_EVENT_TYPES = ['CALL_STARTED', 'CALL_ENDED', 'CALL_TRANSFERRED', 'EMERGENCY_ALERT'] as const;

const threecxEvent = z.object({
  eventId: z.string({ error: 'eventId is required' }).min(1, { error: 'eventId must not be empty' }).max(200, { error: 'eventId is too long' }),
  type: z.enum(THREECX_EVENT_TYPES, { error: `type must be one of ${THREECX_EVENT_TYPES.join(', ')}` }),
  occurredAt: z.iso.datetime({ offset: true, error: 'occurredAt must be an ISO 8601 date-time' }).transform((s) => new Date(s)),
  sipCallId: z.string({ error: 'sipCallId must be a string' }).min(1).max(500, { error: 'sipCallId is too long' }).optional(),
  from: z.string({ error: 'from must be a string' }).max(64, { error: 'from is too long' }).optional(),
  to: z.string({ error: 'to must be a string' }).max(64, { error: 'to is too long' }).optional(),
  extension: z.string({ error: 'extension must be a string' }).max(32, { error: 'extension is too long' }).optional(),
});

export type ThreecxCallEvent = z.infer<typeof threecxEvent>;

export type ThreecxReceipt = { duplicate: true } | { duplicate: false; callId: string | null; correlation: string };

export interface ThreecxWebhookOptions {
  /** Undefined: every request is refused (503), nothing unsigned is ever taken. */
  secret: string | undefined;
  /** Correlates, stores and publishes the event. */
  receive(event: ThreecxCallEvent): Promise<ThreecxReceipt>;
  /** Unix milliseconds (tests). */
  now?: () => number;
}

const THREECX_WEBHOOK_PATH = '/webhooks/3cx';
const TOLERANCE_SECONDS = 300;

/** Register inside the /v1 scope (the route's `auth: 'signature'` exempts it from tokens). */
export const threecxWebhookRoutes: FastifyPluginAsync<ThreecxWebhookOptions> = async (app, options) => {
  const now = options.now ?? Date.now;
  // Only this plugin's routes see the raw bytes; everything else keeps Fastify's JSON parser.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(THREECX_WEBHOOK_PATH, { config: { auth: 'signature' } }, async (request, reply) => {
    const secret = options.secret;
    if (secret === undefined) {
      return reply.code(503).send({ error: 'not_configured', message: 'THREECX_WEBHOOK_SECRET is not set' });
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const timestamp = header(request.headers['x-3cx-timestamp']);
    const signature = header(request.headers['x-3cx-signature']);
    if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || signature === undefined) {
      return unauthorized(reply, 'X-3CX-Timestamp and X-3CX-Signature are required');
    }
    if (!signatureMatches(secret, timestamp, raw, signature)) return unauthorized(reply, 'invalid signature');
    if (Math.abs(now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) {
      return unauthorized(reply, 'timestamp outside the accepted window');
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      // The parser's message quotes the body: the reason is given without it.
      throw new HttpError(400, 'bad_request', 'body is not valid JSON');
    }
    const event = parseInput(threecxEvent, json, { withPaths: true });
    const receipt = await options.receive(event);
    if (receipt.duplicate) return reply.code(200).send({ duplicate: true });
    return reply.code(202).send({ callId: receipt.callId, correlation: receipt.correlation });
  });
};

function header(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value.trim() : undefined;
}

function signatureMatches(secret: string, timestamp: string, raw: Buffer, signature: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(signature);
  if (match === null) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(raw).digest();
  return timingSafeEqual(Buffer.from(match[1] as string, 'hex'), expected);
}

async function unauthorized(reply: FastifyReply, message: string): Promise<FastifyReply> {
  return reply.code(401).send({ error: 'unauthorized', message });
}
