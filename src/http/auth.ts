// Bearer-token authentication for the /v1 API. Tokens are compared in constant time (on their SHA-256
// digests, so a length difference leaks nothing either), and neither the expected nor the offered token is
// ever logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestAsyncHookHandler } from 'fastify';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

export function tokenMatches(offered: string, expected: string): boolean {
  return timingSafeEqual(digest(offered), digest(expected));
}

/** Extracts the token from `Authorization: Bearer <token>` (scheme case-insensitive per RFC 7235). */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/** An onRequest hook for the scope it is added to; `undefined` token leaves the scope open. */
export function bearerAuth(expectedToken: string | undefined): onRequestAsyncHookHandler {
  return async (request, reply) => {
    if (expectedToken === undefined) return;
    const offered = bearerToken(request.headers.authorization);
    if (offered !== undefined && tokenMatches(offered, expectedToken)) return;
    request.log.warn({ route: request.routeOptions.url, tokenPresent: offered !== undefined }, 'API request refused');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="callbridge"')
      .send({ error: 'unauthorized', message: 'A valid bearer token is required' });
  };
}
