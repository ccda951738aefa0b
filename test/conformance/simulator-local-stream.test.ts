// Music on hold in the simulator is as strict as FreeSWITCH 1.10 with mod_local_stream. No capture covers it, so
// the expected behaviour comes from the 1.10 sources: a playback of `local_stream://<name>` whose stream is not
// configured (or with mod_local_stream not loaded at all) cannot open its file, so the playback application ends
// at once with `FILE NOT FOUND`, and no PLAYBACK_START/STOP is sent; the `local_stream show` API lists each
// stream as `name,location` and describes one stream by name.
import { afterEach, describe, expect, it } from 'vitest';
import { InboundEslClient, type EslConnection, type EslEvent } from '../../src/esl/index.ts';
import { FreeSwitchSimulator, type SimulatedCall, type SimulatorOptions } from '../../src/simulator/simulator.ts';

let sim: FreeSwitchSimulator | undefined;
let esl: InboundEslClient | undefined;
afterEach(async () => {
  await esl?.stop();
  await sim?.stop();
  esl = undefined;
  sim = undefined;
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

interface Rig {
  connection: EslConnection;
  caller: SimulatedCall;
  events: EslEvent[];
}

async function rig(options: Partial<SimulatorOptions> = {}): Promise<Rig> {
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.02, heartbeatMs: 0, ...options });
  const { eslPort } = await sim.start();
  esl = new InboundEslClient({
    host: '127.0.0.1',
    port: eslPort,
    password: 'ClueCon',
    events: ['PLAYBACK_START', 'PLAYBACK_STOP', 'CHANNEL_EXECUTE_COMPLETE'],
  });
  await esl.start();
  const connection = await esl.waitConnected({ timeoutMs: 5_000 });
  const events: EslEvent[] = [];
  connection.on('event', (event) => events.push(event));
  // Extension 5000 answers and parks.
  const caller = sim.placeCall({ from: '+15551230000', to: '5000' });
  await until(() => caller.answered);
  return { connection, caller, events };
}

const completed = (events: EslEvent[], uuid: string, data: string) =>
  events.find((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.uniqueId === uuid && e.headers.get('Application-Data') === data);
const started = (events: EslEvent[], uuid: string, path: string) =>
  events.some((e) => e.name === 'PLAYBACK_START' && e.uniqueId === uuid && e.headers.get('Playback-File-Path') === path);

describe('simulator: local_stream:// music on hold', () => {
  it('fails a stream nobody configured at once with FILE NOT FOUND; the caller hears nothing', async () => {
    const { connection, caller, events } = await rig();
    expect(await connection.api(`uuid_broadcast ${caller.uuid} local_stream://nope aleg`)).toBe('+OK Message sent\n');
    await until(() => completed(events, caller.uuid, 'local_stream://nope') !== undefined);
    expect(completed(events, caller.uuid, 'local_stream://nope')?.headers.get('Application-Response')).toBe('FILE NOT FOUND');
    expect(started(events, caller.uuid, 'local_stream://nope')).toBe(false);
    expect(caller.playbacks).toEqual([]);
  });

  it('plays the shipped `moh` stream until broken, with the caller counted as its listener', async () => {
    const { connection, caller, events } = await rig();
    await connection.api(`uuid_broadcast ${caller.uuid} local_stream://moh aleg`);
    await until(() => started(events, caller.uuid, 'local_stream://moh'));
    expect(events.find((e) => e.name === 'PLAYBACK_START')?.headers.get('Playback-File-Type')).toBe('local_stream');
    expect(await connection.api('local_stream show moh')).toMatch(/^ {2}total: {4}1$/m);
    await connection.api(`uuid_break ${caller.uuid} all`);
    await until(() => completed(events, caller.uuid, 'local_stream://moh') !== undefined);
    expect(completed(events, caller.uuid, 'local_stream://moh')?.headers.get('Application-Response')).toBe('FILE PLAYED');
    expect(caller.playbacks).toEqual([{ path: 'local_stream://moh', status: 'break', playedMs: expect.any(Number) }]);
    expect(await connection.api('local_stream show moh')).toMatch(/^ {2}total: {4}0$/m);
  });

  it('answers `local_stream show` as mod_local_stream does', async () => {
    const { connection } = await rig({
      localStreams: [{ name: 'moh', location: '/etc/callbridge/freeswitch/music/moh', rate: 8000, channels: 1, interval: 20, shuffle: false, timerName: 'soft' }],
    });
    expect(await connection.api('local_stream show')).toBe('moh,/etc/callbridge/freeswitch/music/moh\n');
    expect(await connection.api('local_stream show moh')).toBe(
      [
        'moh',
        '  location: /etc/callbridge/freeswitch/music/moh',
        '  channels: 1',
        '  rate:     8000',
        '  interval: 20',
        '  samples:  160',
        '  prebuf:   65536',
        '  timer:    soft',
        '  total:    0',
        '  shuffle:  false',
        '  ready:    true',
        '  stopped:  false',
        '  reloading: false',
        '',
      ].join('\n'),
    );
    await expect(connection.api('local_stream show nope')).rejects.toThrow('-ERR Cannot locate local_stream nope!');
    await expect(connection.api('local_stream')).rejects.toThrow('-USAGE: <show|start|reload|stop|hup> <local_stream_name>');
  });

  it('without a configured stream, mod_local_stream is not loaded: no local_stream API, every stream fails', async () => {
    const { connection, caller, events } = await rig({ localStreams: [] });
    await expect(connection.api('local_stream show')).rejects.toThrow('-ERR local_stream Command not found!');
    await connection.api(`uuid_broadcast ${caller.uuid} local_stream://moh aleg`);
    await until(() => completed(events, caller.uuid, 'local_stream://moh') !== undefined);
    expect(completed(events, caller.uuid, 'local_stream://moh')?.headers.get('Application-Response')).toBe('FILE NOT FOUND');
    expect(started(events, caller.uuid, 'local_stream://moh')).toBe(false);
    expect(caller.playbacks).toEqual([]);
  });
});
