// `callbridge freeswitch check` as an operator runs it: the real CLI process against the FreeSWITCH simulator
// (which answers module_exists, local_stream show, sofia status, global_getvar and `originate null/…
// &playback(…)` as FreeSWITCH 1.10 does), with the controller's real outbound-socket listener as the socket
// target. Every failure mode is a simulator option: the row it breaks fails and the exit code is 1.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboundSocketServer } from '../../src/esl/index.ts';
import { FreeSwitchSimulator, type SimulatorOptions } from '../../src/simulator/simulator.ts';
import { SHIPPED_MODULES } from '../../src/simulator/switch-state.ts';
import type { FreeswitchCheckReport } from '../../src/app/freeswitch-check.ts';
import { runCli, type CliResult } from '../support/cli.ts';

const ALL_CHECKS = [
  'esl',
  'module:mod_sofia',
  'module:mod_audio_fork',
  'module:mod_local_stream',
  'module:mod_flite',
  'local_stream:moh',
  'sofia_profile:threecx',
  'gateway:threecx',
  'gateway:twilio',
  'socket_target',
  'dir:tts_cache',
  'dir:recordings',
];

let dir: string;
let listener: OutboundSocketServer;
let listenerPort: number;
let sim: FreeSwitchSimulator | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callbridge-fscheck-'));
  // The controller's outbound-socket listener, where the simulated dialplan's `socket` connects.
  listener = new OutboundSocketServer({ connectTimeoutMs: 500 });
  listenerPort = (await listener.listen({ host: '127.0.0.1', port: 0 })).port;
});

