// `callbridge tokens …` and `callbridge audit …` as an operator runs them: separate processes on one scratch
// Postgres database, real exit codes and output.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/index.ts';
import { runCli } from '../support/cli.ts';
import { createScratchPostgres, type ScratchPostgres } from './db-fixture.ts';

const BOOTSTRAP = 'bootstrap-token-0123456789abcdef';

describe('callbridge tokens and audit', () => {
  let scratch: ScratchPostgres;
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { DATABASE_URL: scratch.url, CALLBRIDGE_API_TOKEN: BOOTSTRAP, ...env });

  beforeAll(async () => {
    scratch = await createScratchPostgres();
  });
  afterAll(async () => {
    await scratch.drop();
  });

  it('manages tokens with the right token only, shows a secret once, and audits who did it', async () => {
    const refused = await run(['tokens', 'list'], { CALLBRIDGE_API_TOKEN: '' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('An API token is required: --token or CALLBRIDGE_API_TOKEN');

    // CALLBRIDGE_API_TOKEN alone (the installation's bootstrap token, as in the controller's .env) is the admin.
    const ops = await run(['tokens', 'create', '--name', 'ops', '--role', 'admin']);
    expect(ops.code).toBe(0);
    const opsSecret = ops.stdout.trim();
    expect(opsSecret).toMatch(/^cbt_[A-Za-z0-9_-]{43}$/);
    expect(ops.stderr).toContain('shown once');

    // The new admin token works on its own, from CALLBRIDGE_API_TOKEN (the one name the controller and the CLI
    // read), and creates the others. The audit trail below shows it acted as itself, not as the bootstrap admin.
    const asOps = { CALLBRIDGE_API_TOKEN: opsSecret };
    const agent = await run(['tokens', 'create', '--name', 'front desk', '--role', 'agent', '--expires-in-days', '30'], asOps);
    expect(agent.code).toBe(0);
    const agentSecret = agent.stdout.trim();
    const [auditor, badRole] = await Promise.all([
      run(['tokens', 'create', '--name', 'auditor', '--role', 'auditor'], asOps),
      run(['tokens', 'create', '--name', 'x', '--role', 'agent,root'], asOps),
    ]);
    const auditorSecret = auditor.stdout.trim();
    expect(badRole.code).not.toBe(0);
    expect(badRole.stderr).toContain('unknown role(s) root');

    const [listed, denied, deniedFromEnv] = await Promise.all([
      run(['tokens', 'list'], asOps),
      run(['tokens', 'list', '--token', agentSecret]),
      // An agent's token in CALLBRIDGE_API_TOKEN is that agent, never the bootstrap admin the same variable names.
      run(['tokens', 'list'], { CALLBRIDGE_API_TOKEN: agentSecret }),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('does not grant tokens:manage');
    expect(deniedFromEnv.code).toBe(1);
    expect(deniedFromEnv.stderr).toContain('does not grant tokens:manage');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/front desk\s+agent\s+active/);
    for (const secret of [opsSecret, agentSecret, auditorSecret]) expect(listed.stdout + listed.stderr).not.toContain(secret);
    const agentId = /^(\S+)\s+front desk/m.exec(listed.stdout)?.[1];
    expect(agentId).toBeDefined();

    expect((await run(['tokens', 'revoke', agentId!], asOps)).code).toBe(0);
    // Revoking it again changes nothing and is not audited twice (the trail below has one token.revoke).
    const [afterRevoke, revokedFromEnv, again, badAction] = await Promise.all([
      run(['audit', 'list', '--token', agentSecret]),
      run(['audit', 'list'], { CALLBRIDGE_API_TOKEN: agentSecret }),
      run(['tokens', 'revoke', agentId!], asOps),
      run(['audit', 'list', '--action', 'Token Create'], asOps),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already revoked');
    expect(badAction.code).not.toBe(0);
    expect(badAction.stderr).toContain('action must look like token.create');
    expect(afterRevoke.code).toBe(1);
    expect(afterRevoke.stderr).toContain('unknown, expired or revoked');
    expect(revokedFromEnv.code).toBe(1);
    expect(revokedFromEnv.stderr).toContain('unknown, expired or revoked');

    const audit = await run(['audit', 'list', '--json'], { CALLBRIDGE_API_TOKEN: auditorSecret });
    expect(audit.code).toBe(0);
    const entries = JSON.parse(audit.stdout) as { seq: number; actor: string; action: string; targetId: string }[];
    expect(entries.map((e) => [e.seq, e.actor, e.action])).toEqual([
      [4, 'ops', 'token.revoke'],
      [3, 'ops', 'token.create'],
      [2, 'ops', 'token.create'],
      [1, 'bootstrap', 'token.create'],
    ]);
    expect(entries[0]?.targetId).toBe(agentId);
    expect(audit.stdout).not.toContain(opsSecret);
  }, 120_000);

  it('refuses the CLI\'s former CALLBRIDGE_TOKEN with its new name instead of silently ignoring it', async () => {
    const oldName = await run(['tokens', 'list'], { CALLBRIDGE_TOKEN: BOOTSTRAP });
    expect(oldName.code).toBe(2);
    expect(oldName.stderr).toContain('CALLBRIDGE_TOKEN: renamed to CALLBRIDGE_API_TOKEN');
    expect(oldName.stdout + oldName.stderr).not.toContain(BOOTSTRAP);
  }, 60_000);

  it('audit verify: exit 0 while intact, exit 1 naming the first bad entry once someone edits one', async () => {
    const intact = await run(['audit', 'verify', '--token', BOOTSTRAP]);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^audit log intact: 4 entries, newest #4 [0-9a-f]{64}$/m);

    const database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
    try {
      await database.db.execute(sql`alter table audit_log disable trigger audit_log_no_update_or_delete`);
      await database.db.execute(sql`update audit_log set actor = 'nobody' where seq = 2`);
    } finally {
      await database.close();
    }
    const broken = await run(['audit', 'verify', '--token', BOOTSTRAP]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('first bad entry #2 (altered)');
  }, 60_000);
});
