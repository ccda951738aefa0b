// Outbound AI calls and the do-not-call list: POST /v1/calls/outbound asks for a call (202 with its schedule,
// 422 when the policy refuses it), GET /v1/calls/outbound/:id shows where it stands, POST / DELETE
// /v1/do-not-call keep the list. Register inside the authenticated /v1 scope. The decisions are the
// OutboundService's (the dialer); this plugin validates, asks, and maps the answer to a status.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { OutboundPurposes, type OutboundPurpose } from '../core/outbound-policy.ts';
import { HttpError } from './http-error.ts';
import { parseInput } from './validation.ts';

export interface OutboundRequestInput {
  to: string;
  purpose: OutboundPurpose;
  context: Record<string, unknown> | null;
  notBefore: Date | null;
  notAfter: Date | null;
  /** The patient's IANA zone; the service's default when absent. */
  timeZone?: string;
}

/** An outbound request as the API shows it (no context: it may be clinical). */
export interface OutboundCallView {
  id: string;
  to: string;
  purpose: string;
  status: string;
  scheduledAt: Date;
  notBefore: Date | null;
  notAfter: Date | null;
  timeZone: string;
  attempts: number;
  callId: string | null;
  result: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type OutboundRequestResult =
  | { kind: 'accepted'; call: OutboundCallView }
  | { kind: 'refused'; id: string; reason: string };

export interface OutboundService {
  request(input: OutboundRequestInput): Promise<OutboundRequestResult>;
  get(id: string): Promise<OutboundCallView | undefined>;
  addDoNotCall(number: string, reason: string | null): Promise<void>;
  /** False when the number was not on the list. */
  removeDoNotCall(number: string): Promise<boolean>;
}

export interface OutboundRoutesOptions {
  outbound: OutboundService;
}

/** Serialized context at most this big: enough for an appointment's details, not a medical record. */
export const MAX_CONTEXT_BYTES = 4096;

const e164 = z.string({ error: 'must be a string' }).regex(/^\+[1-9][0-9]{6,14}$/, { error: 'must be an E.164 number (+ and 7 to 15 digits)' });
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset' }).transform((s) => new Date(s));
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an IANA time zone' },
);
const context = z
  .record(z.string(), z.unknown(), { error: 'must be an object' })
  .refine((c) => Buffer.byteLength(JSON.stringify(c), 'utf8') <= MAX_CONTEXT_BYTES, { error: `must be at most ${MAX_CONTEXT_BYTES} bytes as JSON` });

const outboundBody = z
  .strictObject({
    to: e164,
    purpose: z.enum(OutboundPurposes, { error: `must be one of ${OutboundPurposes.join(', ')}` }),
    context: context.optional(),
    notBefore: instant.optional(),
    notAfter: instant.optional(),
    timeZone: timeZone.optional(),
  })
  .refine((b) => b.notBefore === undefined || b.notAfter === undefined || b.notBefore < b.notAfter, {
    error: 'notBefore must be before notAfter',
    path: ['notAfter'],
  });
const dncBody = z.strictObject({
  number: e164,
  reason: z.string().trim().min(1).max(200, { error: 'is at most 200 characters' }).optional(),
});
const idParams = z.object({ id: z.uuid({ error: 'id must be a UUID' }) });

export const outboundRoutes: FastifyPluginAsync<OutboundRoutesOptions> = async (app, { outbound }) => {
  app.post('/calls/outbound', { config: { permission: 'outbound:write' } }, async (request, reply) => {
    const body = parseInput(outboundBody, request.body ?? {}, { withPaths: true });
    const result = await outbound.request({
      to: body.to,
      purpose: body.purpose,
      context: body.context ?? null,
      notBefore: body.notBefore ?? null,
      notAfter: body.notAfter ?? null,
      ...(body.timeZone === undefined ? {} : { timeZone: body.timeZone }),
    });
    if (result.kind === 'refused') {
      return reply.code(422).send({ error: 'refused', reason: result.reason, id: result.id, message: `outbound call refused: ${result.reason}` });
    }
    return reply.code(202).send({ id: result.call.id, status: result.call.status, scheduledAt: result.call.scheduledAt });
  });

  app.get('/calls/outbound/:id', { config: { permission: 'outbound:read' } }, async (request) => {
    const { id } = parseInput(idParams, request.params);
    const call = await outbound.get(id);
    if (call === undefined) throw new HttpError(404, 'not_found', `outbound call ${id} not found`);
    return call;
  });

  app.post('/do-not-call', { config: { permission: 'outbound:write' } }, async (request, reply) => {
    const body = parseInput(dncBody, request.body ?? {}, { withPaths: true });
    await outbound.addDoNotCall(body.number, body.reason ?? null);
    return reply.code(201).send({ number: body.number, doNotCall: true });
  });

  app.delete('/do-not-call', { config: { permission: 'outbound:write' } }, async (request, reply) => {
    const body = parseInput(dncBody.pick({ number: true }), request.body ?? {}, { withPaths: true });
    if (!(await outbound.removeDoNotCall(body.number))) throw new HttpError(404, 'not_found', 'number is not on the do-not-call list');
    return reply.code(204).send();
  });
};
