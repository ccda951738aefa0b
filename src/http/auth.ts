// Authentication and permissions for the /v1 API. Every /v1 route says what it needs in its route config:
//   { config: { permission: 'calls:read' } }         a token whose roles grant the permission
//   { config: { auth: 'token' } }                    any valid token (GET /v1/me)
//   { config: { auth: 'signature' } }                the route checks a signature itself (webhooks)
//   { config: { permission: …, queryToken: true } }  the token may also come as ?access_token= (SSE/WebSocket:
//                                                    browsers cannot set headers there)
// A /v1 route that declares nothing is refused: forgetting is a 403, never an open door. The hook runs for
// the whole /v1 namespace wherever a route is registered. 401 for no/unknown/expired/revoked tokens, 403 for
// a valid token without the permission; the bodies say nothing more, and no token is ever logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { BOOTSTRAP_PRINCIPAL, can, isIssuedTokenShape, permissionsOf, type Permission, type Principal } from '../core/access.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission;
    auth?: 'token' | 'signature';
    queryToken?: boolean;
  }
  interface FastifyRequest {
    /** Who is asking; set on /v1 routes once authenticated (undefined on signature-authenticated routes). */
    principal: Principal | undefined;
  }
}

/** Looks a secret up among the API tokens (src/db's DrizzleTokenStore, wired by the app). */
export interface TokenAuthenticator {
  /** Undefined for unknown, expired or revoked tokens; rejects only when the lookup itself failed. */
  authenticate(secret: string): Promise<Principal | undefined>;
}

export interface AccessControlOptions {
  /** CALLBRIDGE_API_TOKEN: acts as an admin. */
  bootstrapToken: string | undefined;
  tokens?: TokenAuthenticator;
}

// Neither a bootstrap token nor a token store: a process serving /v1 without credentials (tests, a worker with
// nothing configured; config refuses it in production). It acts as an admin, still bound by the route table.
const OPEN_PRINCIPAL: Principal = Object.freeze({ id: 'open', name: 'open-access', roles: Object.freeze(['admin'] as const), kind: 'bootstrap' });

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function tokenMatches(offered: string, expected: string): boolean {
  return timingSafeEqual(digest(offered), digest(expected));
}

/**
 * Who `offered` is: the bootstrap admin when it matches CALLBRIDGE_API_TOKEN, else whatever the token store
 * says. An issued token (`cbt_…`) is only ever judged by the store: the CLI takes the operator's own token
 * from CALLBRIDGE_API_TOKEN, the same variable that holds the bootstrap token, so a staff member's token there
 * (even a revoked one) must not pass for the bootstrap admin.
 */
export async function resolveToken(offered: string, options: AccessControlOptions): Promise<Principal | undefined> {
  const bootstrap = isIssuedTokenShape(offered) ? undefined : options.bootstrapToken;
  if (bootstrap !== undefined && tokenMatches(offered, bootstrap)) return BOOTSTRAP_PRINCIPAL;
  return options.tokens?.authenticate(offered);
}

/** Extracts the token from `Authorization: Bearer <token>` (scheme case-insensitive per RFC 7235). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

export function isV1Path(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === '/v1' || path.startsWith('/v1/');
}

/** Adds the access check to every /v1 request of `app` (call on the root instance, before the routes). */
export function installAccessControl(app: FastifyInstance, options: AccessControlOptions): void {
  app.decorateRequest('principal', undefined);
  const open = options.bootstrapToken === undefined && options.tokens === undefined;
  if (open) app.log.warn('no API token configured: /v1 is open to anyone who can reach it');

  const identify = async (request: FastifyRequest, allowQuery: boolean): Promise<Principal | 'none' | 'invalid'> => {
    if (open) return OPEN_PRINCIPAL;
    const query = request.query as Record<string, unknown> | undefined;
    const fromQuery = allowQuery && typeof query?.access_token === 'string' ? query.access_token : undefined;
    const offered = bearerToken(request.headers.authorization) ?? fromQuery;
    if (offered === undefined) return 'none';
    return (await resolveToken(offered, options)) ?? 'invalid';
  };

  app.addHook('onRequest', async (request, reply) => {
    if (!isV1Path(request.url)) return;
    const config = request.routeOptions.config;
    if (!request.is404 && config.auth === 'signature') return;
    // Unknown /v1 paths answer 401 before 404, so the API's shape is not probed without a token.
    const identity = await identify(request, !request.is404 && config.queryToken === true);
    if (identity === 'none' || identity === 'invalid') {
      request.log.warn({ route: request.routeOptions.url ?? '(unmatched)', tokenPresent: identity === 'invalid' }, 'API request refused: not authenticated');
      return unauthorized(reply, identity === 'invalid');
    }
    request.principal = identity;
    if (request.is404 || config.auth === 'token') return;
    if (config.permission === undefined) {
      request.log.error({ route: request.routeOptions.url }, 'route declares no permission: refused (add config.permission)');
      return forbidden(reply);
    }
    if (!can(identity.roles, config.permission)) {
      request.log.warn({ route: request.routeOptions.url, principal: identity.id, permission: config.permission }, 'API request refused: permission missing');
      return forbidden(reply);
    }
  });
}

async function unauthorized(reply: FastifyReply, tokenWasOffered: boolean): Promise<FastifyReply> {
  return reply
    .code(401)
    .header('www-authenticate', tokenWasOffered ? 'Bearer realm="callbridge", error="invalid_token"' : 'Bearer realm="callbridge"')
    .send({ error: 'unauthorized', message: 'A valid bearer token is required' });
}

async function forbidden(reply: FastifyReply): Promise<FastifyReply> {
  return reply.code(403).send({ error: 'forbidden', message: 'Not allowed' });
}

/** GET /v1/me: who the token is and what it may do (for the dashboard to show or hide its controls). */
export const meRoutes: FastifyPluginAsync = async (app) => {
  app.get('/me', { config: { auth: 'token' } }, async (request) => {
    const principal = request.principal as Principal;
    return { name: principal.name, kind: principal.kind, roles: principal.roles, permissions: permissionsOf(principal.roles) };
  });
};
