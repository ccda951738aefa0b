// A helper process driven over IPC, one request at a time: the simulator child of the call benchmark and
// the controller child of the voice benchmark. Every reply is `{type, ...}`; `{type: 'error', message}`
// rejects the request waiting for an answer.
import { fork, type ChildProcess } from 'node:child_process';

interface Typed {
  type: string;
}

type ReplyOf<R extends Typed, T extends R['type']> = Extract<R, { type: T }>;

export class IpcChild<Request extends Typed, Reply extends Typed> {
  readonly #child: ChildProcess;

  constructor(file: string, execArgv: string[] = ['--import', 'tsx']) {
    this.#child = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  request<T extends Reply['type']>(request: Request, expect: T, timeoutMs: number): Promise<ReplyOf<Reply, T>> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        this.#child.off('exit', onExit);
      };
      const onMessage = (message: Reply | { type: 'error'; message: string }): void => {
        if (message.type === 'error') {
          cleanup();
          reject(new Error(`child process: ${(message as { message: string }).message}`));
        } else if (message.type === expect) {
          cleanup();
          resolve(message as ReplyOf<Reply, T>);
        }
      };
      const onExit = (code: number | null): void => {
        cleanup();
        reject(new Error(`child process exited (${String(code)}) while waiting for ${expect}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`child process did not answer ${request.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#child.on('message', onMessage);
      this.#child.once('exit', onExit);
      this.#child.send(request);
    });
  }

  /** Sends `stop` and waits for `stopped`, or kills the child after `timeoutMs`. */
  async shutdown(stop: Request, stopped: Reply['type'], timeoutMs: number): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    try {
      await this.request(stop, stopped, timeoutMs);
    } catch {
      this.#child.kill();
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }
}
