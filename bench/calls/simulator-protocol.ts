// IPC messages between the controller benchmark and its simulator child, plus the parent-side handle.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type SimulatorRequest =
  | { type: 'start'; password: string; socketTarget: { host: string; port: number } }
  | { type: 'place'; count: number }
  | { type: 'hangupAll'; timeoutMs: number }
  | { type: 'stop' };

export type SimulatorReply =
  | { type: 'started'; eslPort: number }
  | { type: 'placed'; calls: { uuid: string; placedAtMs: number }[] }
  | {
      type: 'hungUp';
      count: number;
      causes: Record<string, number>;
      /** Channels that ran exactly socket, answer, record_session, playback, park. */
      appsAsExpected: number;
      unexpectedApps: string[];
      ms: number;
      activeChannels: number;
    }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

type ReplyOf<T extends SimulatorReply['type']> = Extract<SimulatorReply, { type: T }>;

const CHILD = fileURLToPath(new URL('./simulator-child.ts', import.meta.url));

/** The simulator child process, one request at a time. */
export class SimulatorChild {
  readonly #child: ChildProcess;

  constructor() {
    this.#child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  request<T extends SimulatorReply['type']>(request: SimulatorRequest, expect: T, timeoutMs: number): Promise<ReplyOf<T>> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        this.#child.off('exit', onExit);
      };
      const onMessage = (message: SimulatorReply): void => {
        if (message.type === 'error') {
          cleanup();
          reject(new Error(`simulator: ${message.message}`));
        } else if (message.type === expect) {
          cleanup();
          resolve(message as ReplyOf<T>);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`simulator exited (${String(code)}) while waiting for ${expect}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`simulator did not answer ${request.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#child.on('message', onMessage);
      this.#child.once('exit', onExit);
      this.#child.send(request);
    });
  }

  /** Stops the simulator gracefully, or kills it after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    try {
      await this.request({ type: 'stop' }, 'stopped', timeoutMs);
    } catch {
      this.#child.kill();
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}
