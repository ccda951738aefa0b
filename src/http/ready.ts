// Readiness: may this controller take new calls? Runs every named check in parallel, each with its own
// timeout, and names the parts that fail. The endpoint is unauthenticated, so the body says only *which*
// part failed and whether it timed out; the error itself goes to the log. The one exception is a
// ReadinessProblem: a known state whose owner wrote its text for operators (and logged it once when it began),
// such as FreeSWITCH refusing the event socket password; it is shown as `detail` and not logged per request.
import type { FastifyPluginAsync } from 'fastify';

/** A failing check's known cause, in words safe for the unauthenticated endpoint (names, never values). */
export class ReadinessProblem extends Error {
  override readonly name = 'ReadinessProblem';
}

export interface ReadinessCheck {
  /** Shown in the response: `esl`, `database`, `redis` … */
  name: string;
  /** Resolves when healthy; rejects (or times out) otherwise. Should stop work when `signal` aborts. */
  check(signal: AbortSignal): Promise<void>;
  /** Default 2000 ms. */
  timeoutMs?: number;
}

export type CheckOutcome = { status: 'ok' } | { status: 'fail'; reason: 'error' | 'timeout'; detail?: string };

export interface ReadinessReport {
  status: 'ready' | 'not_ready';
  failing: string[];
  checks: Record<string, CheckOutcome>;
  /** Facts worth seeing that do not make the process unready. */
  details?: Record<string, unknown>;
}

const DEFAULT_CHECK_TIMEOUT_MS = 2000;

class CheckTimeout extends Error {}

async function runCheck(check: ReadinessCheck, onError: (name: string, error: unknown) => void): Promise<CheckOutcome> {
  const controller = new AbortController();
  const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout()), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => check.check(controller.signal)), timeout]);
    return { status: 'ok' };
  } catch (error) {
    if (error instanceof ReadinessProblem) return { status: 'fail', reason: 'error', detail: error.message };
    const timedOut = error instanceof CheckTimeout;
    onError(check.name, timedOut ? new Error(`no answer within ${timeoutMs} ms`) : error);
    return { status: 'fail', reason: timedOut ? 'timeout' : 'error' };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

export async function runReadinessChecks(
  checks: readonly ReadinessCheck[],
  onError: (name: string, error: unknown) => void = () => undefined,
): Promise<ReadinessReport> {
  const outcomes = await Promise.all(checks.map((check) => runCheck(check, onError)));
  const report: ReadinessReport = { status: 'ready', failing: [], checks: {} };
  checks.forEach((check, i) => {
    const outcome = outcomes[i]!;
    report.checks[check.name] = outcome;
    if (outcome.status === 'fail') report.failing.push(check.name);
  });
  if (report.failing.length > 0) report.status = 'not_ready';
  return report;
}

export const readyRoutes: FastifyPluginAsync<{
  checks: readonly ReadinessCheck[];
  details?: () => Record<string, unknown>;
}> = async (app, { checks, details }) => {
  app.get('/ready', async (request, reply) => {
    const report = await runReadinessChecks(checks, (name, error) =>
      request.log.warn({ check: name, err: error }, 'readiness check failed'),
    );
    if (details) report.details = details();
    return reply.code(report.status === 'ready' ? 200 : 503).send(report);
  });
};
