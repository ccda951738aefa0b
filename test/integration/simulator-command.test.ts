// `callbridge simulator` as an operator uses it: a scenario file (validated) and commands on stdin.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario, startSimulatorCommand } from '../../src/cli/simulator.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';

describe('callbridge simulator', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-scenario-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function scenarioFile(content: unknown): Promise<string> {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  it('places the calls of a scenario file, with its simulated far ends and time scale', async () => {
    const file = await scenarioFile({
      timeScale: 0.01,
      endpoints: { 'gateway/threecx/101': { kind: 'busy' } },
      calls: [{ from: '+15550100', to: '4000', atMs: 10, callerHangsUpAfterMs: 500 }],
    });
    const started = await startSimulatorCommand({ eslHost: '127.0.0.1', eslPort: 0, password: 'ClueCon', scenario: file });
    try {
      expect(started.eslPort).toBeGreaterThan(0);
      const call = await new Promise<SimulatedCall>((resolve) => started.simulator.once('call', resolve));
      expect(await call.ended).toBe('NORMAL_CLEARING');
      expect(call.applications.map((a) => a.app)).toEqual(['answer', 'park']);
    } finally {
      await started.stop();
    }
  });

  it('rejects a scenario with a clear message naming the bad field', async () => {
    await expect(loadScenario(await scenarioFile('{"calls": [ {"from": "+1555"'))).rejects.toThrow(/not valid JSON/);
    await expect(loadScenario(await scenarioFile({ calls: [{ from: 'alice', to: '4000' }] }))).rejects.toThrow(
      /calls\.0\.from: expected a dialable number/,
    );
    await expect(loadScenario(await scenarioFile({ calls: [], speed: 2 }))).rejects.toThrow(/speed/);
    await expect(loadScenario(await scenarioFile({ endpoints: { x: { kind: 'explode' } } }))).rejects.toThrow(/endpoints\.x/);
  });

  it('runs as a command: prints its port, takes calls on stdin, quits cleanly', async () => {
    const child = spawn(process.execPath, ['bin/callbridge.mjs', 'simulator', '--esl-port', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 300 && !pattern.test(out); i++) await new Promise((r) => setTimeout(r, 20));
      expect(out, out).toMatch(pattern);
    };
    await waitFor(/ESL on 127\.0\.0\.1:\d+/);
    child.stdin.write('call +15551234567 4000 100\n');
    await waitFor(/call [0-9a-f-]+ from \*\*\*4567 to \*\*\*4000/);
    await waitFor(/ended: NORMAL_CLEARING/);
    child.stdin.write('bogus\n');
    await waitFor(/unknown command "bogus"/);
    child.stdin.write('quit\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(out).not.toContain('+15551234567');
  });
});
