// The API commands `callbridge freeswitch check` sends, answered by the simulator as FreeSWITCH 1.10 writes
// them. None is in the captures, so the expected bodies come from the 1.10 sources: mod_commands'
// module_exists ("true"/"false", no newline) and global_getvar (the bare value, empty when unset), mod_sofia's
// cmd_status summary, and mod_loopback's null endpoint, which answers at once and plays a file like any channel.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InboundEslClient, replyText, type EslConnection, type EslEvent } from '../../src/esl/index.ts';
import { FreeSwitchSimulator, type SimulatorOptions } from '../../src/simulator/simulator.ts';
import { SHIPPED_MODULES } from '../../src/simulator/switch-state.ts';
import { wavHeader } from '../../src/voice/tts/index.ts';

let sim: FreeSwitchSimulator | undefined;
let esl: InboundEslClient | undefined;
let dir: string | undefined;
afterEach(async () => {
  await esl?.stop();
  await sim?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  esl = undefined;
  sim = undefined;
  dir = undefined;
});

async function connect(options: Partial<SimulatorOptions> = {}): Promise<{ connection: EslConnection; events: EslEvent[] }> {
  sim = new FreeSwitchSimulator({ password: 'ClueCon', heartbeatMs: 0, timeScale: 0.05, socketTarget: { host: '127.0.0.1', port: 8084 }, ...options });
  const { eslPort } = await sim.start();
  esl = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password: 'ClueCon', events: ['CHANNEL_EXECUTE_COMPLETE', 'PLAYBACK_START'] });
  await esl.start();
  const connection = await esl.waitConnected({ timeoutMs: 5_000 });
  const events: EslEvent[] = [];
  connection.on('event', (e) => events.push(e));
  return { connection, events };
}

/** The api/response body exactly as sent (the client's api() would turn -ERR into an exception). */
async function body(connection: EslConnection, command: string): Promise<string> {
  return replyText(await connection.command(`api ${command}`));
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

describe('simulator: the operator check commands', () => {
  it('module_exists answers true or false without a newline, from the loaded modules', async () => {
    const { connection } = await connect({ modules: SHIPPED_MODULES.filter((m) => m !== 'mod_audio_fork') });
    expect(await body(connection, 'module_exists mod_sofia')).toBe('true');
    expect(await body(connection, 'module_exists mod_audio_fork')).toBe('false');
    expect(await body(connection, 'module_exists')).toBe('');
    // Without the module its API command does not exist.
    expect(await body(connection, 'uuid_audio_fork 00000000-0000-4000-8000-000000000000 stop')).toBe('-ERR uuid_audio_fork Command not found!\n');
  });

  it('global_getvar gives the bare value of the vars.xml globals, empty for an unset one', async () => {
    const { connection } = await connect({ globals: { callbridge_tts_cache_dir: '/data/tts-cache' } });
    expect(await body(connection, 'global_getvar controller_host')).toBe('127.0.0.1');
    expect(await body(connection, 'global_getvar controller_port')).toBe('8084');
    expect(await body(connection, 'global_getvar callbridge_tts_cache_dir')).toBe('/data/tts-cache');
    expect(await body(connection, 'global_getvar nope')).toBe('');
  });

  it('sofia status lists the running profile and its gateways as cmd_status prints them', async () => {
    const { connection } = await connect();
    const rule = '='.repeat(97);
    expect(await body(connection, 'sofia status')).toBe(
      '                     Name\t   Type\t                                      Data\tState\n' +
        `${rule}\n` +
        '                  threecx\tprofile\t              sip:mod_sofia@127.0.0.1:5080\tRUNNING (0)\n' +
        '         threecx::threecx\tgateway\t                 sip:callbridge@192.0.2.10\tNOREG\n' +
        '          threecx::twilio\tgateway\t    sip:callbridge@example.pstn.twilio.com\tNOREG\n' +
        `${rule}\n1 profile 0 aliases\n`,
    );
  });

  it('originate null/… &playback(file) plays a file FreeSWITCH can see, and fails FILE NOT FOUND for one it cannot', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-null-'));
    const file = join(dir, 'check.wav');
    await writeFile(file, Buffer.concat([wavHeader({ encoding: 'LINEAR16', sampleRate: 8000, dataBytes: 1600 }), Buffer.alloc(1600)]));
    const { connection, events } = await connect({ fileRoot: '/' });
    const played = async (path: string, uuid: string): Promise<EslEvent> => {
      const reply = await body(connection, `originate {origination_uuid=${uuid}}null/check &playback(${path})`);
      expect(reply).toBe(`+OK ${uuid}\n`);
      await until(() => events.some((e) => e.uniqueId === uuid && e.name === 'CHANNEL_EXECUTE_COMPLETE'));
      return events.find((e) => e.uniqueId === uuid && e.name === 'CHANNEL_EXECUTE_COMPLETE')!;
    };
    const ok = await played(file, '11111111-1111-4111-8111-111111111111');
    expect(ok.headers.get('Application')).toBe('playback');
    expect(ok.headers.get('Application-Response')).toBe('FILE PLAYED');
    expect(ok.headers.get('Channel-Name')).toBe('null/check');
    const missing = await played(join(dir, 'nope.wav'), '22222222-2222-4222-8222-222222222222');
    expect(missing.headers.get('Application-Response')).toBe('FILE NOT FOUND');
    // It failed before playing anything.
    expect(events.some((e) => e.name === 'PLAYBACK_START' && e.uniqueId === '22222222-2222-4222-8222-222222222222')).toBe(false);
  });
});
