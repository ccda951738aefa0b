// `callbridge jobs list|retry`: the queue's jobs as an operator sees them (ids, states, attempts, why a job
// failed, progress) and sending failed ones back. Job data is not shown: it is ids and webhook bodies only,
// but nothing here needs it. Both need an API token with jobs:manage (admins), like every CLI command that
// acts on the system; a retry is audited.
import { ConfigError } from '../core/errors.ts';
import { textTable } from './format.ts';
import { withCliSession } from './session.ts';
import { JobAdmin, type JobRow, type JobState } from '../queue/job-admin.ts';
import type { Config } from '../app/config.ts';
import { QUEUES } from '../app/post-call.ts';

export interface JobsCommandIo {
  out: (text: string) => void;
  /** Notes beside the listing (kept off stdout, which may be JSON); default stderr. */
  err?: (text: string) => void;
  /** BullMQ prefix (tests); production uses the default. */
  prefix?: string;
}

const stdout: JobsCommandIo = { out: (text) => process.stdout.write(text) };

export const DEFAULT_JOBS_LIMIT = 50;
export const MAX_JOBS_LIMIT = 500;

export async function listJobs(
  config: Config,
  options: { token: string | undefined; state?: JobState; queue?: string; json?: boolean; limit?: number },
  io: JobsCommandIo = stdout,
): Promise<number> {
  await authorize(config, options.token);
  const admin = await connect(config, io);
  try {
    const limit = options.limit ?? DEFAULT_JOBS_LIMIT;
    // One more than asked for tells whether there were more.
    const found = await admin.list({ ...(options.state ? { states: [options.state] } : {}), ...(options.queue ? { queue: options.queue } : {}), limit: limit + 1 });
    const rows = found.slice(0, limit);
    io.out(options.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
    if (found.length > limit) {
      const note = `showing the first ${limit} job${limit === 1 ? '' : 's'}; there are more (raise --limit, up to ${MAX_JOBS_LIMIT}, or filter by --state/--queue)\n`;
      if (io.err) io.err(note);
      else process.stderr.write(note);
    }
    return 0;
  } finally {
    await admin.close();
  }
}

export async function retryJobs(
  config: Config,
  options: { token: string | undefined; id?: string; allFailed?: boolean; queue?: string },
  io: JobsCommandIo = stdout,
): Promise<number> {
  await authorize(config, options.token, { action: 'jobs.retry', targetId: options.allFailed ? `all failed${options.queue ? ` in ${options.queue}` : ''}` : (options.id ?? '') });
  const admin = await connect(config, io);
  try {
    if (options.allFailed) {
      const count = await admin.retryAllFailed(options.queue);
      io.out(`${count} failed job${count === 1 ? '' : 's'} sent back to the queue\n`);
      return 0;
    }
    const id = options.id ?? '';
    const outcome = await admin.retry(id, options.queue);
    io.out(outcome === 'retried' ? `job ${id} sent back to the queue\n` : outcome === 'not_failed' ? `job ${id} has not failed; nothing to retry\n` : `job ${id} not found\n`);
    return outcome === 'retried' ? 0 : 1;
  } finally {
    await admin.close();
  }
}

/** Checks the token (jobs:manage) on the database; with `audit`, records what the operator is about to do. */
async function authorize(config: Config, token: string | undefined, audit?: { action: string; targetId: string }): Promise<void> {
  await withCliSession(config, token, 'jobs:manage', async ({ principal, audit: trail }) => {
    if (audit === undefined) return;
    await trail.record({ actor: principal.name, action: audit.action, targetType: 'job', targetId: audit.targetId, details: {} });
  });
}

async function connect(config: Config, io: JobsCommandIo): Promise<JobAdmin> {
  if (config.redis.url === undefined) throw new ConfigError(['REDIS_URL: is required for `jobs` (without Redis, post-call jobs run inside the controller)']);
  return JobAdmin.connect({ redisUrl: config.redis.url, prefix: io.prefix ?? config.queue.prefix, queues: QUEUES });
}

function table(rows: JobRow[]): string {
  if (rows.length === 0) return 'no jobs\n';
  const cells = rows.map((r) => [r.queue, r.id, r.name, r.state, String(r.attempts), r.progress === null ? '' : `${r.progress}%`, r.failedReason ?? '']);
  return `${textTable(['QUEUE', 'ID', 'NAME', 'STATE', 'ATTEMPTS', 'PROGRESS', 'FAILED REASON'], cells)}\n`;
}
