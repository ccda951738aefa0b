// Person or answering machine, from the callee's forked audio after an outbound call is answered (for when
// FreeSWITCH's own detection is not available). People answer with a short "Hello?" and wait for us;
// machines play a long greeting, and many end it with a beep. So:
//   - a steady single tone of 1–2 kHz for ≥ 300 ms (the beep)        → machine
//   - a greeting (first to last voiced frame) longer than 3 s         → machine
//   - a greeting of at most 1.5 s followed by ≥ 0.8 s of silence      → human
//   - none of these within the timeout (silence, or a 1.5–3 s greeting) → unknown
// Pauses shorter than the human silence do not end a greeting (a machine's sentences have gaps). Frames are
// 16-bit little-endian mono PCM, as mod_audio_fork sends, any length (20 ms normally).

export type AnsweringMachineVerdict =
  | { kind: 'human'; reason: 'short_greeting'; atMs: number }
  | { kind: 'machine'; reason: 'long_greeting' | 'beep'; atMs: number }
  | { kind: 'unknown'; reason: 'timeout'; atMs: number };

export interface AnsweringMachineOptions {
  sampleRate: number;
  /** RMS above which a frame is voice (default 500, about -36 dBFS). */
  voiceThreshold?: number;
  /** Longest greeting a person gives (default 1500 ms). */
  humanGreetingMaxMs?: number;
  /** Silence after a short greeting that means "a person waiting for us" (default 800 ms). */
  humanSilenceMs?: number;
  /** Greeting longer than this is a machine (default 3000 ms). */
  machineGreetingMs?: number;
  /** A beep: a steady tone in this band (default 1000–2000 Hz) … */
  beepMinHz?: number;
  beepMaxHz?: number;
  /** … for at least this long (default 300 ms). */
  beepMinMs?: number;
  /** No verdict by then: unknown (default 5000 ms). */
  timeoutMs?: number;
}

/** Feed frames from the answer on; push() returns the verdict once there is one (and keeps returning it). */
export class AnsweringMachineDetector {
  readonly #rate: number;
  readonly #threshold: number;
  readonly #humanGreetingMaxMs: number;
  readonly #humanSilenceMs: number;
  readonly #machineGreetingMs: number;
  readonly #beepMinHz: number;
  readonly #beepMaxHz: number;
  readonly #beepMinMs: number;
  readonly #timeoutMs: number;
  #elapsedMs = 0;
  #greetingStartMs: number | undefined;
  #lastVoiceEndMs = 0;
  #beepMs = 0;
  #beepHz = 0;
  #verdict: AnsweringMachineVerdict | undefined;

  constructor(options: AnsweringMachineOptions) {
    this.#rate = options.sampleRate;
    this.#threshold = options.voiceThreshold ?? 500;
    this.#humanGreetingMaxMs = options.humanGreetingMaxMs ?? 1500;
    this.#humanSilenceMs = options.humanSilenceMs ?? 800;
    this.#machineGreetingMs = options.machineGreetingMs ?? 3000;
    this.#beepMinHz = options.beepMinHz ?? 1000;
    this.#beepMaxHz = options.beepMaxHz ?? 2000;
    this.#beepMinMs = options.beepMinMs ?? 300;
    this.#timeoutMs = options.timeoutMs ?? 5000;
  }

  get verdict(): AnsweringMachineVerdict | undefined {
    return this.#verdict;
  }

  push(frame: Buffer): AnsweringMachineVerdict | undefined {
    if (this.#verdict !== undefined) return this.#verdict;
    const samples = frame.length >> 1;
    if (samples === 0) return undefined;
    const frameMs = (samples * 1000) / this.#rate;
    const start = this.#elapsedMs;
    this.#elapsedMs += frameMs;
    const { rms, hz, sinusoidal } = measure(frame, samples, this.#rate);
    const loud = rms > this.#threshold;

    // The zero-crossing count misses a crossing at a frame's edges: 5 % slack keeps 1000 Hz in a 1000 Hz band.
    const toneInBand = loud && sinusoidal && hz >= this.#beepMinHz * 0.95 && hz <= this.#beepMaxHz * 1.05;
    // Steady: the pitch stays within 5 % (at least 60 Hz, the zero-crossing count's resolution) of where it began.
    if (toneInBand && this.#beepMs > 0 && Math.abs(hz - this.#beepHz) <= Math.max(60, this.#beepHz * 0.05)) {
      this.#beepMs += frameMs;
    } else {
      this.#beepMs = toneInBand ? frameMs : 0;
      this.#beepHz = hz;
    }
    if (this.#beepMs >= this.#beepMinMs) return this.#decide({ kind: 'machine', reason: 'beep', atMs: this.#elapsedMs });

    if (loud && !toneInBand) {
      this.#greetingStartMs ??= start;
      this.#lastVoiceEndMs = this.#elapsedMs;
    }
    if (this.#greetingStartMs !== undefined) {
      const greetingMs = this.#lastVoiceEndMs - this.#greetingStartMs;
      if (greetingMs > this.#machineGreetingMs) return this.#decide({ kind: 'machine', reason: 'long_greeting', atMs: this.#elapsedMs });
      const silenceMs = this.#elapsedMs - this.#lastVoiceEndMs;
      if (greetingMs <= this.#humanGreetingMaxMs && silenceMs >= this.#humanSilenceMs) {
        return this.#decide({ kind: 'human', reason: 'short_greeting', atMs: this.#elapsedMs });
      }
    }
    if (this.#elapsedMs >= this.#timeoutMs) return this.#decide({ kind: 'unknown', reason: 'timeout', atMs: this.#elapsedMs });
    return undefined;
  }

  #decide(verdict: AnsweringMachineVerdict): AnsweringMachineVerdict {
    this.#verdict = verdict;
    return verdict;
  }
}

/** The verdict for a whole recording (frames from the answer on), or unknown when it runs out first. */
export function classifyAnswer(frames: Iterable<Buffer>, options: AnsweringMachineOptions): AnsweringMachineVerdict {
  const detector = new AnsweringMachineDetector(options);
  let heardMs = 0;
  for (const frame of frames) {
    const verdict = detector.push(frame);
    if (verdict !== undefined) return verdict;
    heardMs += ((frame.length >> 1) * 1000) / options.sampleRate;
  }
  return { kind: 'unknown', reason: 'timeout', atMs: heardMs };
}

/**
 * Loudness, pitch from the zero-crossing rate, and whether the frame looks like a pure tone: a sine's peak is
 * √2 × its RMS, speech and noise peak much higher.
 */
function measure(frame: Buffer, samples: number, rate: number): { rms: number; hz: number; sinusoidal: boolean } {
  let sum = 0;
  let peak = 0;
  let crossings = 0;
  let previous = frame.readInt16LE(0);
  for (let i = 0; i < samples; i++) {
    const s = frame.readInt16LE(i * 2);
    sum += s * s;
    peak = Math.max(peak, Math.abs(s));
    if (i > 0 && (previous < 0) !== (s < 0)) crossings++;
    previous = s;
  }
  const rms = Math.sqrt(sum / samples);
  const hz = (crossings * rate) / (2 * samples);
  return { rms, hz, sinusoidal: rms > 0 && peak / rms < 1.6 };
}
