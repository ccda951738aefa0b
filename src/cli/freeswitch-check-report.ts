// How the result of `callbridge freeswitch check` is shown: a table for people, JSON for scripts, and
// the exit code (0 only when every check passed). Pure: the report in, text out.
import { textTable } from './format.ts';
import type { CheckStatus, FreeswitchCheckReport } from '../app/freeswitch-check.ts';

export function formatCheckTable(report: FreeswitchCheckReport): string {
  const rows = report.checks.map((c) => [c.status.toUpperCase(), c.name, c.detail]);
  const count = (status: CheckStatus): number => report.checks.filter((c) => c.status === status).length;
  const skipped = count('skip');
  const totals = `${count('pass')} passed, ${count('fail')} failed${skipped > 0 ? `, ${skipped} not checked` : ''}`;
  return `FreeSWITCH at ${report.freeswitch.host}:${report.freeswitch.port}\n${textTable(['RESULT', 'CHECK', 'DETAIL'], rows)}\n${totals}\n`;
}

export function formatCheckJson(report: FreeswitchCheckReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function checkExitCode(report: FreeswitchCheckReport): number {
  return report.ok ? 0 : 1;
}
