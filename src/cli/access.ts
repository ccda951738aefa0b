// `callbridge tokens …` and `callbridge audit …`: API tokens and the audit trail from a shell, on the
// database alone. Each run authenticates its own token first (tokens:manage, audit:read); creating and
// revoking tokens is audited with the operator's token name as the actor.
import type { Permission, Principal, Role } from '../core/access.ts';
import { DrizzleTokenStore, type ApiTokenInfo, type AuditEntry } from '../db/index.ts';
import type { AuditTrail } from '../app/audit.ts';
import { textTable } from './format.ts';
import { withCliSession } from './session.ts';
import { systemClock } from '../app/clock.ts';
import type { Config } from '../app/config.ts';

const DAY_MS = 86_400_000;

interface Session {
  principal: Principal;
  tokens: DrizzleTokenStore;
  audit: AuditTrail;
}

const io = { out: (text: string) => process.stdout.write(text), err: (text: string) => process.stderr.write(text) };

function withSession<T>(config: Config, token: string | undefined, permission: Permission, run: (session: Session) => Promise<T>): Promise<T> {
  return withCliSession(config, token, permission, ({ principal, database, audit }) => run({ principal, tokens: new DrizzleTokenStore({ db: database.db }), audit }));
}

export async function createToken(
  config: Config,
  options: { token: string | undefined; name: string; roles: Role[]; expiresInDays: number },
): Promise<number> {
  return withSession(config, options.token, 'tokens:manage', async ({ principal, tokens, audit }) => {
    const expiresAt = new Date(systemClock.now().getTime() + options.expiresInDays * DAY_MS);
    const { token, secret } = await tokens.create({ name: options.name, roles: options.roles, expiresAt });
    try {
      await audit.record({ actor: principal.name, action: 'token.create', targetType: 'api_token', targetId: token.id, details: { name: token.name, roles: token.roles, expiresAt } });
    } catch (error) {
      // A token nobody can account for must not work.
      await tokens.revoke(token.id);
      throw error;
    }
    io.out(`${secret}\n`);
    io.err(`token ${token.id} "${token.name}" (${token.roles.join(',')}) expires ${token.expiresAt.toISOString()}\nthe secret above is shown once: store it now\n`);
    return 0;
  });
}

export async function listTokens(config: Config, options: { token: string | undefined; json?: boolean }): Promise<number> {
  return withSession(config, options.token, 'tokens:manage', async ({ tokens }) => {
    const list = await tokens.list();
    if (options.json) io.out(`${JSON.stringify(list, null, 2)}\n`);
    else io.out(list.length === 0 ? 'no tokens\n' : `${formatTokens(list, systemClock.now())}\n`);
    return 0;
  });
}

export async function revokeToken(config: Config, options: { token: string | undefined; id: string }): Promise<number> {
  return withSession(config, options.token, 'tokens:manage', async ({ principal, tokens, audit }) => {
    const existing = await tokens.get(options.id);
    if (existing === undefined) {
      io.err(`no token with id ${options.id}\n`);
      return 1;
    }
    if (existing.revokedAt !== null) {
      io.err(`token ${existing.id} "${existing.name}" already revoked at ${existing.revokedAt.toISOString()}\n`);
      return 1;
    }
    const revoked = await tokens.revoke(options.id);
    if (revoked === undefined) {
      io.err(`no token with id ${options.id}\n`);
      return 1;
    }
    await audit.record({ actor: principal.name, action: 'token.revoke', targetType: 'api_token', targetId: revoked.id, details: { name: revoked.name } });
    io.out(`token ${revoked.id} "${revoked.name}" revoked at ${revoked.revokedAt?.toISOString()}\n`);
    return 0;
  });
}

/** Exit 0 when the chain is intact, 1 when it is broken (naming the first bad entry). */
export async function verifyAudit(config: Config, options: { token: string | undefined }): Promise<number> {
  return withSession(config, options.token, 'audit:read', async ({ audit }) => {
    const result = await audit.verify();
    if (result.ok) {
      io.out(result.head ? `audit log intact: ${result.checked} ${result.checked === 1 ? 'entry' : 'entries'}, newest #${result.head.seq} ${result.head.hash}\n` : 'audit log intact: no entries yet\n');
      return 0;
    }
    io.out(`audit log BROKEN: first bad entry #${result.firstBadSeq} (${result.problem}): ${result.message}\n`);
    return 1;
  });
}

export async function listAudit(config: Config, options: { token: string | undefined; limit: number; action?: string; json?: boolean }): Promise<number> {
  return withSession(config, options.token, 'audit:read', async ({ audit }) => {
    const entries = await audit.list({ limit: options.limit, ...(options.action === undefined ? {} : { action: options.action }) });
    if (options.json) io.out(`${JSON.stringify(entries, null, 2)}\n`);
    else io.out(entries.length === 0 ? 'no audit entries\n' : `${formatAudit(entries)}\n`);
    return 0;
  });
}

function formatTokens(list: readonly ApiTokenInfo[], now: Date): string {
  const status = (t: ApiTokenInfo) => (t.revokedAt !== null ? 'revoked' : t.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active');
  return textTable(
    ['id', 'name', 'roles', 'status', 'expires', 'last used'],
    list.map((t) => [t.id, t.name, t.roles.join(','), status(t), t.expiresAt.toISOString(), t.lastUsedAt?.toISOString() ?? '-']),
  );
}

/** Newest first. Details stay in --json: they can be long, and a table is for scanning. */
function formatAudit(entries: readonly AuditEntry[]): string {
  return textTable(
    ['seq', 'at', 'actor', 'action', 'target', 'reason'],
    entries.map((e) => [String(e.seq), e.at.toISOString(), e.actor, e.action, `${e.targetType}${e.targetId === null ? '' : ` ${e.targetId}`}`, e.reason ?? '']),
  );
}
