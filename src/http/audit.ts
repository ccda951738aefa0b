// The audit trail over HTTP: reading it (GET /v1/audit, newest first, paged), checking its hash chain
// (GET /v1/audit/verify), and writing an entry for every mutating /v1 request once answered: who, which
// route (the pattern, never the URL: no ids or query values), and the status, refusals included.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AuditEntry, AuditVerification } from '../core/audit.ts';
import { isV1Path } from './auth.ts';
import { parseInput } from './validation.ts';

/** What the HTTP layer needs from the audit trail (src/app's AuditTrail). */
export interface AuditApi {
  list(query: { limit: number; since?: Date; action?: string; beforeSeq?: number }): Promise<AuditEntry[]>;
  verify(): Promise<AuditVerification>;
  /** Never throws into the request: a failed append is the trail's to report. */
  recordInBackground(entry: { actor: string; action: string; targetType: string; targetId?: string | null; details?: Record<string, unknown> }): void;
}

const MAX_PAGE = 500;

const listQuery = z.strictObject(
  {
    limit: z.string().regex(/^\d+$/, { error: `limit must be an integer between 1 and ${MAX_PAGE}` }).transform(Number)
      .refine((n) => n >= 1 && n <= MAX_PAGE, { error: `limit must be an integer between 1 and ${MAX_PAGE}` }).default(100),
    before: z.string().regex(/^\d{1,15}$/, { error: 'before must be an entry seq' }).transform(Number).optional(),
    since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 date-time' }).transform((s) => new Date(s)).optional(),
    action: z.string().regex(/^[a-z0-9_.:-]{1,64}$/, { error: 'action must look like token.create' }).optional(),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown query parameter(s): ${issue.keys.join(', ')}` : undefined) },
);

export const auditRoutes: FastifyPluginAsync<{ audit: AuditApi }> = async (app, { audit }) => {
  app.get('/audit', { config: { permission: 'audit:read' } }, async (request) => {
    const query = parseInput(listQuery, request.query);
    const entries = await audit.list({
      limit: query.limit,
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.action === undefined ? {} : { action: query.action }),
      ...(query.before === undefined ? {} : { beforeSeq: query.before }),
    });
    // A full page may have more behind it: pass `before` to get the next one.
    const last = entries.at(-1);
    return { entries, nextBefore: entries.length === query.limit && last !== undefined ? last.seq : null };
  });

  app.get('/audit/verify', { config: { permission: 'audit:read' } }, async () => audit.verify());
};

const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Audits every answered mutating /v1 request a token made to a known route, refused or not (call on the root
 * instance). Requests without a valid token are left out: anyone who can reach the port could otherwise fill
 * the chain (they are logged and answered 401); so are signed webhooks, which 3CX and Twilio send several
 * times per call and which are kept in their own tables.
 */
export function auditRequests(app: FastifyInstance, audit: AuditApi): void {
  app.addHook('onResponse', async (request, reply) => {
    const principal = request.principal;
    if (principal === undefined || !isV1Path(request.url) || request.is404 || READ_ONLY_METHODS.has(request.method)) return;
    const route = request.routeOptions.url ?? '(unmatched)';
    audit.recordInBackground({
      actor: principal.name,
      action: 'http.request',
      targetType: 'http',
      targetId: `${request.method} ${route}`,
      details: { method: request.method, route, status: reply.statusCode, principalId: principal.id, principalKind: principal.kind },
    });
  });
}
