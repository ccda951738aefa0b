// The `callbridge` command as an operator runs it: a separate process, real exit codes and output.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';

describe('callbridge CLI', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'callbridge-cli-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses to start without its required settings, naming each one, with exit code 2 and no stack trace', async () => {
    const result = await runCli(['start'], { HTTP_PORT: '99999' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('FREESWITCH_ESL_PASSWORD');
    expect(result.stderr).toContain('CALLBRIDGE_API_TOKEN');
    expect(result.stderr).toMatch(/HTTP_PORT: expected an integer port 1–65535/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('migrates, lists and shows calls on an embedded database', async () => {
    const env = { PGLITE_DATA_DIR: join(dataDir, 'pglite') };
    const migrated = await runCli(['db', 'migrate'], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain('migrations applied (pglite)');

    const listed = await runCli(['calls', 'list'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.trim()).toBe('no calls');

    const missing = await runCli(['calls', 'show', '00000000-0000-4000-8000-000000000000'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no call with id');
  });

  it('rejects a bad option value with a clear message', async () => {
    const result = await runCli(['calls', 'list', '--state', 'sideways'], { PGLITE_DATA_DIR: join(dataDir, 'pglite') });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('expected one of ringing, answered');
    const retry = await runCli(['jobs', 'retry']);
    expect(retry.code).not.toBe(0);
    expect(retry.stderr).toContain('give a job id or --all-failed');
  });

  it('checks routing files: exit 0 for the shipped example, exit 1 with every problem as file:line:col', async () => {
    const ok = await runCli(['routes', 'check']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/dialplan\/routing\.yaml: valid \(sha256 [0-9a-f]{12}\)/);

    const file = join(dataDir, 'broken.yaml');
    await writeFile(file, 'version: 1\npractice: X\nring_groupz: {}\n');
    const bad = await runCli(['routes', 'check', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file}:3:1: `);
    expect(bad.stderr).toMatch(/ring_groupz/);
    expect(bad.stderr).toMatch(/\d+ problems in /);
  });

  it('routes a hypothetical call as JSON and explains it in prose, without the caller number in clear', async () => {
    const args = ['--to', '+17045550100', '--from', '+19195550123', '--at', '2026-12-24T17:45:00-05:00'];
    const tested = await runCli(['routes', 'test', ...args]);
    expect(tested.code).toBe(0);
    const decision = JSON.parse(tested.stdout) as { target: { kind: string }; rule: string; location: string };
    expect(decision).toMatchObject({ target: { kind: 'ai_agent' }, location: 'charlotte', rule: 'locations.charlotte.holidays[1]' });

    const explained = await runCli(['routes', 'explain', ...args]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain('Christmas Eve');
    expect(explained.stdout).not.toContain('+19195550123');

    const badTime = await runCli(['routes', 'test', '--to', '+17045550100', '--from', '+19195550123', '--at', 'tomorrow']);
    expect(badTime.code).not.toBe(0);
    expect(badTime.stderr).toContain('expected an ISO 8601 date-time with an offset');
  });
});

