// The voice benchmark's own process: the FreeSWITCH simulator at real-time pace (timeScale 1) and the
// local Speechmatics and Google TTS peers, with the controller in a child process and the AI engine peer in
// another. One clock for the frames: they leave the simulator's audio fork and reach the Speechmatics peer
// in this process.
//   1. forwarding: N calls answered by the AI, callers silent, every fork sending 50 frames/s;
//   2. talking: the same N callers hold conversations (a sentence, the agent's answer, again), the AI
//      engine answering at once with a sentence already in the TTS cache.
// Answers one VoiceBenchResult over IPC.
import { availableParallelism, cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../src/app/free-port.ts';
import { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';
import { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import { FreeSwitchSimulator, type SimulatedCall } from '../../src/simulator/simulator.ts';
import { createScratchDatabase } from '../calls/scratch-postgres.ts';
import { round, summarize, type Summary } from '../stats.ts';
import { AiEngineChild } from './ai-engine-protocol.ts';
import { AI_LINE, ControllerChild, GREETING, STT_KEY, TTS_KEY, voiceControllerEnv, type StoredCall, type WindowFigures } from './controller-protocol.ts';
import { FrameClock, type FrameWindowResult } from './frame-clock.ts';
import { Talkers } from './talkers.ts';

export interface VoiceBenchRequest {
  calls: number;
  forwardingSeconds: number;
  talkingSeconds: number;
  /** Wait after a window for frames still on their way (they count as lost if they do not arrive). */
  drainMs: number;
  setupTimeoutMs: number;
  /** undefined: embedded PGlite (the default); otherwise a Postgres server to make a scratch database on. */
  postgresAdminUrl?: string;
}

export interface PhaseResult {
  frames: FrameWindowResult;
  controller: WindowFigures & { cpuPercentOfOneCore: number };
  /** CPU of this process (simulator and peers) over the window, % of one core. */
  benchSideCpuPercentOfOneCore: number;
}

export interface VoiceBenchResult {
  calls: number;
  cpus: number;
  forwarding: PhaseResult;
  talking: PhaseResult;
  turns: {
    sentencesSaid: number;
    unanswered: number;
    timed: number;
    totalMs: Summary;
    agentMs: Summary;
    ttsMs: Summary;
    playbackMs: Summary;
    /** Synthesize requests that reached the Google peer during the measured calls (0: every prompt cached). */
    ttsRequests: number;
    aiEngineTurns: number;
  };
  /** Journal entries worth a look (restarts, overruns, lost audio, barge-ins), summed over the calls. */
  journal: Record<string, number>;
  released: number;
  registryAfter: number;
  logLines: number;
  warnings: { count: number; examples: string[] };
}

const REPLY = 'Okay, noted.';
const CALLER_SENTENCE = 'yes please';
const WATCHED = ['audio_fork_restart', 'audio_fork_overrun', 'audio_fork_buffer_overrun', 'caller_audio_lost', 'barge_in', 'hand_off', 'turn_input_dropped'];

/** Progress lines on stderr when BENCH_DEBUG is set (what a hung run was waiting for). */
const debug = (line: string): void => void (process.env.BENCH_DEBUG ? process.stderr.write(`[voice ${new Date().toISOString().slice(11, 23)}] ${line}\n`) : undefined);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * One measured window: frames on the wire, the controller's CPU and this process's CPU, and with `framePath`
 * every frame on the controller's clock too. Those subscribers run in the controller for every frame, so the
 * talking window goes without them: its turn latencies would carry their cost.
 */
async function measure(clock: FrameClock, controller: ControllerChild, seconds: number, drainMs: number, framePath: boolean): Promise<PhaseResult> {
  await controller.request({ type: 'window', action: 'start', framePath }, 'window', 5000);
  const ownCpu = process.cpuUsage();
  const started = performance.now();
  clock.startWindow();
  await sleep(seconds * 1000);
  const frames = clock.endWindow(drainMs);
  const own = process.cpuUsage(ownCpu);
  const wallMs = performance.now() - started;
  const figures = (await controller.request({ type: 'window', action: 'end' }, 'window', 5000)) as WindowFigures;
  return {
    frames: await frames,
    controller: { ...figures, cpuPercentOfOneCore: round((100 * figures.cpuMs) / figures.wallMs, 1) },
    benchSideCpuPercentOfOneCore: round((100 * (own.user + own.system)) / 1000 / wallMs, 1),
  };
}

async function run(request: VoiceBenchRequest): Promise<VoiceBenchResult> {
  const clock = new FrameClock();
  const stt = await SpeechmaticsPeer.start({ apiKey: STT_KEY, transcribeSpokenAudio: true, onAudio: clock.onPeerAudio });
  const tts = await GoogleTtsPeer.start({ apiKey: TTS_KEY });
  const ai = new AiEngineChild();
  const controllerPort = await freePort();
  const simulator = new FreeSwitchSimulator({
    eslPort: 0,
    password: 'ClueCon',
    socketTarget: { host: '127.0.0.1', port: controllerPort },
    timeScale: 1,
    onForkFrame: clock.onForkFrame,
    forkFramesOnClock: true,
  });
  const controller = new ControllerChild();
  const scratch = request.postgresAdminUrl === undefined ? undefined : await createScratchDatabase(request.postgresAdminUrl);
  try {
    const { url: aiUrl } = await ai.request({ type: 'start', greeting: GREETING, reply: REPLY }, 'started', request.setupTimeoutMs);
    const { eslPort } = await simulator.start();
    await controller.request(
      {
        type: 'start',
        env: {
          ...(await voiceControllerEnv({ eslPort, controllerPort, stt, ttsUrl: tts.url, aiUrl })),
          ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
        },
      },
      'started',
      request.setupTimeoutMs,
    );

    debug('controller started; warm-up call');
    // Warm-up: one short conversation puts the greeting and the reply into the controller's TTS cache.
    const warm = simulator.placeCall({ from: '+15557770000', to: AI_LINE, say: [] });
    await waitFor(() => warm.playbacks.length >= 1, request.setupTimeoutMs, 'the warm-up greeting');
    warm.say(CALLER_SENTENCE);
    await waitFor(() => warm.playbacks.length >= 2, request.setupTimeoutMs, 'the warm-up reply');
    warm.hangup();
    await warm.ended;
    debug('warm-up done; placing the calls');
    const ttsBefore = tts.requests.length;
    const aiTurnsBefore = await ai.turns();

    const calls: SimulatedCall[] = [];
    for (let i = 0; i < request.calls; i++) {
      calls.push(simulator.placeCall({ from: `+1555${String(2_000_000 + i).slice(-7)}`, to: AI_LINE, say: [] }));
    }
    await waitFor(() => calls.every((c) => c.listening && c.playbacks.length >= 1), request.setupTimeoutMs, 'every call greeted, its fork open');
    debug('every call greeted and forked; forwarding window');
    await sleep(1000);

    const forwarding = await measure(clock, controller, request.forwardingSeconds, request.drainMs, true);

    debug('forwarding window done; conversations start');
    const talkers = new Talkers(calls, { text: CALLER_SENTENCE, thinkMs: { min: 200, max: 800 }, rampMs: 1500 });
    talkers.start();
    await sleep(2000);
    const talking = await measure(clock, controller, request.talkingSeconds, request.drainMs, false);
    debug('talking window done; callers stop');
    const { unanswered } = await talkers.stop(10_000);
    const ttsRequests = tts.requests.length - ttsBefore;
    const aiEngineTurns = (await ai.turns()) - aiTurnsBefore;

    debug('hanging up');
    for (const call of calls) call.hangup('NORMAL_CLEARING');
    await Promise.all(calls.map((c) => c.ended));
    const stored = await controller.request({ type: 'calls', timeoutMs: request.setupTimeoutMs }, 'calls', request.setupTimeoutMs + 10_000);
    debug('calls read back');
    const ours = new Set(calls.map((c) => c.uuid));
    const measured: StoredCall[] = stored.calls.filter((c) => ours.has(c.fsUuid));
    const timings = measured.flatMap((c) => c.turnTimings);
    const journal: Record<string, number> = {};
    for (const type of WATCHED) journal[type] = measured.reduce((sum, c) => sum + (c.eventCounts[type] ?? 0), 0);
    return {
      calls: request.calls,
      cpus: Math.min(cpus().length, availableParallelism()),
      forwarding,
      talking,
      turns: {
        sentencesSaid: talkers.said,
        unanswered,
        timed: timings.length,
        totalMs: summarize(timings.map((t) => t.totalMs)),
        agentMs: summarize(timings.map((t) => t.agentMs)),
        ttsMs: summarize(timings.map((t) => t.ttsMs)),
        playbackMs: summarize(timings.map((t) => t.playbackMs)),
        ttsRequests,
        aiEngineTurns,
      },
      journal,
      released: measured.filter((c) => c.released).length,
      registryAfter: stored.registryAfter,
      logLines: stored.logLines,
      warnings: stored.warnings,
    };
  } finally {
    await controller.stop(10_000);
    await simulator.stop();
    await stt.close();
    await tts.close();
    await ai.stop(5000);
    await scratch?.drop().catch(() => undefined);
  }
}

process.once('message', (request: VoiceBenchRequest) => {
  run(request).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error).stack ?? error) }, () => process.disconnect()),
  );
});
