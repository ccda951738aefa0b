// `npm run bench`: ESL parse throughput, call setup latency, memory per held call, a 1000-call burst, and
// the voice pipeline (audio frames at 150 concurrent forks, end of utterance → playback command, the
// controller's CPU), streamed replies (AI engine contract v1 against v2: end of speech → first audio),
// hand-offs (100 emergencies at once, 50 simultaneous warm transfers), and post-call recordings (an hour
// encrypted, verified and decrypted as streams, with their memory), measured on this machine and written
// to bench/results.json. Figures to read, never a pass/fail gate.
//   --quick         small sizes, for checking that the benchmark itself works
//   --parse-only / --calls-only / --voice-only / --streaming-only / --handoffs-only / --recording-only
//   (a part run alone replaces only that part's figures in results.json and bench/README.md)
//   --no-postgres   skip the second call run on a real Postgres server
//   --postgres-url  admin URL of that server (default: the local one the test suite uses)
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runCallBench } from './calls/index.ts';
import { runHandoffBench, type HandoffBenchOutcome } from './handoffs/index.ts';
import { runParseBench, type ParseBenchResult } from './parse/index.ts';
import { runRecordingBench, type RecordingBenchOutcome } from './recording/index.ts';
import { buildResults, renderTables } from './report.ts';
import { partFailure, writeResults, type Part } from './results-writer.ts';
import { runStreamingBench, type StreamingBenchOutcome } from './streaming/index.ts';
import { streamingFigures, streamingTables } from './streaming/report.ts';
import { runVoiceBench, type VoiceBenchOutcome } from './voice/index.ts';
import { targetLines } from './targets.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'parse-only': { type: 'boolean', default: false },
    'calls-only': { type: 'boolean', default: false },
    'voice-only': { type: 'boolean', default: false },
    'streaming-only': { type: 'boolean', default: false },
    'handoffs-only': { type: 'boolean', default: false },
    'recording-only': { type: 'boolean', default: false },
    'no-postgres': { type: 'boolean', default: false },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));
const README = fileURLToPath(new URL('./README.md', import.meta.url));
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const only: Part | undefined = args['parse-only'] ? 'parse' : args['calls-only'] ? 'calls' : args['voice-only'] ? 'voice' : args['streaming-only'] ? 'streaming' : args['handoffs-only'] ? 'handoffs' : args['recording-only'] ? 'recording' : undefined;
const startedAt = new Date();
const started = performance.now();
let parse: ParseBenchResult | undefined;
if (only === undefined || only === 'parse') {
  say('ESL parse throughput …');
  parse = await runParseBench(
    {
      targetBytes: args.quick ? 5e6 : 50e6,
      variants: [
        { readSize: 64 * 1024, withXml: true },
        { readSize: 4 * 1024, withXml: true },
        { readSize: 64 * 1024, withXml: false },
      ],
      runs: args.quick ? 1 : 3,
      timeoutMs: 120_000,
    },
    say,
  );
}
let calls: Awaited<ReturnType<typeof runCallBench>> | undefined;
if (only === undefined || only === 'calls') {
  say('Call setup, memory and concurrency …');
  calls = await runCallBench(
    {
      warmupCalls: 20,
      rounds: args.quick
        ? [{ calls: 20, memory: true }]
        : [
            { calls: 50, memory: false },
            { calls: 200, memory: true },
            { calls: 1000, memory: true },
          ],
      roundTimeoutMs: 90_000,
      settleMs: 1000,
      postgresAdminUrl: args['no-postgres'] ? undefined : args['postgres-url'],
    },
    say,
  );
}
let voice: VoiceBenchOutcome | undefined;
if (only === undefined || only === 'voice') {
  say('Voice pipeline: audio frames, conversations, controller CPU …');
  voice = await runVoiceBench({
    calls: args.quick ? 10 : 150,
    forwardingSeconds: args.quick ? 3 : 20,
    talkingSeconds: args.quick ? 5 : 30,
    drainMs: 2000,
    setupTimeoutMs: 60_000,
  });
  if (!voice.ok) say(`  ${voice.reason}`);
}
let streaming: StreamingBenchOutcome | undefined;
if (only === undefined || only === 'streaming') {
  say('Streamed replies: AI engine contract v1 against v2 …');
  streaming = await runStreamingBench({
    versions: ['v1', 'v2'],
    calls: args.quick ? 4 : 40,
    missTurns: args.quick ? 1 : 3,
    cachedTurns: args.quick ? 1 : 2,
    sentences: 3,
    firstSentenceMs: 300,
    sentenceGapMs: 300,
    setupTimeoutMs: 60_000,
  });
  if (!streaming.ok) say(`  ${streaming.reason}`);
}
let handoffs: HandoffBenchOutcome | undefined;
if (only === undefined || only === 'handoffs') {
  say('Hand-offs: emergencies at once, simultaneous transfers …');
  handoffs = await runHandoffBench({
    emergencyCalls: args.quick ? 10 : 100,
    transferCalls: args.quick ? 10 : 50,
    setupTimeoutMs: 60_000,
    bridgeTimeoutMs: 30_000,
  });
  if (!handoffs.ok) say(`  ${handoffs.reason}`);
}
let recording: RecordingBenchOutcome | undefined;
if (only === undefined || only === 'recording') {
  say('Post-call recordings: encrypt, verify and decrypt as streams, memory …');
  // A 10-minute recording next to the hour shows the memory does not grow with the length.
  recording = await runRecordingBench({ lengthsSeconds: args.quick ? [60] : [600, 3600], warmupSeconds: 10, sampleMs: 50 });
  if (!recording.ok) say(`  ${recording.reason}`);
}
const seconds = (performance.now() - started) / 1000;
const results = { ...buildResults(parse, calls, voice, handoffs, recording, startedAt, seconds), streaming_replies: streaming && streamingFigures(streaming) };
// The streaming part's table comes after the other parts' (bench/streaming/report.ts renders it).
const tables = (format: 'text' | 'markdown'): string => [renderTables(parse, calls, voice, handoffs, recording, format), streaming && streamingTables(streaming, format)].filter(Boolean).join('\n\n');
say('');
say(tables('text'));
say('');
for (const line of targetLines(results)) say(line);
const failure = only === undefined ? undefined : partFailure(results, only);
if (args.quick) {
  say(`\n(quick run: bench/results.json left unchanged) ${seconds.toFixed(0)} s`);
} else if (failure !== undefined) {
  say(`\n(the ${only} part did not complete: bench/results.json and bench/README.md left unchanged) ${failure}`);
  process.exitCode = 1;
} else {
  // The figures in bench/README.md are always those of results.json; a part run alone replaces only its own.
  await writeResults({ results: RESULTS, readme: README }, results, tables('markdown'), only);
  say(`\nWrote ${only === undefined ? '' : `the ${only} figures into `}bench/results.json and the tables in bench/README.md (${seconds.toFixed(0)} s)`);
}
