// Simulated callers that speak: sentences said into the simulator's mod_audio_fork arrive as audio a
// listener can decode (and the Speechmatics stand-in transcribes through the real Speechmatics client);
// what the caller hears is recorded as playbacks, WAV files lasting their real length.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SttEvent, SttStream } from '../../src/core/voice-ports.ts';
import { InboundEslClient, type EslConnection } from '../../src/esl/index.ts';
import { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import { FreeSwitchSimulator, type PlaceCallOptions, type SimulatedCall } from '../../src/simulator/simulator.ts';
import { SpokenAudioDecoder } from '../../src/simulator/spoken-audio.ts';
import { SpeechmaticsStt } from '../../src/voice/stt/index.ts';
import { until } from './audio-fork-support.ts';
import { wavHeader } from '../../src/voice/tts/wav.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A mod_audio_fork listener at the wire: decodes what the caller says, frame by frame. */
async function listener(onFrame?: (frame: Buffer) => void): Promise<{ url: string; frames: Buffer[]; heard: string[]; voiced: boolean[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => (p.has('audio.drachtio.org') ? 'audio.drachtio.org' : false) });
  await new Promise((r) => wss.once('listening', r));
  const got = { frames: [] as Buffer[], heard: [] as string[], voiced: [] as boolean[] };
  wss.on('connection', (ws: WebSocket) => {
    const decoder = new SpokenAudioDecoder();
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) return;
      got.frames.push(data);
      const out = decoder.push(data);
      got.voiced.push(out.voiced);
      if (out.utterance !== undefined) got.heard.push(out.utterance.text);
      onFrame?.(data);
    });
  });
  cleanups.push(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  }));
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/fork`, ...got };
}

async function simulator(timeScale: number): Promise<{ sim: FreeSwitchSimulator; api: EslConnection; call(opts?: Partial<PlaceCallOptions>): Promise<SimulatedCall> }> {
  const sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale, heartbeatMs: 0, fileDurationMs: 700 });
  const { eslPort } = await sim.start();
  const esl = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password: 'ClueCon', events: [] });
  await esl.start();
  const api = await esl.waitConnected({ timeoutMs: 5_000 });
  cleanups.push(() => sim.stop(), () => esl.stop());
  return {
    sim,
    api,
    call: async (opts = {}) => {
      // 5000: answer, park — the call waits for whatever is sent to it.
      const c = sim.placeCall({ from: '+15550100', to: '5000', ...opts });
      await until(() => c.answered);
      return c;
    },
  };
}

async function fork(api: EslConnection, call: SimulatedCall, url: string, rate: '8k' | '16k'): Promise<void> {
  expect(await api.api(`uuid_audio_fork ${call.uuid} start ${url} mono ${rate} {"callId":"c1"}`)).toBe('+OK Success\n');
  await until(() => call.listening);
}

/** A WAV file of `ms` of 8 kHz 16-bit mono silence. */
function wav(dir: string, name: string, ms: number): string {
  const data = Buffer.alloc(16 * ms);
  const h = wavHeader({ encoding: 'LINEAR16', channels: 1, sampleRate: 8000, dataBytes: data.length });
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([h, data]));
  return path;
}

describe('a simulated caller that speaks', () => {
  it('is silent between sentences, and what it says while the fork is open arrives as decodable audio', async () => {
    const { api, call } = await simulator(0.2);
    const ear = await listener();
    // Said before any fork is open: nobody hears it, but it is on record.
    const c = await call({ say: [{ atMs: 0, text: 'Is anybody there?' }] });
    await until(() => c.said.length === 1);
    await fork(api, c, ear.url, '8k');
    await until(() => ear.frames.length >= 10);
    c.say('I need a refill of my isotretinoin.');
    c.say('Thank you.', 400);
    await until(() => ear.heard.length === 2);
    expect(ear.heard).toEqual(['I need a refill of my isotretinoin.', 'Thank you.']);
    expect(c.said).toEqual([
      { text: 'Is anybody there?', heard: false },
      { text: 'I need a refill of my isotretinoin.', heard: true },
      { text: 'Thank you.', heard: true },
    ]);
    // Before the first sentence the caller was silent; the frames are 20 ms at 8 kHz.
    expect(ear.voiced.slice(0, 10).some(Boolean)).toBe(false);
    expect(ear.frames.every((f) => f.length === 320)).toBe(true);
  });

  it('says scheduled sentences at their time once a fork listens; a caller without say sends its 400 Hz tone', async () => {
    const { api, call } = await simulator(0.2);
    const ear = await listener();
    const speaker = await call({ say: [{ atMs: 3000, text: 'Hello, I would like an appointment.' }] });
    await fork(api, speaker, ear.url, '16k');
    await until(() => ear.heard.length === 1);
    expect(ear.heard).toEqual(['Hello, I would like an appointment.']);
    expect(ear.frames.every((f) => f.length === 640)).toBe(true);

    const toneEar = await listener();
    const toneCaller = await call();
    await fork(api, toneCaller, toneEar.url, '8k');
    await until(() => toneEar.frames.length >= 10);
    expect(toneEar.voiced.slice(0, 10).every(Boolean)).toBe(true);
    expect(toneEar.heard).toEqual([]);
    expect(toneCaller.said).toEqual([]);
  });

  it('is transcribed by the Speechmatics stand-in through the real Speechmatics client', async () => {
    const peer = await SpeechmaticsPeer.start({ apiKey: 'k', transcribeSpokenAudio: true });
    cleanups.push(() => peer.close());
    const stt = new SpeechmaticsStt({ url: peer.url, apiKey: 'k', managementPlatformUrl: peer.managementUrl, connectTimeoutMs: 2000, closeTimeoutMs: 1000 });
    const stream: SttStream = await stt.start({ language: 'en-US', sampleRate: 8000, vocabulary: [] });
    cleanups.push(() => stream.close());
    const events: SttEvent[] = [];
    stream.onEvent((e) => events.push(e));
    const { api, call } = await simulator(0.2);
    const ear = await listener((frame) => stream.sendAudio(frame));
    const c = await call({ say: [] });
    await fork(api, c, ear.url, '8k');
    c.say('Can I move my Mohs appointment?');
    await until(() => events.some((e) => e.type === 'end_of_utterance'));
    const final = events.find((e) => e.type === 'final');
    // Without Mohs in the vocabulary the service mishears it.
    expect(final).toMatchObject({ type: 'final', text: 'Can I move my moes appointment?' });
    expect(events.filter((e) => e.type === 'partial').length).toBeGreaterThan(0);
  });
});

describe('what the caller hears', () => {
  it('a WAV file on disk plays for its real length; other files for fileDurationMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-speech-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { api, call } = await simulator(0.01);
    const c = await call();
    const prompt = wav(dir, 'prompt.wav', 1500);
    expect(await api.api(`uuid_broadcast ${c.uuid} ${prompt} aleg`)).toBe('+OK Message sent\n');
    expect(await api.api(`uuid_broadcast ${c.uuid} /nowhere/greeting.wav aleg`)).toBe('+OK Message sent\n');
    await until(() => c.playbacks.length === 2);
    expect(c.playbacks).toEqual([
      { path: prompt, status: 'done', playedMs: 1500 },
      { path: '/nowhere/greeting.wav', status: 'done', playedMs: 700 },
    ]);
  });

  it('records a playback cut short by uuid_break (barge-in) and one cut by the hangup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-speech-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { api, call } = await simulator(0.01);
    const c = await call();
    const long = wav(dir, 'long.wav', 60_000);
    await api.api(`uuid_broadcast ${c.uuid} ${long} aleg`);
    await until(() => c.applications.some((a) => a.app === 'playback'));
    await new Promise((r) => setTimeout(r, 20));
    expect(await api.api(`uuid_break ${c.uuid}`)).toBe('+OK\n');
    await until(() => c.playbacks.length === 1);
    expect(c.playbacks[0]).toMatchObject({ path: long, status: 'break' });
    expect(c.playbacks[0]?.playedMs).toBeGreaterThan(0);
    expect(c.playbacks[0]?.playedMs).toBeLessThan(60_000);

    await api.api(`uuid_broadcast ${c.uuid} ${long} aleg`);
    await until(() => c.applications.filter((a) => a.app === 'playback').length === 2);
    c.hangup();
    await until(() => c.playbacks.length === 2);
    expect(c.playbacks[1]).toMatchObject({ path: long, status: 'hangup' });
  });
});
