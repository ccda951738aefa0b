// Frame latency on the controller's own clock: the controller publishes a frame's arrival on the fork
// WebSocket, its hand-over to the STT stream and each AddAudio message it writes on the diagnostics channels
// of src/voice/frame-path.ts. Subscribed only for a measured window, in the controller's process: a frame is
// known by its Buffer object (the same one travels from the fork to the STT stream), so no stamp is needed
// and spoken frames count too. Frames that arrived before the window opened are not timed.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { forkFrameChannel, sttFrameChannel, sttMessageChannel, type ForkFrameMessage, type SttFrameMessage, type SttMessageMessage } from '../../src/voice/frame-path.ts';
import { summarize, type Summary } from '../stats.ts';

export interface FramePathFigures {
  /** Frames that arrived on a fork WebSocket in the window. */
  arrived: number;
  /** Of those, handed to an STT stream, and written to the STT socket in an AddAudio message (by the window's end). */
  handed: number;
  written: number;
  /** Fork frame arrival → handed to the STT stream (queued in its batch), ms of controller time. */
  arrivalToHandedMs: Summary;
  /** Fork frame arrival → its AddAudio message written: adds the wait in the batch (SPEECHMATICS_AUDIO_BATCH_MS). */
  arrivalToWrittenMs: Summary;
}

export class FramePathClock {
  readonly #arrivedAt = new WeakMap<Buffer, number>();
  readonly #handed: number[] = [];
  readonly #written: number[] = [];
  #arrived = 0;

  readonly #onArrival = (message: unknown): void => {
    this.#arrived++;
    this.#arrivedAt.set((message as ForkFrameMessage).frame, performance.now());
  };

  readonly #onHanded = (message: unknown): void => {
    const at = this.#arrivedAt.get((message as SttFrameMessage).frame);
    if (at !== undefined) this.#handed.push(performance.now() - at);
  };

  readonly #onMessage = (message: unknown): void => {
    const m = message as SttMessageMessage;
    // A replay resends audio already timed; a message held for a reconnect was not written.
    if (!m.written || m.cause === 'replay') return;
    const now = performance.now();
    for (const frame of m.frames) {
      const at = this.#arrivedAt.get(frame);
      if (at !== undefined) this.#written.push(now - at);
    }
  };

  constructor() {
    subscribe(forkFrameChannel.name, this.#onArrival);
    subscribe(sttFrameChannel.name, this.#onHanded);
    subscribe(sttMessageChannel.name, this.#onMessage);
  }

  /** Unsubscribes (the hot path publishes nothing again) and summarizes the window. */
  end(): FramePathFigures {
    unsubscribe(forkFrameChannel.name, this.#onArrival);
    unsubscribe(sttFrameChannel.name, this.#onHanded);
    unsubscribe(sttMessageChannel.name, this.#onMessage);
    return {
      arrived: this.#arrived,
      handed: this.#handed.length,
      written: this.#written.length,
      arrivalToHandedMs: summarize(this.#handed),
      arrivalToWrittenMs: summarize(this.#written),
    };
  }
}
