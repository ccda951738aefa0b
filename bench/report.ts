// Turns the raw measurements into bench/results.json and the tables printed at the end of `npm run bench`.
import { cpus, loadavg, totalmem } from 'node:os';
import type { CallBenchOutcome } from './calls/index.ts';
import type { HandoffBenchOutcome } from './handoffs/index.ts';
import type { RoundResult } from './calls/round.ts';
import type { ParseBenchResult } from './parse/index.ts';
import type { RecordingBenchOutcome } from './recording/index.ts';
import type { LengthResult } from './recording/worker.ts';
import type { VoiceBenchOutcome } from './voice/index.ts';
import type { PhaseResult } from './voice/worker.ts';
import { PARSER_NAMES } from './parse/parsers.ts';
import { markdownTable, round, table, type Summary } from './stats.ts';

type Databases = Record<'pglite' | 'postgres', CallBenchOutcome>;

const KB = 1024;

function roundFigures(r: RoundResult) {
  return {
    calls: r.calls,
    handled: r.handled,
    greetedAndHeld: r.greetedAndHeld,
    controllerPickupMs: r.pickupMs,
    acceptToGreetingCommandMs: r.acceptToGreetingMs,
    placedToSessionMs: r.placedToSessionMs,
    placedToGreetingCommandMs: r.placedToPickupMs,
    allHeldAfterMs: r.allHeldAfterMs,
    controllerCpuMsPerCall: r.setupCpuMsPerCall,
    released: r.hangup.released,
    registryAfterRelease: r.hangup.registryAfter,
    releaseMs: r.hangup.releaseMs,
    simulatorHangupCauses: r.hangup.simulatorCauses,
    channelsWithExpectedApps: r.hangup.channelsWithExpectedApps,
    stored: r.stored,
  };
}

function phaseFigures(p: PhaseResult) {
  return {
    ...p.frames,
    controllerCpuPercentOfOneCore: p.controller.cpuPercentOfOneCore,
    controllerCpuMs: p.controller.cpuMs,
    controllerEventLoopBusyPercent: p.controller.eventLoopBusyPercent,
    controllerEventLoopDelayMs: p.controller.eventLoopDelayMs,
    benchSideCpuPercentOfOneCore: p.benchSideCpuPercentOfOneCore,
    controllerClock: p.controller.framePath,
  };
}

function voiceFigures(voice: VoiceBenchOutcome) {
  if (!voice.ok) return { skipped: voice.reason };
  const v = voice.result;
  return {
    method: VOICE_METHOD,
    calls: v.calls,
    cpus: v.cpus,
    forwarding: phaseFigures(v.forwarding),
    talking: phaseFigures(v.talking),
    endOfUtteranceToPlaybackCommand: v.turns,
    journal: v.journal,
    released: v.released,
    registryAfterRelease: v.registryAfter,
    logLines: v.logLines,
    warnings: v.warnings,
  };
}

const VOICE_METHOD =
  'Controller (production config, embedded PGlite) in its own process; the simulator (timeScale 1, forks paced on their own 20 ms clocks) and the Speechmatics and Google TTS peers in another; the AI engine peer in a third. ' +
  'Frame latency: silence frames stamped with a sequence number by a simulator hook just before the fork writes them, timed again by a hook in the Speechmatics peer as they arrive (same process, performance.now()). ' +
  'controllerClock: in the controller process, for the forwarding window only (the talking window runs without them, so its turn latencies do not carry their cost), subscribers to the diagnostics channels of src/voice/frame-path.ts: fork frame arrival -> handed to the STT stream (arrivalToHandedMs) and -> its AddAudio message written (arrivalToWrittenMs, with the batch wait), every frame (spoken too), keyed by its Buffer. ' +
  'Forwarding: every caller silent. Talking: every caller says a sentence, waits for the answer, thinks 0.2-0.8 s, again; the AI engine peer answers at once with a fixed sentence already in the TTS cache (a warm-up call put it there). ' +
  'End of utterance -> playback command: turn_timing.totalMs of every turn, read back from the controller journal. CPU: process.cpuUsage() of the controller over each window / wall time.';

