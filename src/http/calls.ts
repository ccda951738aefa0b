// The call history API for the dashboard: list (newest first, paged, by state) and one call with its events.
// Numbers are returned as stored: the API is authenticated. They are never logged (see server.ts).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CallStates } from '../core/call.ts';
import type { CallStore } from '../core/ports.ts';
import { HttpError } from './http-error.ts';
import { parseInput } from './validation.ts';

export const MAX_PAGE_SIZE = 200;
const DEFAULT_PAGE_SIZE = 50;

const integerParam = (name: string, min: number, max: number) =>
  z
    .string({ error: `${name} must be given once, as an integer` })
    .regex(/^\d+$/, { error: `${name} must be an integer between ${min} and ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { error: `${name} must be an integer between ${min} and ${max}` });

const listQuery = z.strictObject(
  {
    limit: integerParam('limit', 1, MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
    offset: integerParam('offset', 0, 1_000_000).default(0),
    state: z.enum(CallStates, { error: `state must be one of ${CallStates.join(', ')}` }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown query parameter(s): ${issue.keys.join(', ')}` : undefined) },
);

const idParams = z.object({ id: z.uuid({ error: 'id must be a UUID' }) });


export const callsRoutes: FastifyPluginAsync<{ callStore: CallStore }> = async (app, { callStore }) => {
  app.get('/calls', { config: { permission: 'calls:read' } }, async (request) => {
    const query = parseInput(listQuery, request.query);
    const calls = await callStore.listCalls(query);
    return { calls, limit: query.limit, offset: query.offset };
  });

  app.get('/calls/:id', { config: { permission: 'calls:read' } }, async (request) => {
    const { id } = parseInput(idParams, request.params);
    const call = await callStore.getCall(id);
    if (call === undefined) throw new HttpError(404, 'not_found', `call ${id} not found`);
    return call;
  });
};
