// Runs one benchmark part in a fresh Node process (tsx loader, --expose-gc): send it one request over IPC,
// wait for its one answer. A part that hangs is killed after `timeoutMs`.
import { fork } from 'node:child_process';

type Answer<T> = { ok: true; result: T } | { ok: false; error: string };

export function runInChild<Request, Result>(file: string, request: Request, options: { timeoutMs: number; what: string }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(file, [], { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    const finish = (error: Error | undefined, result?: Result): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.removeAllListeners();
      if (error !== undefined) {
        if (child.exitCode === null) child.kill();
        reject(error);
      } else resolve(result as Result);
    };
    const timer = setTimeout(() => finish(new Error(`${options.what} did not finish within ${options.timeoutMs} ms`)), options.timeoutMs);
    child.on('message', (answer: Answer<Result>) => {
      if (answer.ok) finish(undefined, answer.result);
      else finish(new Error(`${options.what} failed: ${answer.error}`));
    });
    child.on('exit', (code) => finish(new Error(`${options.what} exited with ${String(code)} before answering`)));
    child.on('error', (error) => finish(error));
    child.send(request as object);
  });
}
