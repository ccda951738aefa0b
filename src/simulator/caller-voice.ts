// What the simulated caller sends into an audio fork. By default a steady 400 Hz tone (like the sipp caller
// in the recording); a caller placed with `say` is silent except while saying a sentence, encoded with the
// spoken-audio codec so the Speechmatics stand-in can hear the words. Speech said while no fork listens is
// lost, as in real life, but recorded in `said` (and in a call recording, which takes it from the 'said' event).
import { EventEmitter } from 'node:events';
import { encodeUtterance, silenceFrame, toneFrame, type SampleRate } from './spoken-audio.ts';

export interface SaidUtterance {
  readonly text: string;
  /** False when no audio fork was open when the caller started speaking (nobody heard it). */
  readonly heard: boolean;
}

export class CallerVoice extends EventEmitter<{
  listening: [listening: boolean];
  /** The caller started saying `text` (a recording places it on its own timeline). */
  said: [text: string, durationMs: number | undefined];
}> {
  /** True for a caller that speaks sentences (silent in between); false for the 400 Hz tone. */
  speaks = false;
  readonly said: SaidUtterance[] = [];
  private rate: SampleRate | undefined;
  /** Frames of the sentences still to be sent, in order (a caller says one thing after another). */
  private queued: Buffer[] = [];
  /** Sample position of the tone, or frame count of the silence, so frames join up. */
  private position = 0;

  /** Whether an audio fork is connected and taking the caller's audio. */
  get listening(): boolean {
    return this.rate !== undefined;
  }

  /** The caller starts saying `text` now (after whatever they are still saying). */
  say(text: string, durationMs?: number): SaidUtterance {
    const utterance = { text, heard: this.rate !== undefined };
    this.said.push(utterance);
    if (this.rate !== undefined) this.queued.push(...encodeUtterance(text, this.rate, durationMs));
    this.emit('said', text, durationMs);
    return utterance;
  }

  /** An audio fork connected at `rate`. */
  listen(rate: SampleRate): void {
    this.rate = rate;
    this.emit('listening', true);
  }

  /** The fork went away: whatever was still to be said is lost. */
  stopListening(): void {
    if (this.rate === undefined) return;
    this.rate = undefined;
    this.queued = [];
    this.emit('listening', false);
  }

  /** The next 20 ms of the caller's audio at the listening rate. */
  nextFrame(rate: SampleRate): Buffer {
    const spoken = this.queued.shift();
    if (spoken !== undefined) return spoken;
    if (this.speaks) return silenceFrame(rate, this.position++);
    const frame = toneFrame(rate, this.position);
    this.position = (this.position + rate / 50) % rate;
    return frame;
  }
}