afterEach(async () => {
  await sim?.stop();
  sim = undefined;
  await listener.close();
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  result: CliResult;
  /** Parsed stdout when run with --json. */
  report?: FreeswitchCheckReport;
}

/** Starts a simulator (FreeSWITCH sharing this machine's files, dialling our listener) and runs the check. */
async function check(options: { sim?: Partial<SimulatorOptions>; env?: Record<string, string>; json?: boolean; before?: (s: FreeSwitchSimulator) => void } = {}): Promise<Run> {
  sim = new FreeSwitchSimulator({
    password: 'ClueCon',
    heartbeatMs: 0,
    timeScale: 0.05,
    socketTarget: { host: '127.0.0.1', port: listenerPort },
    fileRoot: '/',
    ...options.sim,
  });
  const { eslPort } = await sim.start();
  options.before?.(sim);
  const env = {
    FREESWITCH_ESL_HOST: '127.0.0.1',
    FREESWITCH_ESL_PORT: String(eslPort),
    FREESWITCH_ESL_PASSWORD: 'ClueCon',
    CONTROLLER_SOCKET_PORT: String(listenerPort),
    TTS_CACHE_DIR: join(dir, 'tts-cache'),
    RECORDINGS_DIR: join(dir, 'recordings'),
    ESL_COMMAND_TIMEOUT_MS: '3000',
    ...options.env,
  };
  const result = await runCli(['freeswitch', 'check', ...(options.json === true ? ['--json'] : [])], env);
  return { result, report: options.json === true ? (JSON.parse(result.stdout) as FreeswitchCheckReport) : undefined };
}

/** The rows that did not pass, as id → status. */
function notPassed(report: FreeswitchCheckReport | undefined): Record<string, string> {
  return Object.fromEntries((report?.checks ?? []).filter((c) => c.status !== 'pass').map((c) => [c.id, c.status]));
}

function row(report: FreeswitchCheckReport | undefined, id: string) {
  const found = report?.checks.find((c) => c.id === id);
  expect(found, `row ${id}`).toBeDefined();
  return found!;
}

// Each case starts the CLI as its own process (tsx compiles it first): allow for a slow, busy machine.
describe('callbridge freeswitch check', { timeout: 60_000 }, () => {
  it('passes every check against a FreeSWITCH set up as freeswitch/ ships it: exit 0 and a table', async () => {
    const { result } = await check();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^FreeSWITCH at 127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/^RESULT +CHECK +DETAIL$/m);
    expect(out).toMatch(/^PASS +event socket +authenticated at 127\.0\.0\.1:\d+ \(FreeSWITCH Version 1\.10\.12-release~64bit \( 64bit\)\)$/m);
    for (const module of ['mod_sofia', 'mod_audio_fork', 'mod_local_stream', 'mod_flite']) expect(out).toMatch(new RegExp(`^PASS +${module} +loaded$`, 'm'));
    expect(out).toMatch(/^PASS +hold music moh +plays \/etc\/callbridge\/freeswitch\/music\/moh$/m);
    expect(out).toMatch(/^PASS +SIP profile threecx +RUNNING at sip:mod_sofia@127\.0\.0\.1:5080$/m);
    expect(out).toMatch(/^PASS +gateway threecx +UP, NOREG, OPTIONS ping every 30 s$/m);
    expect(out).toMatch(/^PASS +gateway twilio +UP, NOREG$/m);
    expect(out).toMatch(new RegExp(`^PASS +socket target +FreeSWITCH dials 127\\.0\\.0\\.1:${listenerPort}, the controller's listener`, 'm'));
    expect(out).toMatch(/^PASS +TTS cache dir +FreeSWITCH played .*\/tts-cache\/callbridge-check-[0-9a-f]+\.wav/m);
    expect(out).toMatch(/^PASS +recordings dir +FreeSWITCH played .*\/recordings\/callbridge-check-[0-9a-f]+\.wav/m);
    expect(out).not.toMatch(/^FAIL/m);
    expect(out).toMatch(/^12 passed, 0 failed$/m);
    // The test files are gone again.
    expect(await readdir(join(dir, 'tts-cache'))).toEqual([]);
    expect(await readdir(join(dir, 'recordings'))).toEqual([]);
  });

  it('prints JSON with --json: ok, the FreeSWITCH address and one {id, name, status, detail} per check', async () => {
    const { result, report } = await check({ json: true });
    expect(result.code).toBe(0);
    expect(report?.ok).toBe(true);
    expect(report?.freeswitch).toEqual({ host: '127.0.0.1', port: sim?.eslPort });
    expect(report?.checks.map((c) => c.id)).toEqual(ALL_CHECKS);
    for (const c of report?.checks ?? []) {
      expect(Object.keys(c).sort()).toEqual(['detail', 'id', 'name', 'status']);
      expect(c.status).toBe('pass');
      expect(c.detail).not.toBe('');
    }
  });

  it.each(['mod_audio_fork', 'mod_flite'])('fails the %s row when FreeSWITCH has not loaded it', async (module) => {
    const { result, report } = await check({ json: true, sim: { modules: SHIPPED_MODULES.filter((m) => m !== module) } });
    expect(result.code).toBe(1);
    expect(report?.ok).toBe(false);
    expect(notPassed(report)).toEqual({ [`module:${module}`]: 'fail' });
    expect(row(report, `module:${module}`).detail).toMatch(/^not loaded: /);
  });

  it('fails the hold music row when local_stream.conf.xml has no moh stream', async () => {
    const { result, report } = await check({ json: true, sim: { localStreams: [{ name: 'jazz', location: '/srv/music/jazz' }] } });
    expect(result.code).toBe(1);
    expect(notPassed(report)).toEqual({ 'local_stream:moh': 'fail' });
    expect(row(report, 'local_stream:moh').detail).toContain('no stream named moh');
  });

  it('fails the module and the hold music rows when mod_local_stream did not load (no stream at all)', async () => {
    const { result, report } = await check({ json: true, sim: { localStreams: [] } });
    expect(result.code).toBe(1);
    expect(notPassed(report)).toEqual({ 'module:mod_local_stream': 'fail', 'local_stream:moh': 'fail' });
    expect(row(report, 'local_stream:moh').detail).toContain('mod_local_stream is not loaded');
  });

  it('fails a gateway that is DOWN (OPTIONS pings unanswered) and one FreeSWITCH does not have', async () => {
    const { result, report } = await check({ json: true, sim: { gateways: ['threecx'] }, before: (s) => s.setGateway('threecx', { up: false }) });
    expect(result.code).toBe(1);
    expect(notPassed(report)).toEqual({ 'gateway:threecx': 'fail', 'gateway:twilio': 'fail' });
    expect(row(report, 'gateway:threecx').detail).toBe('DOWN, NOREG, OPTIONS ping every 30 s: calls through it fail at once with GATEWAY_DOWN (its OPTIONS pings go unanswered)');
    expect(row(report, 'gateway:twilio').detail).toContain('FreeSWITCH has no gateway twilio (TWILIO_GATEWAY');
  });

  it('names a wrong ESL password (never its value), skips the rest and exits 1', async () => {
    const { result } = await check({ env: { FREESWITCH_ESL_PASSWORD: 'NotThePassword' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL +event socket +FreeSWITCH refused the event socket password \(FREESWITCH_ESL_PASSWORD\)$/m);
    expect(result.stdout).toMatch(/^SKIP +mod_audio_fork +not checked: no event socket connection$/m);
    expect(result.stdout).toMatch(/^0 passed, 1 failed, 11 not checked$/m);
    expect(result.stdout + result.stderr).not.toContain('NotThePassword');
  });

  it('fails both shared directories when FreeSWITCH mounts them elsewhere (it cannot find the file written here)', async () => {
    const elsewhere = join(dir, 'freeswitch-view');
    const { result, report } = await check({ json: true, sim: { fileRoot: elsewhere } });
    expect(result.code).toBe(1);
    expect(notPassed(report)).toEqual({ 'dir:tts_cache': 'fail', 'dir:recordings': 'fail' });
    expect(row(report, 'dir:tts_cache').detail).toMatch(/^FreeSWITCH cannot find .*callbridge-check-[0-9a-f]+\.wav, written here: TTS_CACHE_DIR=.* is another directory on its side/);
    expect(row(report, 'dir:recordings').detail).toContain('RECORDINGS_DIR=');
    expect(await readdir(join(dir, 'tts-cache'))).toEqual([]);
  });

  it('fails the socket target when FreeSWITCH dials another port than the controller listens on', async () => {
    const port = listenerPort === 65000 ? 65001 : 65000;
    const { result, report } = await check({ json: true, env: { CONTROLLER_SOCKET_PORT: String(port) } });
    expect(result.code).toBe(1);
    expect(notPassed(report)).toEqual({ socket_target: 'fail' });
    expect(row(report, 'socket_target').detail).toMatch(new RegExp(`^FreeSWITCH dials 127\\.0\\.0\\.1:${listenerPort} but the controller is 127\\.0\\.0\\.1:${port} `));
  });

  it('fails the socket target when nothing listens where FreeSWITCH dials (the controller is not running)', async () => {
    await listener.close();
    const { result, report } = await check({ json: true });
    expect(result.code).toBe(1);
    expect(notPassed(report)).toEqual({ socket_target: 'fail' });
    expect(row(report, 'socket_target').detail).toContain('nothing accepts connections there from here (ECONNREFUSED): is the controller running?');
  });
});
