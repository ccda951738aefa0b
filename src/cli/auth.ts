// Who is running a CLI command that touches protected data. The CLI talks to the database directly, so the
// token is checked here exactly as the HTTP API checks it: an API token (roles, expiry, revocation) or the
// bootstrap CALLBRIDGE_API_TOKEN as an admin. The token comes from --token or CALLBRIDGE_API_TOKEN (the
// same variable the controller reads); nothing here prints or logs it.
import { can, type Permission, type Principal } from '../core/access.ts';
import { AccessDeniedError, UnauthenticatedError } from '../core/errors.ts';
import { DrizzleTokenStore, type Database } from '../db/index.ts';
import { resolveToken } from '../http/auth.ts';

/**
 * The principal behind `token` if it grants `permission`. Throws UnauthenticatedError (missing, unknown,
 * expired, revoked) or AccessDeniedError (valid, without the permission).
 */
export async function authenticateCliToken(
  database: Database,
  token: string | undefined,
  permission: Permission,
  options: { bootstrapToken?: string | undefined } = {},
): Promise<Principal> {
  if (token === undefined || token === '') throw new UnauthenticatedError('An API token is required: --token or CALLBRIDGE_API_TOKEN');
  const principal = await resolveToken(token, { bootstrapToken: options.bootstrapToken, tokens: new DrizzleTokenStore({ db: database.db }) });
  if (principal === undefined) throw new UnauthenticatedError('The API token is unknown, expired or revoked');
  if (!can(principal.roles, permission)) throw new AccessDeniedError(permission);
  return principal;
}
