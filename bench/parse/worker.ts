// One parser, one read size, in a process of its own (so one library's garbage and JIT state cannot slow
// another down). Started by bench/parse/index.ts; answers with one ParseCaseResult over IPC.
import { performance } from 'node:perf_hooks';
import { createParser, type ParserCounts, type ParserName } from './parsers.ts';
import { loadTraceBytes, splitReads } from './traces.ts';

export interface ParseCaseRequest {
  parser: ParserName;
  readSize: number;
  targetBytes: number;
  runs: number;
  /** False: leave out the one trace of XML events (esl cannot parse XML; modesl parses it with xml2js). */
  withXml: boolean;
}

export interface ParseCaseResult {
  parser: ParserName;
  readSize: number;
  withXml: boolean;
  /** Bytes fed per timed run. */
  bytes: number;
  /** How many times the joined traces were repeated to reach `bytes`. */
  copies: number;
  /** Wall time of each timed run (ms). */
  runsMs: number[];
  /** Median run: 10^6 bytes per second, and messages per second. */
  mbPerSecond: number;
  messagesPerSecond: number;
  /** Counts of one timed run. */
  counts: ParserCounts;
  /** Counts for a single copy of the joined traces, fed to a fresh parser. */
  perCopy: ParserCounts;
}

const gc = (globalThis as { gc?: () => void }).gc;

function feedAll(parser: ReturnType<typeof createParser>, reads: Buffer[]): void {
  for (const read of reads) parser.feed(read);
}

async function runCase(request: ParseCaseRequest): Promise<ParseCaseResult> {
  const unit = await loadTraceBytes({ withXml: request.withXml });
  const copies = Math.max(1, Math.round(request.targetBytes / unit.length));
  const data = Buffer.concat(Array.from({ length: copies }, () => unit));
  const reads = splitReads(data, request.readSize);

  const single = createParser(request.parser);
  feedAll(single, splitReads(unit, request.readSize));
  const perCopy = single.counts();

  // Warm-up: one untimed pass so every parser runs optimized code when the clock starts.
  feedAll(createParser(request.parser), reads);

  const runsMs: number[] = [];
  let counts: ParserCounts | undefined;
  for (let run = 0; run < request.runs; run++) {
    gc?.();
    const parser = createParser(request.parser);
    const started = performance.now();
    feedAll(parser, reads);
    runsMs.push(performance.now() - started);
    counts = parser.counts();
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const final = counts as ParserCounts;
  return {
    parser: request.parser,
    readSize: request.readSize,
    withXml: request.withXml,
    bytes: data.length,
    copies,
    runsMs: runsMs.map((ms) => Math.round(ms * 10) / 10),
    mbPerSecond: data.length / 1e6 / (median / 1000),
    messagesPerSecond: final.messages / (median / 1000),
    counts: final,
    perCopy,
  };
}

process.once('message', (request: ParseCaseRequest) => {
  runCase(request).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error).stack ?? error) }, () => process.disconnect()),
  );
});
