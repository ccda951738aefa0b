#!/usr/bin/env node
// Generates the project's hold music: a gentle twelve-second music-box melody over soft chords (C, Am, F, G),
// as an 8 kHz 16-bit mono WAV, the format of the G.711 calls it is played to. FreeSWITCH's mod_local_stream
// loops it while a warm transfer rings the agents (freeswitch/autoload_configs/local_stream.conf.xml).
//
//   node bin/hold-music.mjs [out.wav]     (default: freeswitch/music/moh/callbridge-hold-melody.wav)
//
// The output is deterministic (no randomness), so the committed file is exactly what this script writes;
// test/unit/freeswitch-config.test.ts checks that. Plain Node, no dependencies: it runs on any checkout.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RATE = 8000;
const BEAT_S = 0.75; // 80 beats a minute: unhurried
const BEATS = 16;
/** Peak level of the result: about -9 dBFS, comfortable on a phone line and well clear of clipping. */
const PEAK = 0.35;

/** Melody in C major pentatonic, as [MIDI note, beats]: four bars that end on C and loop back smoothly. */
const MELODY = [
  [76, 1], [79, 1], [81, 1], [79, 1],
  [76, 1], [74, 1], [72, 1], [74, 1],
  [76, 1], [79, 1], [81, 1], [84, 1],
  [81, 1], [79, 1], [72, 2],
];
/** One soft chord root a bar (C, A, F, G), an octave above the bass register so a phone line carries it. */
const CHORDS = [60, 57, 53, 55];

const hz = (midi) => 440 * 2 ** ((midi - 69) / 12);

/** Adds a note: a few harmonics of `freq` under `envelope(t)` (t in seconds from the note's start). */
function addNote(out, startS, lengthS, freq, harmonics, envelope) {
  const first = Math.round(startS * RATE);
  const count = Math.min(out.length - first, Math.round(lengthS * RATE));
  for (let i = 0; i < count; i++) {
    const t = i / RATE;
    let v = 0;
    for (const [n, gain] of harmonics) v += gain * Math.sin(2 * Math.PI * freq * n * t);
    out[first + i] += v * envelope(t);
  }
}

/** Music box: a quick attack, then a bell-like decay that rings on under the next notes. */
const pluck = (t) => Math.min(1, t / 0.008) * Math.exp(-t / 0.35);
/** Chord pad: swells in, holds, and fades out before the next bar's chord. */
const pad = (barS) => (t) => Math.min(1, t / 0.15, (barS - t) / 0.2) * Math.exp(-t / 2);

function holdMelody() {
  const samples = new Float64Array(Math.round(BEATS * BEAT_S * RATE));
  let beat = 0;
  for (const [note, beats] of MELODY) {
    addNote(samples, beat * BEAT_S, beats * BEAT_S + 1, hz(note), [[1, 1], [2, 0.35], [3, 0.12]], pluck);
    beat += beats;
  }
  const barS = 4 * BEAT_S;
  CHORDS.forEach((root, bar) => {
    for (const interval of [0, 4, 7]) {
      // Minor third for A minor; the other chords are major.
      const third = interval === 4 && root === 57 ? 3 : interval;
      addNote(samples, bar * barS, barS, hz(root + third), [[1, 0.35], [2, 0.12]], pad(barS));
    }
  });
  // Short fades at both ends so the loop restarts without a click.
  const fade = Math.round(0.05 * RATE);
  for (let i = 0; i < fade; i++) {
    samples[i] *= i / fade;
    samples[samples.length - 1 - i] *= i / fade;
  }
  let peak = 0;
  for (const v of samples) peak = Math.max(peak, Math.abs(v));
  const pcm = Buffer.alloc(samples.length * 2);
  samples.forEach((v, i) => pcm.writeInt16LE(Math.round((v / peak) * PEAK * 32767), i * 2));
  return Buffer.concat([wavHeader(pcm.length), pcm]);
}

/** The canonical 44-byte header of a PCM 16-bit mono WAV at RATE. */
function wavHeader(dataBytes) {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(RATE, 24);
  h.writeUInt32LE(RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2] ?? join(root, 'freeswitch', 'music', 'moh', 'callbridge-hold-melody.wav');
writeFileSync(out, holdMelody());
process.stdout.write(`wrote ${out}\n`);
