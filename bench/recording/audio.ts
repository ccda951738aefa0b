// A long stereo call recording (8 kHz, 16-bit PCM, as FreeSWITCH records) written to disk as a stream, so
// the benchmark never holds the file in memory. The audio repeats a 10-second turn pattern whose talk and
// silence are known, so the transcription's meter can be checked against it:
//   caller (left)  talks 0–4 s, the agent (right) 3.5–8 s (0.5 s of both at once), then 2 s of line noise.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TalkStats } from '../../src/queue/talk-stats.ts';
import { wavHeader } from '../../src/voice/tts/wav.ts';

const SAMPLE_RATE = 8000;
const CHANNELS = 2;
const BYTES_PER_SECOND = SAMPLE_RATE * CHANNELS * 2;
const CYCLE_SECONDS = 10;
const TONE_AMPLITUDE = 4000;
const NOISE_AMPLITUDE = 40;

/** Bytes of a recording of `seconds` (header included). */
export const wavSize = (seconds: number): number => 44 + seconds * BYTES_PER_SECOND;

function header(dataBytes: number): Buffer {
  return wavHeader({ encoding: 'LINEAR16', channels: CHANNELS, sampleRate: SAMPLE_RATE, dataBytes });
}

/** One 10-second turn: a 300 Hz / 450 Hz tone while someone talks, faint noise otherwise. */
function cycle(): Buffer {
  const samples = SAMPLE_RATE * CYCLE_SECONDS;
  const out = Buffer.alloc(samples * CHANNELS * 2);
  let noise = 12345;
  const next = (): number => {
    noise = (noise * 1103515245 + 12345) & 0x7fffffff;
    return Math.round(((noise / 0x7fffffff) * 2 - 1) * NOISE_AMPLITUDE);
  };
  for (let i = 0; i < samples; i++) {
    const t = i / SAMPLE_RATE;
    const caller = t < 4 ? Math.round(TONE_AMPLITUDE * Math.sin(2 * Math.PI * 300 * t)) : next();
    const agent = t >= 3.5 && t < 8 ? Math.round(TONE_AMPLITUDE * Math.sin(2 * Math.PI * 450 * t)) : next();
    out.writeInt16LE(caller, i * 4);
    out.writeInt16LE(agent, i * 4 + 2);
  }
  return out;
}

/** What TalkStatsMeter must find in `seconds` of this audio (a whole number of turns). */
export function expectedTalk(seconds: number): Omit<TalkStats, 'channels'> & { callerMs: number; agentMs: number } {
  const cycles = seconds / CYCLE_SECONDS;
  return {
    durationMs: seconds * 1000,
    callerMs: cycles * 4000,
    agentMs: cycles * 4500,
    talkMs: cycles * 8000,
    silenceMs: cycles * 2000,
    overlapMs: cycles * 500,
    longestSilenceMs: 2000,
  };
}

/** Writes `seconds` of audio (a multiple of 10) to `path`; returns its size and SHA-256. */
export async function writeRecording(path: string, seconds: number): Promise<{ bytes: number; sha256: string }> {
  if (seconds % CYCLE_SECONDS !== 0) throw new Error(`recording length must be a multiple of ${CYCLE_SECONDS} s`);
  const turn = cycle();
  const hash = createHash('sha256');
  let bytes = 0;
  // The same turn buffer, written again and again: only one turn's samples are ever in memory.
  function* chunks(): Generator<Buffer> {
    for (let i = -1; i < seconds / CYCLE_SECONDS; i++) {
      const chunk = i < 0 ? header(seconds * BYTES_PER_SECOND) : turn;
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
  return { bytes, sha256: hash.digest('hex') };
}
