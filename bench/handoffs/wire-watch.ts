// The wire view of a hand-off: when FreeSWITCH (the simulator, in this process) starts the `bridge`
// application on a caller's channel, and when the caller's channel is bridged to another leg (CHANNEL_BRIDGE:
// the far end answered the bridge, or `uuid_bridge` joined the caller to the agent). Read the way an
// operator's tool would, over an inbound ESL connection of its own, and timed as each event arrives
// (performance.now(), the same clock the callers' actions are timed on).
import { performance } from 'node:perf_hooks';
import { InboundEslClient, type EslEvent } from '../../src/esl/index.ts';

export class WireWatch {
  readonly #client: InboundEslClient;
  /** Caller uuid → when its `bridge` application started. */
  readonly bridgeAppAt = new Map<string, number>();
  /** Caller uuid → when it was first bridged to another leg. */
  readonly bridgedAt = new Map<string, number>();

  private constructor(client: InboundEslClient) {
    this.#client = client;
    client.on('event', (event) => this.#onEvent(event));
  }

  static async start(eslPort: number, password: string): Promise<WireWatch> {
    const client = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password, events: ['CHANNEL_EXECUTE', 'CHANNEL_BRIDGE'] });
    const watch = new WireWatch(client);
    await client.start();
    await client.waitConnected({ timeoutMs: 5000 });
    return watch;
  }

  #onEvent(event: EslEvent): void {
    const at = performance.now();
    if (event.name === 'CHANNEL_EXECUTE' && event.headers.get('Application') === 'bridge' && event.uniqueId !== undefined) {
      if (!this.bridgeAppAt.has(event.uniqueId)) this.bridgeAppAt.set(event.uniqueId, at);
    } else if (event.name === 'CHANNEL_BRIDGE') {
      const caller = event.headers.get('Bridge-A-Unique-ID');
      if (caller !== undefined && !this.bridgedAt.has(caller)) this.bridgedAt.set(caller, at);
    }
  }

  stop(): Promise<void> {
    return this.#client.stop();
  }
}
