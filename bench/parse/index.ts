// ESL parse throughput: ours vs modesl vs esl on the same recorded FreeSWITCH bytes. Each (parser, read
// size) pair runs in a fresh child process, one after another, so only one of them uses the CPU at a time.
import { fileURLToPath } from 'node:url';
import { runInChild } from '../child.ts';
import { PARSER_NAMES, type ParserName } from './parsers.ts';
import { loadTraceBytes, traceFiles } from './traces.ts';
import type { ParseCaseRequest, ParseCaseResult } from './worker.ts';

export interface ParseVariant {
  readSize: number;
  withXml: boolean;
}

export interface ParseBenchOptions {
  targetBytes: number;
  variants: ParseVariant[];
  runs: number;
  timeoutMs: number;
}

/** "64KiB", "4KiB", "64KiB-without-xml": the key of a variant in the result. */
export function variantKey(variant: ParseVariant): string {
  return `${variant.readSize / 1024}KiB${variant.withXml ? '' : '-without-xml'}`;
}

export interface ParseBenchResult {
  input: { traceFiles: number; bytesPerCopy: number; copies: number; bytes: number };
  variants: Record<string, ParseVariant>;
  method: string;
  cases: ParseCaseResult[];
  /** ours ÷ modesl and ours ÷ esl (MB/s), per variant. */
  ratios: Record<string, { oursOverModesl: number; oursOverEsl: number }>;
  /** Messages per timed run per parser (variant → parser → count); they should all agree. */
  messageCounts: Record<string, Record<ParserName, number>>;
  discrepancies: string[];
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

function runWorker(request: ParseCaseRequest, timeoutMs: number): Promise<ParseCaseResult> {
  return runInChild<ParseCaseRequest, ParseCaseResult>(WORKER, request, { timeoutMs, what: `parse worker ${request.parser}` });
}

export async function runParseBench(options: ParseBenchOptions, progress: (line: string) => void): Promise<ParseBenchResult> {
  const unit = await loadTraceBytes();
  const files = await traceFiles();
  const cases: ParseCaseResult[] = [];
  for (const variant of options.variants) {
    for (const parser of PARSER_NAMES) {
      const request = { parser, ...variant, targetBytes: options.targetBytes, runs: options.runs };
      const result = await runWorker(request, options.timeoutMs);
      progress(`  parse ${parser.padEnd(6)} ${variantKey(variant).padEnd(18)} ${result.mbPerSecond.toFixed(1)} MB/s`);
      cases.push(result);
    }
  }
  const ratios: ParseBenchResult['ratios'] = {};
  const messageCounts: ParseBenchResult['messageCounts'] = {};
  const discrepancies: string[] = [];
  const variants: Record<string, ParseVariant> = {};
  for (const variant of options.variants) {
    const key = variantKey(variant);
    variants[key] = variant;
    const byParser = Object.fromEntries(
      cases.filter((c) => c.readSize === variant.readSize && c.withXml === variant.withXml).map((c) => [c.parser, c]),
    ) as Record<ParserName, ParseCaseResult>;
    ratios[key] = {
      oursOverModesl: byParser.ours.mbPerSecond / byParser.modesl.mbPerSecond,
      oursOverEsl: byParser.ours.mbPerSecond / byParser.esl.mbPerSecond,
    };
    messageCounts[key] = { ours: byParser.ours.counts.messages, modesl: byParser.modesl.counts.messages, esl: byParser.esl.counts.messages };
    const reference = byParser.ours;
    for (const c of Object.values(byParser)) {
      if (c.counts.messages !== reference.counts.messages) {
        discrepancies.push(`${key}: ${c.parser} delivered ${c.counts.messages} messages, ours ${reference.counts.messages}`);
      }
      if (c.counts.events !== reference.counts.events) {
        discrepancies.push(`${key}: ${c.parser} parsed ${c.counts.events} events, ours ${reference.counts.events}`);
      }
      if (c.counts.errors > 0) discrepancies.push(`${key}: ${c.parser} reported ${c.counts.errors} parse errors`);
      if (c.counts.dropped > 0) discrepancies.push(`${key}: ${c.parser} framed but dropped ${c.counts.dropped} messages (XML events)`);
      if (c.counts.messages !== c.perCopy.messages * c.copies) {
        discrepancies.push(`${key}: ${c.parser} counts are not ${c.copies}× one copy (${c.counts.messages} vs ${c.perCopy.messages}×${c.copies})`);
      }
    }
  }
  const first = cases.find((c) => c.withXml) ?? (cases[0] as ParseCaseResult);
  return {
    input: { traceFiles: files.length, bytesPerCopy: unit.length, copies: first.copies, bytes: first.bytes },
    variants,
    method:
      'All test/fixtures/freeswitch-traces/*.fs-to-client.raw joined in name order, repeated to ~50 MB, split into ' +
      'fixed-size reads (views, no copies) and fed in one process per (parser, read size), without TCP. ours: ' +
      'EslFrameParser.push + parseEvent on event frames. modesl: lib/esl/Parser on an EventEmitter socket stand-in ' +
      "(counts 'esl::event'). esl: exported FreeSwitchResponse on the same stand-in (its internal parser + process()). " +
      'Variant "-without-xml" leaves out the one XML-event trace (esl has no XML path; modesl parses XML with xml2js). ' +
      `One untimed warm-up pass, then ${options.runs} timed passes with a fresh parser each (GC before each); median reported. MB = 10^6 bytes.`,
    cases,
    ratios,
    messageCounts,
    discrepancies,
  };
}
