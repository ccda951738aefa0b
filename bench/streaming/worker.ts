// The streaming benchmark's own process: for each AI engine contract version in turn (v1, then v2), a fresh
// controller (a child process of its own: production config, embedded PGlite, an empty TTS cache), a fresh
// FreeSWITCH simulator at real-time pace and fresh local Speechmatics and Google TTS peers here, and the
// AI engine stand-in in another child process. The same callers hold the same conversations with both
// versions: every caller's first turns are answered with new words (TTS cache misses, so synthesis is on
// the path as for a real reply), its last turns with a reply already in the cache. Every reply is three
// sentences, generated at the same pace in both versions (bench/voice/ai-engine-protocol.ts, GeneratedReplies).
// Figures: the controller's journal (end of the caller's speech → first audio command, → the last
// sentence's audio command), and what the caller heard on this process's clock (PLAYBACK_START/STOP).
// Answers one StreamingBenchResult over IPC.
import { availableParallelism, cpus } from 'node:os';
import { freePort } from '../../src/app/free-port.ts';
import { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';
import { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import { FreeSwitchSimulator, type SimulatedCall } from '../../src/simulator/simulator.ts';
import { round, summarize, type Summary } from '../stats.ts';
import { AiEngineChild, engineDelayMs, type ContractVersion, type GeneratedReplies } from '../voice/ai-engine-protocol.ts';
import { AI_LINE, ControllerChild, GREETING, STT_KEY, TTS_KEY, voiceControllerEnv, type StoredCall } from '../voice/controller-protocol.ts';
import { converse, type CallerScript, type CallerTurn } from './callers.ts';
import { PlaybackWatch } from './playback-watch.ts';

export interface StreamingBenchRequest {
  versions: ContractVersion[];
  calls: number;
  /** Turns per caller answered with new words (TTS cache misses), then turns answered from the cache. */
  missTurns: number;
  cachedTurns: number;
  sentences: number;
  /** The engine's first sentence is ready this long after the turn, each next one this long after the one before (ms). */
  firstSentenceMs: number;
  sentenceGapMs: number;
  setupTimeoutMs: number;
}

/** The controller's journal, one turn each: ms from the caller's end of speech (EndOfUtterance handled). */
export interface ControllerTurns {
  turns: number;
  /** → the first audio command written (journal turn_timing.totalMs). */
  firstAudioCommandMs: Summary;
  /**
   * → the audio command holding the reply's last sentence (the one file of a v1 reply; the last of v2's). The
   * controller plays one file at a time, so for v2 this waits for the earlier sentences to be heard.
   */
  lastSentenceCommandMs: Summary;
  /** → the last sentence's speech ready to play (journal sentence_speech): synthesized, or found in the cache. */
  lastSentenceReadyMs: Summary;
  /** The first audio command's wait for the engine (turn_timing.agentMs) and for its synthesis (ttsMs). */
  agentMs: Summary;
  ttsMs: Summary;
  /** Audio commands per turn → how many turns had that many. */
  audioCommandsPerTurn: Record<string, number>;
  /** Turns whose reply came sentence by sentence (turn_timing.streamed). */
  streamed: number;
}

/** What the callers heard, one turn each: ms from the caller's last audio frame. */
export interface CallerEars {
  turns: number;
  /** → the reply's first audio began playing (PLAYBACK_START). */
  firstAudioMs: Summary;
  /** → the reply's last audio stopped (the whole reply heard). */
  replyHeardMs: Summary;
}

export interface StreamingPass {
  version: ContractVersion;
  controller: { miss: ControllerTurns; cached: ControllerTurns };
  callers: { miss: CallerEars; cached: CallerEars };
  turnsSaid: number;
  unanswered: number;
  /** Synthesize requests that reached the Google peer from the measured calls. */
  ttsRequests: number;
  engineTurns: number;
  /** The controller over the conversations (calls placed → last reply heard). */
  controllerCpuPercentOfOneCore: number;
  controllerEventLoopDelayMs: { p99: number; max: number };
  /** Journal entries worth a look (barge-ins, hand-offs, dropped input), summed over the calls. */
  journal: Record<string, number>;
  released: number;
  registryAfter: number;
  warnings: { count: number; examples: string[] };
}

export interface StreamingBenchResult {
  calls: number;
  cpus: number;
  settings: { sentences: number; firstSentenceMs: number; sentenceGapMs: number; v1ReplyAfterMs: number; missTurns: number; cachedTurns: number; callerSayMs: number; quietMs: number; ttsMsPerChar: number; ttsSynthesisMs: number };
  passes: StreamingPass[];
}

const CALLER_SENTENCE = 'yes please';
const CALLER_SAY_MS = 650;
/** Ms of audio per character of synthesized text: ~1.1 s a sentence, longer than the engine's gap. */
const TTS_MS_PER_CHAR = 30;
/**
 * Every synthesis takes this long at the Google peer (a short sentence at the real service). The same for a
 * whole v1 reply as for one v2 sentence, which favours v1: real synthesis takes longer for more text.
 */
const TTS_SYNTHESIS_MS = 200;
const CACHED_REPLY = 'I have written that down for you. The practice will call you back today. Is there anything else I can do?';
const WATCHED = ['barge_in', 'hand_off', 'turn_input_dropped', 'agent_fallback', 'tts_fallback', 'caller_audio_lost'];

const debug = (line: string): void => void (process.env.BENCH_DEBUG ? process.stderr.write(`[streaming ${new Date().toISOString().slice(11, 23)}] ${line}\n`) : undefined);

function generatedReplies(contract: ContractVersion, request: StreamingBenchRequest): GeneratedReplies {
  return { contract, sentences: request.sentences, firstSentenceMs: request.firstSentenceMs, sentenceGapMs: request.sentenceGapMs, freshTurns: request.missTurns };
}

function script(request: StreamingBenchRequest, turns: number): CallerScript {
  return {
    turns,
    sentence: CALLER_SENTENCE,
    sayMs: CALLER_SAY_MS,
    // Longer than the engine's gap between two sentences: a streamed reply is not over between them.
    quietMs: request.sentenceGapMs + 400,
    thinkMs: { min: 200, max: 800 },
    rampMs: 1500,
    replyTimeoutMs: request.setupTimeoutMs,
  };
}

/**
 * Per stored turn: the first audio command (turn_timing), and the last `prompt` and `sentence_speech` of the
 * same turn, timed from the first prompt (a prompt entry is written as its command goes out).
 */
function controllerTurns(calls: readonly StoredCall[], isMiss: (turn: number) => boolean): { miss: ControllerTurns; cached: ControllerTurns } {
  type Row = { first: number; last: number; ready: number; agent: number; tts: number; commands: number; streamed: boolean };
  const rows = { miss: [] as Row[], cached: [] as Row[] };
  for (const call of calls) {
    const ofTurn = (type: string, turn: number): number[] => call.kept.filter((e) => e.type === type && e.data.turn === turn && e.data.failed !== true).map((e) => e.atMs);
    for (const t of call.kept.filter((e) => e.type === 'turn_timing')) {
      const turn = Number(t.data.turn);
      const sent = ofTurn('prompt', turn);
      const spoken = ofTurn('sentence_speech', turn);
      const first = Number(t.data.totalMs);
      const firstAt = Math.min(...sent);
      const row = { first, last: first + Math.max(...sent) - firstAt, ready: first + Math.max(...spoken) - firstAt, agent: Number(t.data.agentMs), tts: Number(t.data.ttsMs), commands: sent.length, streamed: t.data.streamed === true };
      (isMiss(turn) ? rows.miss : rows.cached).push(row);
    }
  }
  const figures = (list: Row[]): ControllerTurns => {
    const perTurn: Record<string, number> = {};
    for (const r of list) perTurn[String(r.commands)] = (perTurn[String(r.commands)] ?? 0) + 1;
    return {
      turns: list.length,
      firstAudioCommandMs: summarize(list.map((r) => r.first)),
      lastSentenceCommandMs: summarize(list.filter((r) => r.commands > 0).map((r) => r.last)),
      lastSentenceReadyMs: summarize(list.filter((r) => r.commands > 0 && Number.isFinite(r.ready)).map((r) => r.ready)),
      agentMs: summarize(list.map((r) => r.agent)),
      ttsMs: summarize(list.map((r) => r.tts)),
      audioCommandsPerTurn: perTurn,
      streamed: list.filter((r) => r.streamed).length,
    };
  };
  return { miss: figures(rows.miss), cached: figures(rows.cached) };
}

function callerEars(turns: readonly CallerTurn[]): CallerEars {
  const heard = turns.filter((t) => t.firstAudioAt !== undefined);
  return {
    turns: heard.length,
    firstAudioMs: summarize(heard.map((t) => (t.firstAudioAt as number) - t.speechEndAt)),
    replyHeardMs: summarize(heard.filter((t) => t.replyEndAt !== undefined).map((t) => (t.replyEndAt as number) - t.speechEndAt)),
  };
}

async function pass(version: ContractVersion, request: StreamingBenchRequest): Promise<StreamingPass> {
  const stt = await SpeechmaticsPeer.start({ apiKey: STT_KEY, transcribeSpokenAudio: true });
  const tts = await GoogleTtsPeer.start({ apiKey: TTS_KEY, msPerChar: TTS_MS_PER_CHAR, maxDurationMs: Number.POSITIVE_INFINITY, latencyMs: TTS_SYNTHESIS_MS });
  const engine = new AiEngineChild();
  const controllerPort = await freePort();
  const simulator = new FreeSwitchSimulator({ eslPort: 0, password: 'ClueCon', socketTarget: { host: '127.0.0.1', port: controllerPort }, timeScale: 1, forkFramesOnClock: true });
  const controller = new ControllerChild();
  let watch: PlaybackWatch | undefined;
  try {
    const generated = generatedReplies(version, request);
    const { url: aiUrl } = await engine.request({ type: 'start', greeting: GREETING, reply: CACHED_REPLY, generated }, 'started', request.setupTimeoutMs);
    const { eslPort } = await simulator.start();
    watch = await PlaybackWatch.start(eslPort, 'ClueCon');
    const env = { ...(await voiceControllerEnv({ eslPort, controllerPort, stt, ttsUrl: tts.url, aiUrl })), AI_ENGINE_CONTRACT: version };
    await controller.request({ type: 'start', env }, 'started', request.setupTimeoutMs);

    debug(`${version}: controller started; warm-up call`);
    // Warm-up: one conversation answered with the cached reply puts it (and the greeting) into the TTS cache.
    await engine.request({ type: 'warmup', on: true }, 'warmup', 5000);
    const warm = simulator.placeCall({ from: '+15557779999', to: AI_LINE, say: [] });
    const warmTurns = await converse(warm, watch, { ...script(request, 1), rampMs: 0 }, 0);
    if (warmTurns[0]?.replyEndAt === undefined) throw new Error(`${version}: the warm-up call was not answered`);
    warm.hangup();
    await warm.ended;
    await engine.request({ type: 'warmup', on: false }, 'warmup', 5000);
    const ttsBefore = tts.requests.length;
    const engineBefore = await engine.turns();

    debug(`${version}: placing ${request.calls} calls`);
    await controller.request({ type: 'window', action: 'start' }, 'window', 5000);
    const calls: SimulatedCall[] = [];
    for (let i = 0; i < request.calls; i++) calls.push(simulator.placeCall({ from: `+1555${String(3_000_000 + i).slice(-7)}`, to: AI_LINE, say: [] }));
    const w = watch;
    const turns = await Promise.all(calls.map((call, i) => converse(call, w, script(request, request.missTurns + request.cachedTurns), i + 1)));
    const window = await controller.request({ type: 'window', action: 'end' }, 'window', 5000);
    const ttsRequests = tts.requests.length - ttsBefore;
    const engineTurns = (await engine.turns()) - engineBefore;

    debug(`${version}: conversations done; hanging up`);
    for (const call of calls) call.hangup('NORMAL_CLEARING');
    await Promise.all(calls.map((c) => c.ended));
    const stored = await controller.request({ type: 'calls', timeoutMs: request.setupTimeoutMs, keep: ['turn_timing', 'prompt', 'sentence_speech'] }, 'calls', request.setupTimeoutMs + 10_000);
    const ours = new Set(calls.map((c) => c.uuid));
    const measured = stored.calls.filter((c) => ours.has(c.fsUuid));
    const isMiss = (turn: number): boolean => turn <= request.missTurns;
    const said = turns.flat();
    const controllerFigures = controllerTurns(measured, isMiss);
    // A v2 run whose controller did not stream would be v1 measured against itself: say so instead of reporting
    // it. Judged on the new-words turns: a cached reply's first command can go out in the tick its chunk
    // arrives, before the reply's done is read, so the journal marks cached v1 turns streamed too.
    if (version === 'v2' && controllerFigures.miss.streamed === 0) throw new Error('contract v2: no reply of new words was streamed (does the controller read AI_ENGINE_CONTRACT?)');
    const journal: Record<string, number> = {};
    for (const type of WATCHED) journal[type] = measured.reduce((sum, c) => sum + (c.eventCounts[type] ?? 0), 0);
    // A sentence whose synthesis failed is not said (no fallback prompt is configured) but its turn is still timed.
    journal.sentence_speech_failed = measured.reduce((sum, c) => sum + c.kept.filter((e) => e.type === 'sentence_speech' && e.data.failed === true).length, 0);
    return {
      version,
      controller: controllerFigures,
      callers: { miss: callerEars(said.filter((t) => isMiss(t.turn))), cached: callerEars(said.filter((t) => !isMiss(t.turn))) },
      turnsSaid: said.length,
      unanswered: said.filter((t) => t.replyEndAt === undefined).length,
      ttsRequests,
      engineTurns,
      controllerCpuPercentOfOneCore: round((100 * (window.cpuMs ?? 0)) / (window.wallMs ?? 1), 1),
      controllerEventLoopDelayMs: { p99: window.eventLoopDelayMs?.p99 ?? NaN, max: window.eventLoopDelayMs?.max ?? NaN },
      journal,
      released: measured.filter((c) => c.released).length,
      registryAfter: stored.registryAfter,
      warnings: stored.warnings,
    };
  } finally {
    await controller.stop(10_000);
    await watch?.stop();
    await simulator.stop();
    await stt.close();
    await tts.close();
    await engine.stop(5000);
  }
}

async function run(request: StreamingBenchRequest): Promise<StreamingBenchResult> {
  const passes: StreamingPass[] = [];
  // One version after the other, each alone on the machine: the same callers, turns, words and pauses.
  for (const version of request.versions) passes.push(await pass(version, request));
  return {
    calls: request.calls,
    cpus: Math.min(cpus().length, availableParallelism()),
    settings: {
      sentences: request.sentences,
      firstSentenceMs: request.firstSentenceMs,
      sentenceGapMs: request.sentenceGapMs,
      v1ReplyAfterMs: engineDelayMs(generatedReplies('v1', request)),
      missTurns: request.missTurns,
      cachedTurns: request.cachedTurns,
      callerSayMs: CALLER_SAY_MS,
      quietMs: script(request, 0).quietMs,
      ttsMsPerChar: TTS_MS_PER_CHAR,
      ttsSynthesisMs: TTS_SYNTHESIS_MS,
    },
    passes,
  };
}

process.once('message', (request: StreamingBenchRequest) => {
  run(request).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error).stack ?? error) }, () => process.disconnect()),
  );
});
