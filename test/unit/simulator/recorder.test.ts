// The simulator's call recordings: real WAV files FreeSWITCH-style (8 kHz 16-bit PCM; stereo with the caller
// left and what the caller heard right when RECORD_STEREO=true, mixed mono otherwise), written before
// RECORD_STOP goes out.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InboundEslClient, type EslEvent } from '../../../src/esl/index.ts';
import { MediaTimeline, writeRecording } from '../../../src/simulator/recorder.ts';
import { FreeSwitchSimulator } from '../../../src/simulator/simulator.ts';
import { SpokenAudioDecoder, isVoiced } from '../../../src/simulator/spoken-audio.ts';
import { wavHeader } from '../../../src/voice/tts/wav.ts';

const dirs: string[] = [];
const sims: FreeSwitchSimulator[] = [];
const clients: InboundEslClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.stop();
  for (const sim of sims.splice(0)) await sim.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cb-rec-'));
  dirs.push(dir);
  return dir;
}

/** A WAV file of the given 16-bit samples at `rate`. */
function wavFile(path: string, samples: Int16Array, rate: number): string {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const h = wavHeader({ encoding: 'LINEAR16', channels: 1, sampleRate: rate, dataBytes: data.length });
  writeFileSync(path, Buffer.concat([h, data]));
  return path;
}

interface Wav {
  channels: number;
  rate: number;
  bits: number;
  /** One Int16Array per channel. */
  data: Int16Array[];
}

function readWav(path: string): Wav {
  const b = readFileSync(path);
  expect(b.toString('ascii', 0, 4)).toBe('RIFF');
  expect(b.readUInt32LE(4)).toBe(b.length - 8);
  const channels = b.readUInt16LE(22);
  const size = b.readUInt32LE(40);
  expect(b.toString('ascii', 36, 40)).toBe('data');
  expect(size).toBe(b.length - 44);
  const frames = size / (2 * channels);
  const data = Array.from({ length: channels }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) data[c]![i] = b.readInt16LE(44 + (i * channels + c) * 2);
  return { channels, rate: b.readUInt32LE(24), bits: b.readUInt16LE(34), data };
}

function frames(samples: Int16Array): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + 160 <= samples.length; i += 160) out.push(Buffer.from(samples.slice(i, i + 160).buffer));
  return out;
}

/** What the spoken-audio decoder hears in a channel, with the frame where each sentence starts. */
function heard(samples: Int16Array): { text: string; atMs: number }[] {
  const decoder = new SpokenAudioDecoder();
  const out: { text: string; atMs: number }[] = [];
  frames(samples).forEach((frame, i) => {
    const u = decoder.push(frame).utterance;
    if (u !== undefined) out.push({ text: u.text, atMs: (i - u.markerFrames + 1) * 20 });
  });
  return out;
}

function voicedMs(samples: Int16Array): number[] {
  return frames(samples).flatMap((f, i) => (isVoiced(f) ? [i * 20] : []));
}

