// Voice activity on the forked caller audio, for barge-in: the moment the caller talks over the agent we
// want to stop speaking, which is sooner than the first partial transcript can arrive (the recogniser needs
// a few hundred ms of context). Energy is enough here: mod_audio_fork sends the caller's leg only (not our
// playback), so what has energy is the caller or their line noise; a minimum run of loud frames keeps a
// cough or a click from cutting the agent off.

/** Root mean square of a frame of 16-bit little-endian PCM (0 … 32768). */
export function frameRms(frame: Buffer): number {
  const samples = frame.length >> 1;
  if (samples === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    const s = frame.readInt16LE(i * 2);
    sum += s * s;
  }
  return Math.sqrt(sum / samples);
}

export interface VoiceActivityOptions {
  /** RMS above which a frame counts as speech (default 500, about -36 dBFS: speech, not line hiss). */
  threshold?: number;
  /** Continuous speech before it counts as the caller talking (default 120 ms). */
  minSpeechMs?: number;
  /** Duration of one frame (mod_audio_fork sends 20 ms). */
  frameMs?: number;
}

export class VoiceActivityDetector {
  readonly #threshold: number;
  readonly #framesNeeded: number;
  #run = 0;

  constructor(options: VoiceActivityOptions = {}) {
    this.#threshold = options.threshold ?? 500;
    this.#framesNeeded = Math.max(1, Math.ceil((options.minSpeechMs ?? 120) / (options.frameMs ?? 20)));
  }

  /** True exactly once per stretch of speech: on the frame that completes the minimum run. */
  push(frame: Buffer): boolean {
    if (frameRms(frame) < this.#threshold) {
      this.#run = 0;
      return false;
    }
    this.#run++;
    return this.#run === this.#framesNeeded;
  }

  reset(): void {
    this.#run = 0;
  }
}