const HANDOFF_METHOD =
  'Controller (production config, embedded PGlite, Twilio configured) in its own process; the simulator (timeScale 1, forks paced on their own 20 ms clocks) and the Speechmatics, Google TTS and Twilio peers in another; the AI engine peer in a third. ' +
  'Every TTS prompt lasts at most settings.promptMaxMs; the simulated 3CX (agents, emergency target) answers every leg after settings.agentAnswerMs. A warm-up emergency and a warm-up transfer put the fixed sentences into the TTS cache. ' +
  'Emergencies: N AI calls, all greeted and forked, then every caller says settings.emergencySentence in the same moment (one loop); the phrase comes in a partial transcript 1.2 s of audio into the sentence. ' +
  'triggerToBridgeCommandMs = journal emergency.data.msToBridgeCommand (escalation start, when the partial was handled, -> bridge command written). ' +
  'Transfers: M AI calls, all greeted, then every caller presses 0 in the same moment: a warm transfer to the ring group each (hold music, originate, whisper, uuid_bridge). requestToBridgedMs = journal transfer_bridged.data.ms. ' +
  'Wire view: the caller starts the sentence / presses 0 -> CHANNEL_EXECUTE bridge / CHANNEL_BRIDGE seen on an inbound ESL connection to the simulator (same process and clock as the callers).';

function handoffFigures(handoffs: HandoffBenchOutcome) {
  if (!handoffs.ok) return { skipped: handoffs.reason };
  return { method: HANDOFF_METHOD, ...handoffs.result };
}

const RECORDING_METHOD =
  'One process of its own (--expose-gc): RecordingVault with LocalRecordingStorage in a temp directory under bench/tmp/, PGlite memory://, a random master key as CALL_RECORDING_ENCRYPTION_KEY. ' +
  'Per length: a stereo 8 kHz 16-bit WAV (a 10 s turn pattern: caller 0-4 s, agent 3.5-8 s, 2 s of faint noise) streamed to the spool directory, then finishSpooled (encrypt -> store -> decrypt to verify -> row + post-call job -> delete the plaintext), ' +
  'openAudio into a SHA-256 sink (compared with the original), and openAudio into SHA-256 + TalkStatsMeter (compared with the pattern). MB/s = plaintext 10^6 bytes / wall time. ' +
  'Memory: process.memoryUsage() every 50 ms, baseline after a GC just before the step; growth = highest sample - baseline. memory: the timed run, V8 collecting when it likes (garbage included); ' +
  'liveMemory: the step again (a second spool file, a second read), untimed, with a GC before every sample (two GCs: dead ArrayBuffers are swept concurrently after one).';

function recordingFigures(recording: RecordingBenchOutcome) {
  if (!recording.ok) return { skipped: recording.reason };
  return { method: RECORDING_METHOD, ...recording.result };
}

export function buildResults(
  parse: ParseBenchResult | undefined,
  calls: Databases | undefined,
  voice: VoiceBenchOutcome | undefined,
  handoffs: HandoffBenchOutcome | undefined,
  recording: RecordingBenchOutcome | undefined,
  startedAt: Date,
  seconds: number,
) {
  const eslParse = parse && {
    input: parse.input,
    method: parse.method,
    results: Object.fromEntries(
      Object.keys(parse.variants).map((key) => {
        const v = parse.variants[key];
        const cases = parse.cases.filter((c) => c.readSize === v?.readSize && c.withXml === v?.withXml);
        const perParser = Object.fromEntries(
          cases.map((c) => [
            c.parser,
            {
              mbPerSecond: round(c.mbPerSecond, 1),
              messagesPerSecond: Math.round(c.messagesPerSecond),
              messages: c.counts.messages,
              events: c.counts.events,
              errors: c.counts.errors,
              dropped: c.counts.dropped,
              bytes: c.bytes,
              runsMs: c.runsMs,
            },
          ]),
        );
        return [key, { ...perParser, oursOverModesl: round(parse.ratios[key]?.oursOverModesl ?? NaN, 2), oursOverEsl: round(parse.ratios[key]?.oursOverEsl ?? NaN, 2) }];
      }),
    ),
    messageCounts: parse.messageCounts,
    discrepancies: parse.discrepancies,
  };
  const perDatabase = <T>(pick: (outcome: Extract<CallBenchOutcome, { ok: true }>) => T) =>
    calls && Object.fromEntries(Object.entries(calls).map(([db, o]) => [db, o.ok ? pick(o) : { skipped: o.reason }]));
  return {
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      memoryGiB: round(totalmem() / KB ** 3, 1),
      // Other work on the machine skews the figures: the load average when the run ended.
      loadAverage: loadavg().map((l) => round(l, 2)),
    },
    date: startedAt.toISOString(),
    durationSeconds: round(seconds, 1),
    esl_parse: eslParse,
    call_setup: perDatabase((o) => ({
      database: o.result.database,
      rounds: Object.fromEntries(o.result.rounds.map((r) => [String(r.calls), roundFigures(r)])),
      logLines: o.result.logLines,
      warnings: o.result.warnings,
    })),
    voice: voice && voiceFigures(voice),
    handoffs: handoffs && handoffFigures(handoffs),
    recording: recording && recordingFigures(recording),
    memory: perDatabase((o) => ({
      baseline: o.result.baseline,
      heldCalls: Object.fromEntries(
        o.result.rounds.filter((r) => r.memory !== undefined).map((r) => [String(r.calls), { ...r.memory?.sample, perCallBytes: r.memory?.perCallBytes, perCallHeapBytes: r.memory?.perCallHeapBytes }]),
      ),
    })),
  };
}

