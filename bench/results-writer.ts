// Writes bench/results.json and the figures in bench/README.md. A full run replaces both. A run of one part
// (--voice-only, …) replaces only that part's keys in results.json and that part's sections of the README,
// keeps every other part's figures as they were, and notes when and under what load the part was measured
// again; the targets are rendered from the merged figures.
import { readFile, writeFile } from 'node:fs/promises';
import type { BenchResults } from './report.ts';
import { targetLines } from './targets.ts';

export type Part = 'parse' | 'calls' | 'voice' | 'streaming' | 'handoffs' | 'recording';

/** Each part's keys in results.json, and how its section titles in the README begin. */
const PARTS: Record<Part, { keys: string[]; titles: string[] }> = {
  parse: { keys: ['esl_parse'], titles: ['ESL parse'] },
  calls: { keys: ['call_setup', 'memory'], titles: ['Call setup', 'Controller memory'] },
  voice: { keys: ['voice'], titles: ['Voice'] },
  streaming: { keys: ['streaming_replies'], titles: ['Streamed replies'] },
  handoffs: { keys: ['handoffs'], titles: ['Emergencies', 'Transfers'] },
  recording: { keys: ['recording'], titles: ['Post-call recordings'] },
};

const START = '<!-- results:start (written by npm run bench) -->';
const END = '<!-- results:end -->';
const TARGETS = '### Targets';

type Results = BenchResults & { streaming_replies?: unknown; partialRuns?: Record<string, { date: string; durationSeconds: number; loadAverage: number[] }> };

/** The previous results with `part`'s figures taken from `fresh`. */
export function mergeResults(previous: Results, fresh: Results, part: Part): Results {
  const merged: Record<string, unknown> = { ...previous };
  for (const key of PARTS[part].keys) merged[key] = (fresh as Record<string, unknown>)[key];
  merged.partialRuns = { ...previous.partialRuns, [part]: { date: fresh.date, durationSeconds: fresh.durationSeconds, loadAverage: fresh.machine.loadAverage } };
  return merged as Results;
}

/** Why `part` has no figures in `fresh` (its run failed), or undefined: a failed part must not replace good figures. */
export function partFailure(fresh: Results, part: Part): string | undefined {
  for (const key of PARTS[part].keys) {
    const value = (fresh as Record<string, unknown>)[key];
    if (value === undefined) return `no ${key} figures`;
    if (typeof value === 'object' && value !== null && 'skipped' in value) return String(value.skipped);
  }
  return undefined;
}

/** Splits markdown into sections, each beginning at a `### ` title (the first one: what comes before any title). */
function sections(markdown: string): string[] {
  const out: string[][] = [[]];
  for (const line of markdown.split('\n')) {
    if (line.startsWith('### ')) out.push([]);
    out[out.length - 1]?.push(line);
  }
  return out.map((lines) => lines.join('\n').trim()).filter((s) => s !== '');
}

const isOf = (section: string, part: Part): boolean => PARTS[part].titles.some((t) => section.startsWith(`### ${t}`));

function machineLine(results: Results): string {
  const m = results.machine;
  const parts = Object.entries(results.partialRuns ?? {}).map(
    ([part, run]) => ` The ${part} figures were measured again on their own (--${part}-only) ${run.date.slice(0, 10)}, ${run.durationSeconds} s; load average at the end ${run.loadAverage.join(' / ')}.`,
  );
  return `Measured ${results.date.slice(0, 10)} on ${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.memoryGiB} GiB; whole run ${results.durationSeconds} s; load average at the end ${m.loadAverage.join(' / ')}.${parts.join('')}`;
}

const targetsSection = (results: Results): string => [`${TARGETS} (DESIGN.md)`, '', ...targetLines(results).slice(1).map((l) => `- ${l.trim()}`)].join('\n');

/** The README's figures: all of `tables` for a full run; for one part, its sections replaced in `previous`. */
function readmeBody(previous: string, results: Results, tables: string, part: Part | undefined): string {
  if (part === undefined) return [machineLine(results), tables, targetsSection(results)].join('\n\n');
  const old = sections(previous).filter((s) => s.startsWith('### '));
  const fresh = sections(tables);
  const kept: string[] = [];
  let placed = false;
  for (const section of old) {
    if (section.startsWith(TARGETS)) continue;
    if (!isOf(section, part)) kept.push(section);
    else if (!placed) {
      kept.push(...fresh);
      placed = true;
    }
  }
  if (!placed) kept.push(...fresh);
  return [machineLine(results), ...kept, targetsSection(results)].join('\n\n');
}

/** Writes results.json and the README's figures; `part`: only that part ran. */
export async function writeResults(files: { results: string; readme: string }, fresh: Results, tables: string, part: Part | undefined): Promise<Results> {
  const previous = part === undefined ? undefined : (JSON.parse(await readFile(files.results, 'utf8')) as Results);
  const results = previous === undefined || part === undefined ? fresh : mergeResults(previous, fresh, part);
  await writeFile(files.results, `${JSON.stringify(results, null, 2)}\n`);
  const readme = await readFile(files.readme, 'utf8');
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from !== -1 && to > from) {
    const body = readmeBody(readme.slice(from + START.length, to), results, tables, part);
    await writeFile(files.readme, `${readme.slice(0, from + START.length)}\n${body}\n${readme.slice(to)}`);
  }
  return results;
}
