// The `callbridge` command as an operator runs it: a separate process with only the environment given (plus
// PATH and HOME), its real exit code and output.
import { execFile } from 'node:child_process';

export interface CliResult<Stdout = string> {
  code: number;
  stdout: Stdout;
  stderr: string;
}

export interface CliOptions {
  /** Keep stdout as bytes (audio piped out, for instance) instead of decoding it as UTF-8. */
  binaryStdout?: boolean;
}

export function runCli(args: string[], env: Record<string, string>, options: CliOptions & { binaryStdout: true }): Promise<CliResult<Buffer>>;
export function runCli(args: string[], env?: Record<string, string>, options?: CliOptions & { binaryStdout?: false }): Promise<CliResult>;
export function runCli(args: string[], env: Record<string, string> = {}, options: CliOptions = {}): Promise<CliResult<Buffer | string>> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/callbridge.mjs', ...args],
      {
        encoding: 'buffer',
        maxBuffer: 16 * 1024 * 1024,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      },
      (error, stdout, stderr) => {
        // A process killed by a signal (or the timeout) has no numeric code: count it as a failure.
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout: options.binaryStdout === true ? stdout : stdout.toString('utf8'), stderr: stderr.toString('utf8') });
      },
    );
  });
}
