// `callbridge tokens create|list|revoke` and `callbridge audit verify|list`. Every one needs an API token
// (--token, or CALLBRIDGE_TOKEN in the environment; the bootstrap CALLBRIDGE_API_TOKEN works as an admin):
// tokens:manage for tokens, audit:read for the audit trail.
import { Option, InvalidArgumentError, type Command } from 'commander';
import { parseRoles, Roles, type Role } from '../core/access.ts';
import { createToken, listAudit, listTokens, revokeToken, verifyAudit } from '../app/access-admin.ts';
import type { Config } from '../app/config.ts';

/** --token, falling back to CALLBRIDGE_TOKEN (commander reads it, so the secret need not be on the command line). */
function tokenOption(): Option {
  return new Option('--token <token>', 'API token (default: CALLBRIDGE_TOKEN)').env('CALLBRIDGE_TOKEN');
}

function roles(value: string): Role[] {
  const parsed = parseRoles(value);
  if (parsed.ok) return parsed.roles;
  throw new InvalidArgumentError(
    parsed.unknown.length === 0 ? `expected one or more of ${Roles.join(', ')}` : `unknown role(s) ${parsed.unknown.join(', ')}; expected ${Roles.join(', ')}`,
  );
}

function intInRange(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
    return Number(value);
  };
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
    .option('--expires-in-days <days>', 'validity in days', intInRange('--expires-in-days', 1, 3650), 90)
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
    .option('--limit <n>', 'how many', intInRange('--limit', 1, 10_000), 50)
    .option('--action <action>', 'only this action, e.g. token.create')
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
