// The routing API for admins and the dashboard: what routing is live (version, hash, when loaded, the last
// rejected edit with its errors) and a dry run of a call through it, with the same input as
// `callbridge routes test`. Behind the bearer token: rejected edits can quote numbers from the file.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { CallFacts, RoutingDecision } from '../core/routing/types.ts';
import { parseInput } from './validation.ts';

export interface RoutingStatusView {
  file: string;
  version: number;
  hash: string;
  loadedAt: Date;
  lastError: { at: Date; errors: string[] } | null;
}

/** What the HTTP layer needs from routing (the app implements it). */
export interface RoutingApi {
  status(): RoutingStatusView;
  test(facts: CallFacts): { decision: RoutingDecision; explanation: string };
}

const phone = z.string().regex(/^\+?[0-9*#]{0,20}$/, { error: 'expected a phone number or extension (digits, optional +)' });
const testBody = z.strictObject({
  to: phone.min(1, { error: 'to is required' }),
  from: phone,
  at: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time with an offset, e.g. 2026-12-24T17:45:00-05:00' }),
  digits: z.string().regex(/^[0-9*#]{1,20}$/, { error: 'expected DTMF digits 0-9 * #' }).optional(),
  mode: z.enum(['normal', 'ai-down', '3cx-down']).default('normal'),
});

export const routingRoutes: FastifyPluginAsync<{ routing: RoutingApi }> = async (app, { routing }) => {
  app.get('/routing', { config: { permission: 'routing:read' } }, async () => routing.status());

  // A dry run changes nothing: reading routing is enough.
  app.post('/routing/test', { config: { permission: 'routing:read' } }, async (request) => {
    const body = parseInput(testBody, request.body ?? {}, { withPaths: true });
    const facts: CallFacts = {
      to: body.to,
      from: body.from,
      at: new Date(body.at),
      mode: body.mode,
      ...(body.digits === undefined ? {} : { digits: body.digits }),
    };
    return routing.test(facts);
  });
};