export type BenchResults = ReturnType<typeof buildResults>;

// An empty summary's NaN comes back over IPC (JSON) as null.
const ms = (s: Summary, digits = 1): string => (s.count === 0 ? '–' : [s.p50, s.p95, s.p99, s.max].map((v) => v.toFixed(digits)).join(' / '));

/** The result tables, as plain text for the terminal or as markdown for bench/README.md. */
export function renderTables(
  parse: ParseBenchResult | undefined,
  calls: Databases | undefined,
  voice: VoiceBenchOutcome | undefined,
  handoffs: HandoffBenchOutcome | undefined,
  recording: RecordingBenchOutcome | undefined,
  format: 'text' | 'markdown' = 'text',
): string {
  const out: string[] = [];
  const md = format === 'markdown';
  const render = md ? markdownTable : table;
  const title = (text: string): string => (md ? `### ${text}\n` : text);
  if (parse) {
    out.push(title('ESL parse throughput (same trace bytes, one process per parser)'));
    const rows: (string | number)[][] = [];
    for (const [key, variant] of Object.entries(parse.variants)) {
      for (const name of PARSER_NAMES) {
        const c = parse.cases.find((x) => x.parser === name && x.readSize === variant.readSize && x.withXml === variant.withXml);
        if (c === undefined) continue;
        const ours = parse.cases.find((x) => x.parser === 'ours' && x.readSize === c.readSize && x.withXml === c.withXml);
        const ratio = name === 'ours' || ours === undefined ? '' : `${(ours.mbPerSecond / c.mbPerSecond).toFixed(2)}×`;
        const notes = [c.counts.errors > 0 ? `${c.counts.errors} errors` : '', c.counts.dropped > 0 ? `${c.counts.dropped} XML events dropped` : ''].filter(Boolean).join(', ');
        rows.push([key, name, c.mbPerSecond.toFixed(1), Math.round(c.messagesPerSecond), c.counts.messages, c.counts.events, ratio, notes]);
      }
    }
    out.push(render(['input', 'parser', 'MB/s', 'msgs/s', 'messages', 'events', 'ours is', 'notes'], rows));
    if (parse.discrepancies.length > 0) out.push(`${md ? '\n' : ''}Differences: ${parse.discrepancies.join('; ')}`);
  }
  if (calls) {
    const rows: (string | number)[][] = [];
    const memRows: (string | number)[][] = [];
    for (const [db, outcome] of Object.entries(calls)) {
      if (!outcome.ok) {
        rows.push([db, outcome.reason, '', '', '', '', '', '', '']);
        continue;
      }
      for (const r of outcome.result.rounds) {
        rows.push([
          db,
          r.calls,
          `${r.handled}/${r.greetedAndHeld}`,
          ms(r.pickupMs),
          ms(r.acceptToGreetingMs),
          ms(r.placedToPickupMs),
          r.setupCpuMsPerCall.toFixed(2),
          `${r.hangup.released}/${r.hangup.registryAfter}`,
          `${r.stored.lifecycleOk}/${r.stored.recordStartStored}`,
        ]);
        if (r.memory) {
          memRows.push([db, r.calls, (r.memory.perCallBytes / KB).toFixed(1), (r.memory.perCallHeapBytes / KB).toFixed(1), (r.memory.sample.heapUsed / KB ** 2).toFixed(1), (r.memory.sample.external / KB ** 2).toFixed(1), (r.memory.sample.rss / KB ** 2).toFixed(0)]);
        }
      }
    }
    out.push('', title('Call setup (all calls placed at once; ms p50 / p95 / p99 / max)'));
    out.push(render(['database', 'calls', 'handled/held', 'controller pickup ms', 'socket accepted → greeting cmd ms', 'placed → greeting cmd ms', 'CPU ms/call', 'released/left', 'stored: life cycle/RECORD_START'], rows));
    out.push('', title('Controller memory with the calls held (after GC, minus the idle baseline)'));
    out.push(render(['database', 'calls held', 'KiB/call heap+ext', 'KiB/call heap', 'heapUsed MiB', 'external MiB', 'rss MiB'], memRows));
  }
  if (voice) {
    if (out.length > 0) out.push('');
    if (!voice.ok) out.push(title('Voice'), voice.reason);
    else {
      const v = voice.result;
      const pct = (n: number): string => n.toFixed(1);
      const row = (name: string, p: PhaseResult): (string | number)[] => [
        name,
        v.calls,
        p.frames.seconds,
        p.frames.framesPerSecond,
        `${p.frames.stamped}/${p.frames.lost}`,
        ms(p.frames.latencyMs),
        p.controller.framePath === undefined ? '–' : ms(p.controller.framePath.arrivalToHandedMs, 2),
        p.controller.framePath === undefined ? '–' : ms(p.controller.framePath.arrivalToWrittenMs),
        pct(p.controller.cpuPercentOfOneCore),
        pct(p.controller.eventLoopBusyPercent),
        `${p.controller.eventLoopDelayMs.p99.toFixed(1)} / ${p.controller.eventLoopDelayMs.max.toFixed(1)}`,
        pct(p.benchSideCpuPercentOfOneCore),
      ];
      out.push(title(`Voice: audio frames, simulator fork → controller → Speechmatics peer (${v.cpus} cores; ms p50 / p95 / p99 / max)`));
      out.push(
        render(
          ['phase', 'forks', 'window s', 'frames/s', 'timed frames/lost', 'frame latency ms (end to end)', 'controller clock: arrival → handed to STT ms', '… → AddAudio written ms', 'controller CPU % of a core', 'controller loop busy %', 'controller loop delay ms p99 / max', 'simulator+peers CPU %'],
          [row('forwarding (callers silent)', v.forwarding), row('talking (conversations)', v.talking)],
        ),
      );
      const t = v.turns;
      out.push('', title('Voice: end of utterance → playback command (controller journal turn_timing; ms p50 / p95 / p99 / max)'));
      out.push(
        render(
          ['conversations', 'sentences said', 'turns timed', 'total ms', 'agent ms', 'tts ms', 'playback ms', 'TTS requests', 'unanswered'],
          [[v.calls, t.sentencesSaid, t.timed, ms(t.totalMs), ms(t.agentMs), ms(t.ttsMs), ms(t.playbackMs), t.ttsRequests, t.unanswered]],
        ),
      );
      const noted = Object.entries(v.journal).filter(([, n]) => n > 0);
      out.push(
        `${md ? '\n' : ''}Calls released ${v.released}/${v.calls}, left in the registry ${v.registryAfter}; journal: ${noted.length === 0 ? 'no fork restarts, overruns, lost audio, barge-ins or hand-offs' : noted.map(([k, n]) => `${k} ${n}`).join(', ')}; controller warnings ${v.warnings.count}.`,
      );
    }
  }
  if (handoffs) {
    if (out.length > 0) out.push('');
    if (!handoffs.ok) out.push(title('Emergencies and transfers'), handoffs.reason);
    else {
      const { emergencies: e, transfers: t, settings } = handoffs.result;
      const cpu = (c: { cpuPercentOfOneCore: number; eventLoopDelayMs: { max: number } }): string => `${c.cpuPercentOfOneCore.toFixed(1)} / ${c.eventLoopDelayMs.max.toFixed(1)}`;
      out.push(title('Emergencies: every conversation escalates at once (ms p50 / p95 / p99 / max)'));
      out.push(
        render(
          ['conversations', 'escalated', 'trigger → bridge command ms (controller)', 'of which: to "connecting you" queued', 'then to bridge command', 'caller starts the sentence → bridge app ms (wire)', '… → bridged ms (wire)', 'alert texts', 'controller CPU % / loop delay max ms'],
          [[e.calls, e.escalated, ms(e.triggerToBridgeCommandMs), ms(e.detectedToPromptMs), ms(e.promptToBridgeCommandMs), ms(e.speechToBridgeAppMs), ms(e.speechToBridgedMs), e.alertTexts, cpu(e.controller)]],
        ),
      );
      out.push('', title('Transfers: every caller presses 0 at once, a warm transfer each (ms p50 / p95 / p99 / max)'));
      out.push(
        render(
          ['transfers', 'requested', 'bridged', 'failed', 'request → bridged ms (controller)', 'caller presses 0 → bridged ms (wire)', 'controller CPU % / loop delay max ms'],
          [[t.calls, t.requested, t.bridged, t.failed, ms(t.requestToBridgedMs), ms(t.dtmfToBridgedMs), cpu(t.controller)]],
        ),
      );
      out.push(
        `${md ? '\n' : ''}The caller's sentence "${settings.emergencySentence}" lasts ${settings.sentenceMs} ms; its phrase reaches the recogniser's partials 1.2 s into it. ` +
          `The phrase was spotted in all calls within ${e.detectedSpreadMs} ms. Prompts (the caller's "connecting you", the agent's whisper) last ${settings.promptMaxMs} ms; the simulated agents and emergency target answer after ${settings.agentAnswerMs} ms. ` +
          `Calls released ${handoffs.result.released}/${e.calls + t.calls}, left in the registry ${handoffs.result.registryAfter}; controller warnings ${handoffs.result.warnings.count}.`,
      );
    }
  }
  if (recording) {
    if (out.length > 0) out.push('');
    if (!recording.ok) out.push(title('Post-call recordings'), recording.reason);
    else {
      const lengths = recording.result.lengths;
      out.push(title('Post-call recordings: RecordingVault streams (MB/s of plaintext; memory: peak growth over the baseline, MiB)'));
      out.push(
        render(
          ['recording', 'MB', 'step', 'ms', 'MB/s', 'RSS growth', 'heap+buffers growth', 'live heap+buffers growth', 'checks'],
          lengths.flatMap((l) => recordingRows(l)),
        ),
      );
      const first = lengths[0];
      if (first !== undefined) {
        out.push(
          `${md ? '\n' : ''}Baselines (after a GC): RSS ${first.finish.memory.baselineRssMiB} MiB (PGlite in memory included), heap+buffers ${first.finish.memory.baselineHeapAndBuffersMiB} MiB. ` +
            `"live": the step run again with a GC before every ${recording.result.sampleMs} ms sample; the encrypted file is written in ${recording.result.chunkBytes / KB} KiB chunks.`,
        );
      }
    }
  }
  return out.join('\n');
}