describe('writeRecording', () => {
  it('stereo: the caller on the left at the time they spoke, the played file on the right at its time, for as long as it was heard', () => {
    const dir = tempDir();
    const prompt = new Int16Array(8000).map((_v, i) => 1000 + (i % 97) * 100);
    const promptPath = wavFile(join(dir, 'prompt.wav'), prompt, 8000);
    const timeline = new MediaTimeline();
    timeline.playbackStarted(1500, promptPath)(600);
    timeline.said(2200, 'I need to move my appointment.', 1000);
    timeline.said(2300, 'Thank you.', 400); // after the first sentence ends
    const path = join(dir, 'new', 'sub', 'call.wav');
    const bytes = writeRecording({ path, stereo: true, callerOnly: false, startMs: 1000, endMs: 5000, callerSpeaks: true, timeline });

    const wav = readWav(path);
    expect(statSync(path).size).toBe(bytes);
    expect({ channels: wav.channels, rate: wav.rate, bits: wav.bits }).toEqual({ channels: 2, rate: 8000, bits: 16 });
    const [left, right] = wav.data as [Int16Array, Int16Array];
    expect(left.length).toBe(4 * 8000);
    expect(heard(left)).toEqual([
      { text: 'I need to move my appointment.', atMs: 1200 },
      { text: 'Thank you.', atMs: 2200 },
    ]);
    expect(heard(right)).toEqual([]);
    // The prompt's own samples, from 0.5 s into the recording, for the 600 ms the caller heard.
    expect(Array.from(right.slice(4000, 4000 + 4800))).toEqual(Array.from(prompt.slice(0, 4800)));
    expect(right.slice(0, 4000).every((s) => s === 0)).toBe(true);
    expect(right.slice(8800).every((s) => s === 0)).toBe(true);
    // Between and after sentences the caller is quiet.
    const voiced = voicedMs(left);
    expect(voiced[0]).toBe(1200);
    expect(voiced.at(-1)).toBe(2580);
  });

  it('mono: one channel with both sides mixed; a caller without sentences sends the 400 Hz tone', () => {
    const dir = tempDir();
    const timeline = new MediaTimeline();
    timeline.playbackStarted(0, 'silence_stream://300')(300);
    timeline.playbackStarted(500, 'tone_stream://%(1000,0,1000)')(200);
    const path = join(dir, 'mono.wav');
    writeRecording({ path, stereo: false, callerOnly: false, startMs: 0, endMs: 1000, callerSpeaks: false, timeline });
    const wav = readWav(path);
    expect(wav.channels).toBe(1);
    const mono = wav.data[0]!;
    expect(mono.length).toBe(8000);
    const tone400 = (i: number) => Math.round(8000 * Math.sin((2 * Math.PI * 400 * i) / 8000));
    expect(mono[2]).toBe(tone400(2));
    // 500-700 ms: the 1 kHz tone played on top of the caller's tone.
    expect(mono[4002]).toBe(tone400(4002) + Math.round(4000 * Math.sin((2 * Math.PI * 1000 * 4002) / 8000)));
    expect(mono[5602]).toBe(tone400(5602));
  });

  it('a 16 kHz prompt is taken down to 8 kHz; a playback still going when the recording stops is heard to the end', () => {
    const dir = tempDir();
    const prompt = new Int16Array(32000).fill(1234);
    const timeline = new MediaTimeline();
    timeline.playbackStarted(200, wavFile(join(dir, 'p16.wav'), prompt, 16000));
    const path = join(dir, 'r.wav');
    writeRecording({ path, stereo: true, callerOnly: false, startMs: 0, endMs: 1000, callerSpeaks: true, timeline });
    const right = readWav(path).data[1]!;
    expect(right[1599]).toBe(0);
    expect(right.slice(1600).every((s) => s === 1234)).toBe(true);
  });

  it('memory stays flat for an hour-long recording (rendered a second at a time)', () => {
    // In a process of its own, so its peak resident memory is the render's alone: holding the file would
    // take 115 MB more.
    const dir = tempDir();
    const path = join(dir, 'long.wav');
    const script = `
      import { register } from 'tsx/esm/api';
      register();
      const { MediaTimeline, writeRecording } = await import(${JSON.stringify(new URL('../../../src/simulator/recorder.ts', import.meta.url).href)});
      const timeline = new MediaTimeline();
      for (let m = 0; m < 60; m++) timeline.said(m * 60000, 'Minute ' + m + '.', 2000);
      const before = process.resourceUsage().maxRSS;
      const bytes = writeRecording({ path: ${JSON.stringify(path)}, stereo: true, callerOnly: false, startMs: 0, endMs: 3600000, callerSpeaks: true, timeline });
      console.log(JSON.stringify({ bytes, grewKb: process.resourceUsage().maxRSS - before }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })) as { bytes: number; grewKb: number };
    expect(out.bytes).toBe(44 + 3600 * 8000 * 4);
    expect(statSync(path).size).toBe(out.bytes);
    expect(out.grewKb).toBeLessThan(30 * 1024);
  }, 60_000);
});

/** An inbound ESL client on the simulator, as the controller connects: authenticated and subscribed to RECORD_STOP. */
async function recordStopClient(port: number): Promise<InboundEslClient> {
  const client = new InboundEslClient({ host: '127.0.0.1', port, password: 'ClueCon', events: ['RECORD_STOP'] });
  clients.push(client);
  await client.start();
  await client.waitConnected({ timeoutMs: 5_000 });
  return client;
}

/** Resolves at the RECORD_STOP of `path` with what `look` sees of the file the moment the event arrives. */
function atRecordStop<T>(client: InboundEslClient, path: string, look: () => T): Promise<T> {
  return new Promise((resolve) => {
    const onEvent = (event: EslEvent): void => {
      if (event.name !== 'RECORD_STOP' || event.headers.get('Record-File-Path') !== path) return;
      client.off('event', onEvent);
      resolve(look());
    };
    client.on('event', onEvent);
  });
}

describe('simulator recordings', () => {
  async function recordedCall(stereo: boolean): Promise<{ path: string; sizeAtStop: number | undefined }> {
    const dir = tempDir();
    const path = join(dir, 'spool', `${stereo ? 'stereo' : 'mono'}.wav`);
    const sim = new FreeSwitchSimulator({
      password: 'ClueCon',
      timeScale: 0.05,
      heartbeatMs: 0,
      dialplan: {
        '8100': [
          { app: 'answer' },
          ...(stereo ? [{ app: 'set', arg: 'RECORD_STEREO=true' }] : []),
          { app: 'record_session', arg: path },
          { app: 'playback', arg: 'tone_stream://%(300,0,600)' },
          { app: 'sleep', arg: '1500' },
          { app: 'hangup' },
        ],
      },
    });
    sims.push(sim);
    const { eslPort } = await sim.start();
    const client = await recordStopClient(eslPort);
    const stopped = atRecordStop(client, path, () => statSync(path, { throwIfNoEntry: false })?.size);
    const call = sim.placeCall({ from: '+15550100', to: '8100', say: [{ atMs: 600, text: 'Hello there.', durationMs: 500 }] });
    const sizeAtStop = await stopped;
    await call.ended;
    return { path, sizeAtStop };
  }

  it('record_session with RECORD_STEREO=true: a complete stereo file exists when RECORD_STOP arrives, with the caller left and the tone right', async () => {
    const { path, sizeAtStop } = await recordedCall(true);
    expect(sizeAtStop).toBe(statSync(path).size);
    const wav = readWav(path);
    expect(wav.channels).toBe(2);
    const [left, right] = wav.data as [Int16Array, Int16Array];
    expect(heard(left).map((u) => u.text)).toEqual(['Hello there.']);
    expect(heard(right)).toEqual([]);
    // The tone was heard first, the sentence came after it.
    const toneEnd = voicedMs(right).at(-1)!;
    expect(voicedMs(right).length).toBeGreaterThan(5);
    expect(heard(left)[0]!.atMs).toBeGreaterThan(toneEnd);
  });

  it('without RECORD_STEREO the file is mono', async () => {
    const { path } = await recordedCall(false);
    const wav = readWav(path);
    expect(wav.channels).toBe(1);
    expect(heard(wav.data[0]!).map((u) => u.text)).toEqual(['Hello there.']);
  });

  it('uuid_record start/stop writes the file before its RECORD_STOP; writeRecordings: false writes nothing', async () => {
    for (const writeRecordings of [true, false]) {
      const dir = tempDir();
      const path = join(dir, 'uuid.wav');
      const sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.05, heartbeatMs: 0, writeRecordings });
      sims.push(sim);
      const { eslPort } = await sim.start();
      const client = await recordStopClient(eslPort);
      const connection = await client.waitConnected({ timeoutMs: 5_000 });
      const stopped = atRecordStop(client, path, () => statSync(path, { throwIfNoEntry: false }) !== undefined);
      const call = sim.placeCall({ from: '+15550100', to: '5000' });
      expect(await connection.api(`uuid_record ${call.uuid} start ${path}`)).toMatch(/^\+OK Success/);
      expect(await connection.api(`uuid_record ${call.uuid} stop ${path}`)).toMatch(/^\+OK Success/);
      const existedAtStop = await stopped;
      call.hangup();
      await call.ended;
      expect(existedAtStop).toBe(writeRecordings);
      if (writeRecordings) expect(readWav(path).channels).toBe(1);
    }
  });
});
