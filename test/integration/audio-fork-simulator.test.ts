// The audio-fork server with the FreeSWITCH simulator's own mod_audio_fork as the client: the controller's
// side of `uuid_audio_fork <uuid> start <url> mono 16k <metadata>` sent through the simulator's ESL `api`,
// exactly as the controller will send it, and the JSON the server sends back turning into the CUSTOM
// events mod_audio_fork fires on the channel (README "mod_audio_fork findings").
import { afterEach, describe, expect, it } from 'vitest';
import { InboundEslClient, type EslConnection, type EslEvent } from '../../src/esl/index.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import type { AudioFork } from '../../src/voice/audio-fork/index.ts';
import { startHarness, until, type Harness } from './audio-fork-support.ts';

let h: Harness | undefined;
let sim: FreeSwitchSimulator | undefined;
let esl: InboundEslClient | undefined;
afterEach(async () => {
  await esl?.stop();
  await sim?.stop();
  await h?.close();
  esl = undefined;
  sim = undefined;
  h = undefined;
});

interface Setup {
  harness: Harness;
  api: EslConnection;
  uuid: string;
  events: EslEvent[];
}

/** Simulator (real time: its fork sends a frame per 20 ms), an answered parked call, an ESL client. */
async function setup(): Promise<Setup> {
  const harness = await startHarness();
  h = harness;
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 1, heartbeatMs: 0 });
  const { eslPort } = await sim.start();
  esl = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password: 'ClueCon', events: ['CUSTOM'] });
  const events: EslEvent[] = [];
  esl.on('event', (e) => events.push(e));
  await esl.start();
  const api = await esl.waitConnected({ timeoutMs: 5_000 });
  const call = sim.placeCall({ from: '+15550100', to: '5000' });
  await until(() => call.answered);
  return { harness, api, uuid: call.uuid, events };
}

function forkEvents(events: EslEvent[]): Array<[string | undefined, string | undefined]> {
  return events.filter((e) => e.subclass?.startsWith('mod_audio_fork::') === true).map((e) => [e.subclass, e.body]);
}

function collect(fork: AudioFork): { frames: Buffer[]; at: number[]; metadata: unknown[]; texts: string[]; closed: number[] } {
  const got = { frames: [] as Buffer[], at: [] as number[], metadata: [] as unknown[], texts: [] as string[], closed: [] as number[] };
  fork.on('audio', (f) => {
    got.frames.push(Buffer.from(f));
    got.at.push(performance.now());
  });
  fork.on('metadata', (_raw, value) => got.metadata.push(value));
  fork.on('text', (t) => got.texts.push(t));
  fork.on('closed', (code) => got.closed.push(code));
  return got;
}

describe('audio-fork server with the simulator’s mod_audio_fork', () => {
  it('start mono 16k: metadata, then 640-byte frames of the caller’s audio every 20 ms; stop sends its text and closes 1000', async () => {
    const { harness, api, uuid, events } = await setup();
    const fork = harness.forks.expect('call-a');
    const got = collect(fork);
    expect(await api.api(`uuid_audio_fork ${uuid} start ${fork.url(harness.base)} mono 16k {"callId":"call-a"}`)).toBe('+OK Success\n');
    await until(() => got.frames.length >= 30);
    expect(fork.state).toBe('connected');
    expect(got.metadata).toEqual([{ callId: 'call-a' }]);
    expect(got.frames.slice(0, 30).every((f) => f.length === 640)).toBe(true);
    // The pace is the far end's (a 20 ms ptime), checked loosely: the server adds no batching of its own.
    const gaps = got.at.slice(1, 30).map((t, i) => t - (got.at[i] ?? t)).sort((a, b) => a - b);
    const median = gaps[Math.floor(gaps.length / 2)] ?? 0;
    expect(median).toBeGreaterThan(10);
    expect(median).toBeLessThan(40);
    // 16-bit little-endian PCM of the caller's 400 Hz tone: about 8 zero crossings per 20 ms frame.
    const pcm = Buffer.concat(got.frames.slice(0, 25));
    let crossings = 0;
    for (let i = 2; i < pcm.length; i += 2) if (pcm.readInt16LE(i - 2) < 0 !== pcm.readInt16LE(i) < 0) crossings++;
    expect(crossings / 2 / 0.5).toBeGreaterThan(350);
    expect(crossings / 2 / 0.5).toBeLessThan(450);

    expect(await api.api(`uuid_audio_fork ${uuid} stop {"final":"bye"}`)).toBe('+OK Success\n');
    await until(() => got.closed.length === 1);
    expect(got.texts).toEqual(['{"final":"bye"}']);
    expect(got.closed).toEqual([1000]);
    expect(fork.state).toBe('closed');
    await until(() => forkEvents(events).length >= 1);
    expect(forkEvents(events)[0]).toEqual(['mod_audio_fork::connect', undefined]);
  });

  it('transcription, json and killAudio from the server become mod_audio_fork::* CUSTOM events on the channel', async () => {
    const { harness, api, uuid, events } = await setup();
    const fork = harness.forks.expect('call-b');
    const connected = new Promise<void>((r) => fork.once('connected', () => r()));
    expect(await api.api(`uuid_audio_fork ${uuid} start ${fork.url(harness.base)} mono 16k`)).toBe('+OK Success\n');
    await connected;
    expect(fork.transcription({ text: 'hello world', is_final: true, confidence: 0.9 })).toBe(true);
    expect(fork.json({ anything: 'goes', n: 1 })).toBe(true);
    await until(() => forkEvents(events).length >= 3);
    expect(fork.killAudio()).toBe(true);
    await until(() => forkEvents(events).some(([s]) => s === 'mod_audio_fork::kill_audio'));
    expect(forkEvents(events)).toEqual([
      ['mod_audio_fork::connect', undefined],
      ['mod_audio_fork::transcription', '{"text":"hello world","is_final":true,"confidence":0.9}'],
      ['mod_audio_fork::json', '{"type":"json","data":{"anything":"goes","n":1}}'],
      ['mod_audio_fork::kill_audio', undefined],
    ]);
    expect(events.find((e) => e.subclass === 'mod_audio_fork::kill_audio')?.uniqueId).toBe(uuid);
  });

  it('close() while FreeSWITCH is streaming closes the fork with 1001 and mod_audio_fork reports the disconnect', async () => {
    const { harness, api, uuid, events } = await setup();
    const fork = harness.forks.expect('call-c');
    const got = collect(fork);
    await api.api(`uuid_audio_fork ${uuid} start ${fork.url(harness.base)} mono 16k`);
    await until(() => got.frames.length >= 3);
    await harness.forks.close();
    expect(got.closed).toEqual([1001]);
    expect(harness.forks.stats).toMatchObject({ expected: 0, connected: 0 });
    await until(() => forkEvents(events).some(([s]) => s === 'mod_audio_fork::disconnect'));
    // The server is gone: a new expectation is refused from the start.
    expect(harness.forks.expect('call-d').state).toBe('cancelled');
  });
});