function recordingRows(l: LengthResult): (string | number)[][] {
  const c = l.checks;
  const failed = [
    c.sha256Matches ? '' : 'SHA-256 differs',
    c.rowMatches ? '' : 'row differs',
    c.outboxJobs === 1 ? '' : `${c.outboxJobs} jobs`,
    c.plaintextDeleted ? '' : 'plaintext left',
    c.talkStatsMatch ? '' : 'talk stats differ',
  ].filter(Boolean);
  const checks = failed.length === 0 ? 'SHA-256, row, job, plaintext gone, talk stats: ok' : failed.join(', ');
  const length = l.seconds >= 3600 ? `${l.seconds / 3600} h` : `${l.seconds / 60} min`;
  const mb = (l.plaintextBytes / 1e6).toFixed(1);
  const steps = [
    ['encrypt + store + verify (finishSpooled)', l.finish],
    ['decrypt (openAudio → SHA-256)', l.decrypt],
    ['decrypt + talk/silence meter', l.decryptAndMeter],
  ] as const;
  return steps.map(([name, f], i) => [
    i === 0 ? length : '',
    i === 0 ? mb : '',
    name,
    f.ms.toFixed(0),
    f.mbPerSecond.toFixed(0),
    f.memory.rssGrowthMiB.toFixed(1),
    f.memory.heapAndBuffersGrowthMiB.toFixed(1),
    f.liveMemory.heapAndBuffersGrowthMiB.toFixed(1),
    i === 0 ? checks : '',
  ]);
}
