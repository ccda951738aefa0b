// `callbridge tokens create|list|revoke` and `callbridge audit verify|list`. Every one needs an API token
// (--token, or CALLBRIDGE_API_TOKEN in the environment: an issued token, or the bootstrap token as an admin):
// tokens:manage for tokens, audit:read for the audit trail.
import { InvalidArgumentError, type Command } from 'commander';
import { parseRoles, Roles, type Role } from '../core/access.ts';
import { createToken, listAudit, listTokens, revokeToken, verifyAudit } from './access.ts';
import type { Config } from '../app/config.ts';
import { tokenOption, wholeNumber } from './options.ts';

function roles(value: string): Role[] {
  const parsed = parseRoles(value);
  if (parsed.ok) return parsed.roles;
  throw new InvalidArgumentError(
    parsed.unknown.length === 0 ? `expected one or more of ${Roles.join(', ')}` : `unknown role(s) ${parsed.unknown.join(', ')}; expected ${Roles.join(', ')}`,
  );
}

/** The same rule as GET /v1/audit's ?action= (src/http/audit.ts). */
function auditAction(value: string): string {
  if (!/^[a-z0-9_.:-]{1,64}$/.test(value)) throw new InvalidArgumentError('action must look like token.create');
  return value;
}

function tokenName(value: string): string {
  if (!/^[\w .@-]{1,64}$/.test(value)) throw new InvalidArgumentError('letters, digits, spaces and . @ - _ only, up to 64');
  return value;
}

export function registerAccessCommands(program: Command, config: () => Config): void {
  const tokens = program.command('tokens').description('API tokens for the HTTP API and the CLI');
  tokens
    .command('create')
    .description('create a token and print its secret (shown once)')
    .requiredOption('--name <name>', 'who or what uses it, e.g. "front desk"', tokenName)
    .requiredOption('--role <roles>', `comma-separated: ${Roles.join(', ')}`, roles)
    .option('--expires-in-days <days>', 'validity in days', wholeNumber('--expires-in-days', 1, 3650), 90)
    .addOption(tokenOption())
    .action(async (options: { name: string; role: Role[]; expiresInDays: number; token?: string }) => {
      process.exitCode = await createToken(config(), { token: options.token, name: options.name, roles: options.role, expiresInDays: options.expiresInDays });
    });
  tokens
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .addOption(tokenOption())
    .action(async (options: { json?: boolean; token?: string }) => {
      process.exitCode = await listTokens(config(), { token: options.token, ...(options.json ? { json: true } : {}) });
    });
  tokens
    .command('revoke')
    .description('revoke a token at once')
    .argument('<id>', 'token id (from tokens list)')
    .addOption(tokenOption())
    .action(async (id: string, options: { token?: string }) => {
      process.exitCode = await revokeToken(config(), { token: options.token, id });
    });

  const audit = program.command('audit').description('the append-only audit trail');
  audit
    .command('verify')
    .description('check the hash chain; exit 1 and the first bad entry if it is broken')
    .addOption(tokenOption())
    .action(async (options: { token?: string }) => {
      process.exitCode = await verifyAudit(config(), { token: options.token });
    });
  audit
    .command('list')
    .description('recent entries, newest first')
    .option('--limit <n>', 'how many', wholeNumber('--limit', 1, 10_000), 50)
    .option('--action <action>', 'only this action, e.g. token.create', auditAction)
    .option('--json', 'print JSON')
    .addOption(tokenOption())
    .action(async (options: { limit: number; action?: string; json?: boolean; token?: string }) => {
      process.exitCode = await listAudit(config(), {
        token: options.token,
        limit: options.limit,
        ...(options.action === undefined ? {} : { action: options.action }),
        ...(options.json ? { json: true } : {}),
      });
    });
}
