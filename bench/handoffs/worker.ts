// The hand-off benchmark's own process: the FreeSWITCH simulator at real-time pace (timeScale 1, forks paced
// on their own 20 ms clocks) with the local Speechmatics, Google TTS and Twilio peers; the controller in a
// child process (bench/voice/controller-child.ts) and the AI engine peer in another.
//   1. emergencies: N AI conversations, every caller listening (greeting heard), then all of them say a
//      sentence with an emergency phrase in the same moment;
//   2. transfers: M AI conversations, every caller listening, then all of them press the operator digit in
//      the same moment (a warm transfer each: hold music, the agent's leg, the whisper, uuid_bridge).
// Each call's figure comes from the controller's journal, read back from its database after the calls
// ended; the wire view (the caller's action → what FreeSWITCH did) is timed in this process.
// Answers one HandoffBenchResult over IPC.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { freePort } from '../../src/app/free-port.ts';
import { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';
import { SpeechmaticsBatchPeer } from '../../src/peers/speechmatics-batch-peer.ts';
import { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import { TwilioPeer } from '../../src/peers/twilio-peer.ts';
import { FreeSwitchSimulator, type SimulatedCall } from '../../src/simulator/simulator.ts';
import { utteranceDurationMs } from '../../src/simulator/spoken-audio.ts';
import { round, summarize, type Summary } from '../stats.ts';
import { AiEngineChild } from '../voice/ai-engine-protocol.ts';
import { AI_LINE, ControllerChild, GREETING, STT_KEY, TTS_KEY, voiceControllerEnv, type StoredCall, type WindowFigures } from '../voice/controller-protocol.ts';
import { WireWatch } from './wire-watch.ts';

export interface HandoffBenchRequest {
  emergencyCalls: number;
  transferCalls: number;
  setupTimeoutMs: number;
  /** Longest wait, after the callers' action, for every call's bridge. */
  bridgeTimeoutMs: number;
}

/** The controller over a phase: from the callers' action until every call was bridged (or the wait ended). */
export type PhaseCpu = WindowFigures & { cpuPercentOfOneCore: number };

export interface EmergencyResult {
  calls: number;
  /** Calls whose journal holds `emergency` (the bridge command was written). */
  escalated: number;
  /** journal `emergency.data.msToBridgeCommand`: trigger → bridge command written. */
  triggerToBridgeCommandMs: Summary;
  /** Where that time goes (journal times): phrase spotted → "connecting you" queued (TTS cache lookup) … */
  detectedToPromptMs: Summary;
  /** … → `emergency` entry (bridge command written). */
  promptToBridgeCommandMs: Summary;
  /** First to last phrase spotted over the calls: how close together the escalations came. */
  detectedSpreadMs: number;
  /** Wire: the caller starts the sentence → FreeSWITCH starts the `bridge` application. */
  speechToBridgeAppMs: Summary;
  /** Wire: the caller starts the sentence → bridged (the emergency target answered). */
  speechToBridgedMs: Summary;
  /** Emergency texts that reached the Twilio peer. */
  alertTexts: number;
  controller: PhaseCpu;
}

export interface TransferResult {
  calls: number;
  requested: number;
  bridged: number;
  failed: number;
  /** journal `transfer_bridged.data.ms`: transfer requested → caller bridged to the agent. */
  requestToBridgedMs: Summary;
  /** Wire: the caller presses 0 → CHANNEL_BRIDGE of the caller with the agent's leg. */
  dtmfToBridgedMs: Summary;
  controller: PhaseCpu;
}

export interface HandoffBenchResult {
  emergencies: EmergencyResult;
  transfers: TransferResult;
  settings: { agentAnswerMs: number; promptMaxMs: number; emergencySentence: string; sentenceMs: number };
  released: number;
  registryAfter: number;
  warnings: { count: number; examples: string[] };
}

const TWILIO = { accountSid: `AC${'2'.repeat(32)}`, authToken: 'bench-twilio-token' };
const STAFF = ['+15550000170', '+15550000171'];
/**
 * The phrase comes in the sentence's fourth word of eight: the Speechmatics peer's partials (every 300 ms of
 * audio, the words said so far) carry it well before the final transcript.
 */
const EMERGENCY_SENTENCE = 'I have chest pain and I feel dizzy';
/** The simulated agents' phones (and the emergency target) answer after this long. */
const AGENT_ANSWER_MS = 50;
/**
 * Every prompt the TTS peer makes lasts at most this long: the whisper to the agent and the caller's "I'm
 * connecting you" both delay the bridge in FreeSWITCH by their length.
 */
const PROMPT_MAX_MS = 300;
const KEEP = ['emergency_detected', 'prompt', 'emergency', 'transfer_requested', 'transfer_bridged', 'transfer_failed'];

const debug = (line: string): void => void (process.env.BENCH_DEBUG ? process.stderr.write(`[handoffs ${new Date().toISOString().slice(11, 23)}] ${line}\n`) : undefined);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Waits like waitFor, but a timeout is a figure (calls not bridged), not a failure. */
const waitUpTo = (check: () => boolean, timeoutMs: number): Promise<void> => waitFor(check, timeoutMs, '').catch(() => undefined);

type Kept = StoredCall['kept'][number];

const emergencyPrompt = (e: Kept): boolean => e.type === 'prompt' && e.data.emergency === true;

/** Per call: from its first journal entry matching `from` to the first matching `to` after it (ms). */
function journalIntervals(calls: readonly StoredCall[], from: (e: Kept) => boolean, to: (e: Kept) => boolean): number[] {
  const values: number[] = [];
  for (const call of calls) {
    const a = call.kept.find(from);
    const b = a && call.kept.find((e) => e.atMs >= a.atMs && to(e));
    if (a !== undefined && b !== undefined) values.push(round(b.atMs - a.atMs));
  }
  return values;
}

/** Wire intervals: from each call's action to its event, for the calls that got there. */
function intervals(calls: readonly SimulatedCall[], from: ReadonlyMap<string, number>, to: ReadonlyMap<string, number>): Summary {
  const values: number[] = [];
  for (const call of calls) {
    const a = from.get(call.uuid);
    const b = to.get(call.uuid);
    if (a !== undefined && b !== undefined) values.push(b - a);
  }
  return summarize(values);
}

async function run(request: HandoffBenchRequest): Promise<HandoffBenchResult> {
  const stt = await SpeechmaticsPeer.start({ apiKey: STT_KEY, transcribeSpokenAudio: true });
  // Recorded calls are transcribed after they end (in-process here, without Redis): never by the real service.
  const batch = await SpeechmaticsBatchPeer.start({ apiKey: STT_KEY });
  const tts = await GoogleTtsPeer.start({ apiKey: TTS_KEY, maxDurationMs: PROMPT_MAX_MS });
  const twilio = await TwilioPeer.start(TWILIO);
  const ai = new AiEngineChild();
  const controllerPort = await freePort();
  const agent = { kind: 'answer', answerAfterMs: AGENT_ANSWER_MS } as const;
  const simulator = new FreeSwitchSimulator({
    eslPort: 0,
    password: 'ClueCon',
    socketTarget: { host: '127.0.0.1', port: controllerPort },
    timeScale: 1,
    forkFramesOnClock: true,
    endpoints: { 'gateway/threecx': agent },
    defaultEndpoint: agent,
  });
  const controller = new ControllerChild();
  let watch: WireWatch | undefined;
  try {
    const { url: aiUrl } = await ai.request({ type: 'start', greeting: GREETING, reply: 'Okay, noted.' }, 'started', request.setupTimeoutMs);
    const { eslPort } = await simulator.start();
    watch = await WireWatch.start(eslPort, 'ClueCon');
    const wire = watch;
    await controller.request(
      {
        type: 'start',
        env: {
          ...(await voiceControllerEnv({ eslPort, controllerPort, stt, ttsUrl: tts.url, aiUrl })),
          SPEECHMATICS_BATCH_URL: batch.url,
          TWILIO_ACCOUNT_SID: TWILIO.accountSid,
          TWILIO_AUTH_TOKEN: TWILIO.authToken,
          TWILIO_PHONE_NUMBER: '+15550000199',
          TWILIO_API_URL: twilio.url,
          EMERGENCY_NOTIFICATION_SMS: STAFF.join(','),
          PUBLIC_BASE_URL: 'https://calls.practice.example',
          // Transcripts go with the transfer record (encrypted), as in production.
          CALL_RECORDING_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        },
      },
      'started',
      request.setupTimeoutMs,
    );

    let caller = 0;
    const placeListening = async (n: number): Promise<SimulatedCall[]> => {
      const calls: SimulatedCall[] = [];
      for (let i = 0; i < n; i++) calls.push(simulator.placeCall({ from: `+1555${String(3_000_000 + caller++).slice(-7)}`, to: AI_LINE, say: [] }));
      await waitFor(() => calls.every((c) => c.listening && c.playbacks.length >= 1), request.setupTimeoutMs, 'every caller greeted and listened to');
      return calls;
    };
    const hangUp = async (calls: readonly SimulatedCall[]): Promise<void> => {
      for (const call of calls) call.hangup('NORMAL_CLEARING');
      await Promise.all(calls.map((c) => c.ended));
    };
    const window = async <T>(action: () => Promise<T>): Promise<{ value: T; cpu: PhaseCpu }> => {
      await controller.request({ type: 'window', action: 'start' }, 'window', 5000);
      const value = await action();
      const figures = (await controller.request({ type: 'window', action: 'end' }, 'window', 5000)) as WindowFigures;
      return { value, cpu: { ...figures, cpuPercentOfOneCore: round((100 * figures.cpuMs) / figures.wallMs, 1) } };
    };

    // Warm-up: one emergency and one transfer put the "connecting you" sentence and the whisper into the
    // controller's TTS cache (every call says the same), and run both paths once.
    debug('controller started; warm-up calls');
    const [warmEmergency, warmTransfer] = await placeListening(2);
    warmEmergency?.say(EMERGENCY_SENTENCE);
    warmTransfer?.sendDtmf('0');
    await waitFor(() => wire.bridgedAt.has(warmEmergency?.uuid ?? '') && wire.bridgedAt.has(warmTransfer?.uuid ?? ''), request.setupTimeoutMs, 'the warm-up bridges');
    await hangUp([warmEmergency, warmTransfer].filter((c) => c !== undefined));
    const textsBefore = twilio.messages.length;

    debug(`placing ${request.emergencyCalls} calls for the emergencies`);
    const emergencyCalls = await placeListening(request.emergencyCalls);
    await sleep(1000);
    debug('every caller listening; all say the emergency sentence');
    const spokeAt = new Map<string, number>();
    const emergencyPhase = await window(async () => {
      for (const call of emergencyCalls) {
        spokeAt.set(call.uuid, performance.now());
        call.say(EMERGENCY_SENTENCE);
      }
      await waitUpTo(() => emergencyCalls.every((c) => wire.bridgedAt.has(c.uuid)), request.bridgeTimeoutMs);
    });
    // The texts go out after the bridge command, in the background.
    await waitUpTo(() => twilio.messages.length - textsBefore >= STAFF.length * request.emergencyCalls, 10_000);
    const alertTexts = twilio.messages.length - textsBefore;
    await hangUp(emergencyCalls);
    await sleep(1000);

    debug(`placing ${request.transferCalls} calls for the transfers`);
    const transferCalls = await placeListening(request.transferCalls);
    await sleep(1000);
    debug('every caller listening; all press 0');
    const pressedAt = new Map<string, number>();
    const transferPhase = await window(async () => {
      for (const call of transferCalls) {
        pressedAt.set(call.uuid, performance.now());
        call.sendDtmf('0');
      }
      await waitUpTo(() => transferCalls.every((c) => wire.bridgedAt.has(c.uuid)), request.bridgeTimeoutMs);
    });
    await hangUp(transferCalls);

    debug('reading the journal back');
    const stored = await controller.request({ type: 'calls', timeoutMs: request.setupTimeoutMs, keep: KEEP }, 'calls', request.setupTimeoutMs + 10_000);
    const byUuid = new Map(stored.calls.map((c) => [c.fsUuid, c]));
    const journalOf = (calls: readonly SimulatedCall[]): StoredCall[] => calls.flatMap((c) => byUuid.get(c.uuid) ?? []);
    const entries = (calls: readonly StoredCall[], type: string): Record<string, unknown>[] => calls.flatMap((c) => c.kept.filter((e) => e.type === type).map((e) => e.data));
    const emergencyJournal = journalOf(emergencyCalls);
    const transferJournal = journalOf(transferCalls);
    const emergencies = entries(emergencyJournal, 'emergency');
    const detectedAt = emergencyJournal.flatMap((c) => c.kept.find((e) => e.type === 'emergency_detected')?.atMs ?? []);
    const bridged = entries(transferJournal, 'transfer_bridged');
    const measured = [...emergencyJournal, ...transferJournal];
    return {
      emergencies: {
        calls: request.emergencyCalls,
        escalated: emergencies.length,
        triggerToBridgeCommandMs: summarize(emergencies.map((d) => Number(d.msToBridgeCommand))),
        detectedToPromptMs: summarize(journalIntervals(emergencyJournal, (e) => e.type === 'emergency_detected', emergencyPrompt)),
        promptToBridgeCommandMs: summarize(journalIntervals(emergencyJournal, emergencyPrompt, (e) => e.type === 'emergency')),
        detectedSpreadMs: detectedAt.length === 0 ? NaN : round(Math.max(...detectedAt) - Math.min(...detectedAt), 1),
        speechToBridgeAppMs: intervals(emergencyCalls, spokeAt, wire.bridgeAppAt),
        speechToBridgedMs: intervals(emergencyCalls, spokeAt, wire.bridgedAt),
        alertTexts,
        controller: emergencyPhase.cpu,
      },
      transfers: {
        calls: request.transferCalls,
        requested: entries(transferJournal, 'transfer_requested').length,
        bridged: bridged.length,
        failed: entries(transferJournal, 'transfer_failed').length,
        requestToBridgedMs: summarize(bridged.map((d) => Number(d.ms))),
        dtmfToBridgedMs: intervals(transferCalls, pressedAt, wire.bridgedAt),
        controller: transferPhase.cpu,
      },
      settings: { agentAnswerMs: AGENT_ANSWER_MS, promptMaxMs: PROMPT_MAX_MS, emergencySentence: EMERGENCY_SENTENCE, sentenceMs: utteranceDurationMs(EMERGENCY_SENTENCE) },
      released: measured.filter((c) => c.released).length,
      registryAfter: stored.registryAfter,
      warnings: stored.warnings,
    };
  } finally {
    await watch?.stop();
    await controller.stop(10_000);
    await simulator.stop();
    await stt.close();
    await batch.close();
    await tts.close();
    await twilio.close();
    await ai.stop(5000);
  }
}

process.once('message', (request: HandoffBenchRequest) => {
  run(request).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error).stack ?? error) }, () => process.disconnect()),
  );
});
