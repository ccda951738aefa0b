// What each caller hears, on the benchmark's clock: every PLAYBACK_START and PLAYBACK_STOP FreeSWITCH (the
// simulator, in this process) fires, read over an inbound ESL connection of the benchmark's own the way an
// operator's tool would, and timed as each event arrives (performance.now(), the clock the callers speak on).
import { performance } from 'node:perf_hooks';
import { InboundEslClient, type EslEvent } from '../../src/esl/index.ts';

export interface HeardAudio {
  startedAt: number;
  /** undefined while it is still playing. */
  stoppedAt?: number;
}

export class PlaybackWatch {
  readonly #client: InboundEslClient;
  /** Channel uuid → its playbacks, in order. */
  readonly #byCall = new Map<string, HeardAudio[]>();

  private constructor(client: InboundEslClient) {
    this.#client = client;
    client.on('event', (event) => this.#onEvent(event));
  }

  static async start(eslPort: number, password: string): Promise<PlaybackWatch> {
    const client = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password, events: ['PLAYBACK_START', 'PLAYBACK_STOP'] });
    const watch = new PlaybackWatch(client);
    await client.start();
    await client.waitConnected({ timeoutMs: 5000 });
    return watch;
  }

  playbacks(uuid: string): readonly HeardAudio[] {
    return this.#byCall.get(uuid) ?? [];
  }

  #onEvent(event: EslEvent): void {
    const at = performance.now();
    const uuid = event.uniqueId;
    if (uuid === undefined) return;
    let list = this.#byCall.get(uuid);
    if (list === undefined) this.#byCall.set(uuid, (list = []));
    if (event.name === 'PLAYBACK_START') list.push({ startedAt: at });
    else if (event.name === 'PLAYBACK_STOP') {
      // A channel plays one file at a time: the stop is the open playback's.
      const open = list.find((p) => p.stoppedAt === undefined);
      if (open !== undefined) open.stoppedAt = at;
    }
  }

  stop(): Promise<void> {
    return this.#client.stop();
  }
}
