// `callbridge start` as operators run it: a separate process against a FreeSWITCH (the simulator here),
// taking a call, serving it over the API, and shutting down cleanly on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/app/free-port.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { eventually, TEST_ROUTING_FILE } from '../support/controller-harness.ts';
import { runCli } from '../support/cli.ts';

const TOKEN = 'start-token-0123456789';

describe('callbridge start', () => {
  let dir: string;
  let simulator: FreeSwitchSimulator;
  let controller: ChildProcess | undefined;
  let output = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callbridge-start-'));
  });
  afterAll(async () => {
    controller?.kill('SIGKILL');
    await simulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes calls from FreeSWITCH, serves them over the API, and exits cleanly on SIGTERM', async () => {
    const [eslPort, socketPort, httpPort] = [await freePort(), await freePort(), await freePort()];
    simulator = new FreeSwitchSimulator({
      eslPort,
      password: 'start-secret',
      socketTarget: { host: '127.0.0.1', port: socketPort },
      timeScale: 0.05,
    });
    await simulator.start();
    controller = spawn(process.execPath, ['bin/callbridge.mjs', 'start'], {
      env: {
        PATH: process.env.PATH ?? '',
        FREESWITCH_ESL_PORT: String(eslPort),
        FREESWITCH_ESL_PASSWORD: 'start-secret',
        CONTROLLER_SOCKET_PORT: String(socketPort),
        HTTP_PORT: String(httpPort),
        CALLBRIDGE_API_TOKEN: TOKEN,
        PGLITE_DATA_DIR: join(dir, 'pglite'),
        RECORDINGS_DIR: join(dir, 'recordings'),
        ROUTING_FILE: TEST_ROUTING_FILE,
        // The test file's line and SMS numbers are its own; its extension is the shipped placeholder's, so
        // production wants it set on purpose.
        EMERGENCY_MANAGER_EXTENSION: '110',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    controller.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    controller.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const ready = async () => {
      try {
        return (await fetch(`http://127.0.0.1:${httpPort}/ready`)).status === 200;
      } catch {
        return false;
      }
    };
    await eventually(ready, 'the controller to be ready', 20_000);

    const caller = simulator.placeCall({ from: '+15551234567', to: '+15559870100', callerHangsUpAfterMs: 3000 });
    expect(await caller.ended).toBe('NORMAL_CLEARING');
    const listed = async () => {
      const response = await fetch(`http://127.0.0.1:${httpPort}/v1/calls`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await response.json()) as { calls: { fsUuid: string; state: string }[] };
      return body.calls.some((c) => c.fsUuid === caller.uuid && c.state === 'ended');
    };
    await eventually(listed, 'the call listed as ended', 10_000);

    const exited = new Promise<number | null>((resolve) => controller!.once('exit', (code) => resolve(code)));
    controller.kill('SIGTERM');
    expect(await exited).toBe(0);
    controller = undefined;
    expect(output).toContain('shutting down');
    // JSON logs in production, and no caller number in clear anywhere in them.
    expect(output).toMatch(/^\{"level":/m);
    expect(output).not.toContain('5551234567');
    // It said at start who an emergency reaches, masked, and from where.
    expect(output).toMatch(/emergency targets in force: emergency line \*\*\*0911 \(routing\.yaml emergency\.target\.number\)/);
    expect(output).not.toContain('5550000911');
  });

  it('refuses to start on the shipped routing.yaml\'s placeholder emergency numbers, naming the variables', async () => {
    // As an operator who filled in the secrets but not EMERGENCY_*: ROUTING_FILE unset, the shipped file.
    const env = { FREESWITCH_ESL_PORT: String(await freePort()), FREESWITCH_ESL_PASSWORD: 'start-secret', CALLBRIDGE_API_TOKEN: TOKEN, PGLITE_DATA_DIR: join(dir, 'pglite-refused') };
    const refused = await runCli(['start'], env);
    expect(refused.code).toBe(2);
    for (const name of ['EMERGENCY_TRANSFER_NUMBER', 'EMERGENCY_MANAGER_EXTENSION', 'EMERGENCY_NOTIFICATION_SMS']) expect(refused.stderr).toContain(name);
    expect(refused.stderr).toContain('placeholder');
    // Loud in the log too: what would have been in force, masked.
    expect(refused.stdout).toMatch(/"level":40.*emergency targets in force: emergency line \*\*\*0911/);
    expect(refused.stdout + refused.stderr).not.toMatch(/5550911|5550170|5550171/);

    // With the real contacts in the environment it gets past the check (and on to connecting to FreeSWITCH).
    const started = spawn(process.execPath, ['bin/callbridge.mjs', 'start'], {
      env: { PATH: process.env.PATH ?? '', ...env, HTTP_PORT: String(await freePort()), CONTROLLER_SOCKET_PORT: String(await freePort()),
        EMERGENCY_TRANSFER_NUMBER: '+19195551234', EMERGENCY_MANAGER_EXTENSION: '204', EMERGENCY_NOTIFICATION_SMS: '+19195554321' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    started.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    try {
      await eventually(async () => log.includes('callbridge controller started'), 'the controller to start', 20_000);
      expect(log).toMatch(/"level":30.*emergency targets in force: emergency line \*\*\*1234 \(EMERGENCY_TRANSFER_NUMBER\)/);
    } finally {
      const exited = new Promise((resolve) => started.once('exit', resolve));
      started.kill('SIGTERM');
      await exited;
    }
  }, 60_000);
});
