// `callbridge worker` and `callbridge jobs list|retry`: the post-call worker and what operators do with its
// jobs. Options are checked here; the work is in src/app/worker.ts and jobs.ts.
import { Command, InvalidArgumentError } from 'commander';
import type { Config } from '../app/config.ts';
import { DEFAULT_JOBS_LIMIT, listJobs, MAX_JOBS_LIMIT, retryJobs } from './jobs.ts';
import { QUEUES } from '../app/post-call.ts';
import { runWorker } from '../app/worker.ts';
import { JOB_STATES, type JobState } from '../queue/job-admin.ts';
import { tokenOption, wholeNumber } from './options.ts';

function state(value: string): JobState {
  if (!(JOB_STATES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${JOB_STATES.join(', ')}`);
  return value as JobState;
}

function queue(value: string): string {
  if (!(QUEUES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${QUEUES.join(', ')}`);
  return value;
}

function jobId(value: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(value)) throw new InvalidArgumentError('expected a job id');
  return value;
}

export function registerJobsCommands(program: Command, config: () => Config): void {
  program
    .command('worker')
    .description('run the post-call worker (transcription, webhooks, retention) until SIGTERM')
    .action(async () => {
      await runWorker(config());
    });

  const jobs = program.command('jobs').description('inspect and retry queued jobs (needs REDIS_URL)');
  jobs
    .command('list')
    .description('list jobs with their state, attempts, progress and failure reason')
    .option('--state <state>', `only jobs in this state (${JOB_STATES.join(', ')})`, state)
    .option('--queue <queue>', `only this queue (${QUEUES.join(', ')})`, queue)
    .option('--limit <n>', `at most this many jobs (1–${MAX_JOBS_LIMIT})`, wholeNumber('--limit', 1, MAX_JOBS_LIMIT), DEFAULT_JOBS_LIMIT)
    .option('--json', 'print JSON')
    .addOption(tokenOption())
    .action(async (options: { token?: string; state?: JobState; queue?: string; limit: number; json?: boolean }) => {
      process.exitCode = await listJobs(config(), { ...options, token: options.token });
    });
  jobs
    .command('retry')
    .description('send a failed job (or every failed job) back to its queue with fresh attempts')
    .argument('[id]', 'job id', jobId)
    .option('--all-failed', 'every failed job')
    .option('--queue <queue>', 'only this queue', queue)
    .addOption(tokenOption())
    .action(async (id: string | undefined, options: { token?: string; allFailed?: boolean; queue?: string }, command: Command) => {
      if ((id === undefined) === (options.allFailed !== true)) command.error('error: give a job id or --all-failed (not both)');
      process.exitCode = await retryJobs(config(), { ...options, token: options.token, ...(id === undefined ? {} : { id }) });
    });
}
