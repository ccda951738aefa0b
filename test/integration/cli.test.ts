// The `callbridge` command as an operator runs it: a separate process, real exit codes and output.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/callbridge.mjs', ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('callbridge CLI', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'callbridge-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start without its required settings, naming each one, with exit code 2 and no stack trace', async () => {
    const result = await run(['start'], { HTTP_PORT: '99999' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FREESWITCH_ESL_PASSWORD');
    expect(result.stderr).toContain('CALLBRIDGE_API_TOKEN');
    expect(result.stderr).toMatch(/HTTP_PORT: expected an integer port 1–65535/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('migrates, lists and shows calls on an embedded database', async () => {
    const env = { PGLITE_DATA_DIR: join(dataDir, 'pglite') };
    const migrated = await run(['db', 'migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('migrations applied (pglite)');

    const listed = await run(['calls', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim()).toBe('no calls');

    const missing = await run(['calls', 'show', '00000000-0000-4000-8000-000000000000'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no call with id');
  });

  it('rejects a bad option value with a clear message', async () => {
    const result = await run(['calls', 'list', '--state', 'sideways'], { PGLITE_DATA_DIR: join(dataDir, 'pglite') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected one of ringing, answered');
  });
});
