// `npm run demo`: the embedded default. Starts the FreeSWITCH simulator, local stand-ins for Speechmatics
// and Google TTS (speaking their real protocols to the real client libraries), and the controller (embedded
// PGlite unless DATABASE_URL is set); places scripted calls, some of which talk with the built-in agent;
// waits for every call to be released, and prints a per-call timeline read back from the database.
//
// Routing sees a fixed moment (a Wednesday morning in Charlotte, when the AI answers the main line), so the
// demo shows the same calls whatever the hour it runs at.
import { readdir } from 'node:fs/promises';
import type { CallEventRecord, CallWithEvents } from '../core/call.ts';
import { DrizzleRecordingStore, DrizzleTokenStore, openDatabase, type Database, type RecordingRow } from '../db/index.ts';
import type { Clock } from '../core/ports.ts';
import { AiEnginePeer } from '../peers/ai-engine-peer.ts';
import { GoogleTtsPeer } from '../peers/google-tts-peer.ts';
import { SpeechmaticsPeer } from '../peers/speechmatics-peer.ts';
import { SpeechmaticsBatchPeer } from '../peers/speechmatics-batch-peer.ts';
import { TwilioPeer } from '../peers/twilio-peer.ts';
import { FreeSwitchSimulator, type PlaceCallOptions, type SimulatedCall } from '../simulator/simulator.ts';
import type { CallSession, Pickup } from '../call/call-session.ts';
import type { Config } from './config.ts';
import { Controller } from './controller.ts';
import { freePort } from './free-port.ts';
import { createLogger, maskPhoneNumber } from './logger.ts';

interface DemoCall {
  title: string;
  call: PlaceCallOptions;
  /** Real ms after the demo starts. */
  atMs: number;
  /** What the caller does once connected (says things after prompts, presses digits). */
  script?: (call: SimulatedCall) => Promise<void>;
}

/** Wednesday 2 December 2026, 10:30 in Charlotte: open, and the main line is answered by the AI. */
const DEMO_INSTANT = Date.parse('2026-12-02T15:30:00Z');
const CHARLOTTE_MAIN = '+17045550100';
const STT_KEY = 'demo-speechmatics-key';
const TTS_KEY = 'demo-google-key';
const TWILIO_SID = `AC${'d'.repeat(32)}`;
const TWILIO_TOKEN = 'demo-twilio-token';
/** Encrypts the demo's transfer transcripts when no CALL_RECORDING_ENCRYPTION_KEY is set (demo data only). */
const DEMO_RECORDING_KEY = Buffer.alloc(32, 0x5a).toString('base64');
/** Simulated media runs at this fraction of real time (a 3 s prompt plays in 1.5 s). */
const TIME_SCALE = 0.5;

// Numbers from dialplan/routing.yaml.
const DEMO_CALLS: DemoCall[] = [
  {
    title: 'books an appointment with the AI agent',
    atMs: 0,
    call: { from: '+19195550001', to: CHARLOTTE_MAIN, say: [] },
    script: async (call) => {
      let heard = NOTICES_BEFORE_AGENT;
      for (const sentence of ['I would like to book an appointment', 'next Tuesday morning', 'yes', 'no thanks']) {
        heard = await agentReplied(call, heard);
        call.say(sentence);
      }
    },
  },
  {
    title: 'interrupts the greeting (barge-in) and asks for billing',
    atMs: 300,
    call: { from: '+19195550002', to: CHARLOTTE_MAIN, say: [], callerHangsUpAfterMs: 14_000 },
    script: async (call) => {
      await promptStarted(call, 1);
      await sleep(600);
      call.say('billing please');
    },
  },
  {
    title: 'presses 0 for a person during the greeting',
    atMs: 600,
    call: { from: '+19195550003', to: CHARLOTTE_MAIN, say: [], callerHangsUpAfterMs: 12_000 },
    script: async (call) => {
      await promptStarted(call, 1);
      await sleep(400);
      call.sendDtmf('0');
    },
  },
  {
    title: 'says an emergency phrase: escalated at once',
    atMs: 800,
    call: { from: '+19195550006', to: CHARLOTTE_MAIN, say: [], callerHangsUpAfterMs: 12_000 },
    script: async (call) => {
      await agentReplied(call, NOTICES_BEFORE_AGENT);
      call.say('I have chest pain and I feel dizzy');
    },
  },
  { title: 'hangs up early, during the recording notice', atMs: 900, call: { from: '+19195550004', to: CHARLOTTE_MAIN, say: [], callerHangsUpAfterMs: 800 } },
  { title: 'billing line (people first)', atMs: 1000, call: { from: '+19195550005', to: '+17045550102', callerHangsUpAfterMs: 6000 } },
  { title: 'blocked caller', atMs: 1100, call: { from: '+13055550199', to: CHARLOTTE_MAIN } },
];

const DEMO_DEADLINE_MS = 60_000;

export async function runDemo(config: Config): Promise<number> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const eslPort = await freePort();
  const speechmatics = await SpeechmaticsPeer.start({ apiKey: STT_KEY, transcribeSpokenAudio: true });
  const googleTts = await GoogleTtsPeer.start({ apiKey: TTS_KEY });
  const speechmaticsBatch = await SpeechmaticsBatchPeer.start({ apiKey: STT_KEY });
  const twilio = await TwilioPeer.start({ accountSid: TWILIO_SID, authToken: TWILIO_TOKEN });
  const startedAt = performance.now();
  const clock: Clock = {
    now: () => new Date(DEMO_INSTANT + (performance.now() - startedAt)),
    monotonicMs: () => performance.now(),
  };
  const services = { speechmatics, speechmaticsBatch, googleTts, twilio };
  let phase: DemoPhase | undefined;
  try {
    phase = await startPhase(config, { eslPort, logger, clock, services, aiEngineUrl: undefined, aiEngineContract: 'v1' });
    const { controller, simulator, sessions, pickups } = phase;
    await controller.waitForFreeSwitch({ timeoutMs: 5000 });
    const warm = await controller.voice?.prewarmed;
    print(`callbridge demo: FreeSWITCH simulator on 127.0.0.1:${eslPort}, controller socket on ` +
      `127.0.0.1:${controller.addresses.outboundSocket.port}, HTTP API on http://127.0.0.1:${controller.addresses.http.port} ` +
      `(database: ${config.database.url === undefined ? 'embedded PGlite' : 'Postgres'})`);
    print(`speech: local Speechmatics stand-in ${speechmatics.url}, local Google TTS stand-in ${googleTts.url}; ` +
      `${warm?.total ?? 0} agent prompts in the cache (${warm?.synthesized ?? 0} synthesized now)`);
    print(`text messages: local Twilio stand-in ${twilio.url}`);
    print(`routing sees ${new Date(DEMO_INSTANT).toISOString()} (Wednesday 10:30 in Charlotte); media at ${TIME_SCALE}× real time`);
    if (config.http.apiTokenGenerated) print(`API token for this run: ${config.http.apiToken ?? ''}`);
    print('');

    const sim = simulator;
    const placed = DEMO_CALLS.map(
      (demo) =>
        new Promise<{ demo: DemoCall; cause: string }>((resolve, reject) => {
          setTimeout(() => {
            const call = sim.placeCall(demo.call);
            demo.script?.(call).catch(reject);
            void call.ended.then((cause) => resolve({ demo, cause }));
          }, demo.atMs);
        }),
    );
    const results = await withDeadline(Promise.all(placed), DEMO_DEADLINE_MS, 'the demo calls did not finish');
    await withDeadline(Promise.all(sessions.map((s) => s.done)), DEMO_DEADLINE_MS, 'the controller did not release every call');

    let failures = 0;
    for (const [index, session] of sessions.entries()) {
      const stored = await controller.store.getCall(session.callId);
      const demo = results.find((r) => r.demo.call.from === session.record.fromNumber)?.demo;
      print(`call ${index + 1}: ${demo?.title ?? 'unscripted call'}`);
      if (stored === undefined) {
        print('  (not found in the database)');
        failures++;
        continue;
      }
      print(formatTimeline(stored, pickups.get(session)));
      if (stored.state !== 'ended') failures++;
    }
    if (twilio.messages.length > 0) {
      print('\ntext messages sent (numbers masked here):');
      for (const m of twilio.messages) print(`  to ${maskPhoneNumber(m.to)}: ${m.body}`);
    }
    await printTransferContext(controller, config.http.apiToken, sessions[1]);
    if (!(await printRecordings(controller, phase.database, config.recordingsDir, config.http.apiToken, sessions))) failures++;
    const left = controller.registry.size;
    print(`\n${sessions.length} calls handled, ${left} still active, ${failures} problems`);
    await phase.close();
    phase = undefined;

    // The engine failing on purpose logs a warning per retry and probe: at the demo's default level, only errors.
    const failoverLogger = config.log.level === 'warn' ? createLogger({ level: 'error', format: config.log.format }) : logger;
    const failover = await runFailoverPhase(config, { eslPort, logger: failoverLogger, clock, services });
    return failures === 0 && failover && left === 0 && sessions.length === DEMO_CALLS.length ? 0 : 1;
  } finally {
    await phase?.close();
    await speechmatics.close();
    await googleTts.close();
    await speechmaticsBatch.close();
    await twilio.close();
  }
}

interface DemoServices {
  speechmatics: SpeechmaticsPeer;
  /** Post-call transcription (in-process without REDIS_URL). */
  speechmaticsBatch: SpeechmaticsBatchPeer;
  googleTts: GoogleTtsPeer;
  twilio: TwilioPeer;
}

interface PhaseOptions {
  eslPort: number;
  logger: ReturnType<typeof createLogger>;
  clock: Clock;
  services: DemoServices;
  aiEngineUrl: string | undefined;
  aiEngineContract: 'v1' | 'v2';
}

interface DemoPhase {
  controller: Controller;
  database: Database;
  simulator: FreeSwitchSimulator;
  sessions: CallSession[];
  pickups: Map<CallSession, Pickup>;
  close(): Promise<void>;
}

/** FreeSWITCH first, as in production (the controller's first ESL connection then succeeds), then the controller. */
async function startPhase(config: Config, options: PhaseOptions): Promise<DemoPhase> {
  const { services } = options;
  const sessions: CallSession[] = [];
  const pickups = new Map<CallSession, Pickup>();
  const socketPort = await freePort();
  const simulator = new FreeSwitchSimulator({
    eslPort: options.eslPort,
    password: config.freeswitch.eslPassword,
    socketTarget: { host: '127.0.0.1', port: socketPort },
    timeScale: TIME_SCALE,
  });
  await simulator.start();
  // Opened here (the controller uses it, not owns it) so the demo can read what was recorded and transcribed.
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir });
  try {
    const controller = await Controller.start({
      database,
      config: {
        ...config,
        freeswitch: { ...config.freeswitch, eslPort: options.eslPort, reconnectMinMs: 50, reconnectMaxMs: 200 },
        controllerSocket: { host: '127.0.0.1', port: socketPort, advertisedHost: '127.0.0.1' },
        http: { ...config.http, port: 0 },
        voice: {
          ...config.voice,
          enabled: true,
          speechmatics: { ...config.voice.speechmatics, apiKey: STT_KEY, realtimeUrl: services.speechmatics.url, managementUrl: services.speechmatics.managementUrl },
          tts: { ...config.voice.tts, url: services.googleTts.url, apiKey: TTS_KEY },
          aiEngine: { ...config.voice.aiEngine, url: options.aiEngineUrl, deadlineMs: 1500, contract: options.aiEngineContract },
        },
        twilio: { enabled: true, accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, phoneNumber: '+17045550199', apiUrl: services.twilio.url },
        publicBaseUrl: config.publicBaseUrl ?? 'https://callbridge.practice.example',
        recordingKey: config.recordingKey ?? DEMO_RECORDING_KEY,
        speechmaticsBatchUrl: services.speechmaticsBatch.url,
      },
      logger: options.logger,
      clock: options.clock,
      onSession: (session) => sessions.push(session),
      onPickup: (session, pickup) => pickups.set(session, pickup),
    });
    return {
      controller,
      database,
      simulator,
      sessions,
      pickups,
      close: async () => {
        await controller.close();
        await simulator.stop();
        await database.close();
      },
    };
  } catch (error) {
    await simulator.stop();
    await database.close();
    throw error;
  }
}

/** What the person who picks up sees on their screen (the context API, with the operator's token). */
async function printTransferContext(controller: Controller, token: string | undefined, session: CallSession | undefined): Promise<void> {
  if (session === undefined || token === undefined) return;
  const response = await fetch(`http://127.0.0.1:${controller.addresses.http.port}/v1/calls/${session.callId}/context`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) return;
  const context = (await response.json()) as { targetName: string; reason: string; summary: string | null; outcome: string | null; durationMs: number | null; transcript: { speaker: string; text: string }[] | null };
  print(`\nwarm transfer of call 2, as the agent's screen shows it (GET /v1/calls/${session.callId}/context):`);
  print(`  to ${context.targetName}, because: ${context.reason}; outcome ${context.outcome ?? 'in progress'} after ${context.durationMs ?? '-'} ms`);
  if (context.summary !== null) print(`  summary: ${context.summary}`);
  for (const line of context.transcript ?? []) print(`  ${line.speaker}: ${line.text}`);
}

/**
 * The recordings of the demo's calls once the post-call job (in-process here, a worker with REDIS_URL) has
 * transcribed them: encrypted size and key, talk/silence figures (never the words); then a manager listens
 * to one with a stated reason, and the audit trail is verified.
 */
async function printRecordings(controller: Controller, database: Database, spoolDir: string, adminToken: string | undefined, sessions: readonly CallSession[]): Promise<boolean> {
  const store = new DrizzleRecordingStore(database.db);
  // A call's recording is encrypted and stored just after it ends: wait for the spool to empty.
  const spooled = async (): Promise<number> => (await readdir(spoolDir).catch(() => [])).filter((f) => f.endsWith('.wav')).length;
  const deadline = Date.now() + DEMO_DEADLINE_MS;
  while ((await spooled()) > 0 && Date.now() < deadline) await sleep(100);
  const recorded: { index: number; row: RecordingRow }[] = [];
  for (const [index, session] of sessions.entries()) {
    for (const row of await store.listByCall(session.callId)) recorded.push({ index, row });
  }
  print('\nrecordings (encrypted at rest; transcribed after the call by the post-call job):');
  if (recorded.length === 0) {
    print('  none stored');
    return false;
  }
  const allTranscribed = async (): Promise<boolean> => (await Promise.all(recorded.map(({ row }) => store.getTranscript(row.id)))).every((t) => t !== undefined);
  let transcribed = await allTranscribed();
  while (!transcribed && Date.now() < deadline) {
    await sleep(100);
    transcribed = await allTranscribed();
  }
  for (const { index, row } of recorded) {
    const transcript = await store.getTranscript(row.id);
    const stats = transcript?.stats as { channels?: { label: string; talkMs: number }[]; silenceMs?: number } | undefined;
    const talk = (stats?.channels ?? []).map((c) => `${c.label.toLowerCase()} talked ${(c.talkMs / 1000).toFixed(1)} s`).join(', ');
    print(
      `  call ${index + 1}: ${((row.durationMs ?? 0) / 1000).toFixed(1)} s, ${row.channels ?? '?'} channels at ${row.sampleRate ?? '?'} Hz, ` +
        `${Math.round(row.encryptedBytes / 1024)} KiB encrypted under ${row.keyId}, kept until ${row.retainUntil.toISOString().slice(0, 10)}; ` +
        (transcript === undefined ? 'not transcribed' : `transcript: ${transcript.wordCount} words; ${talk}, silence ${((stats?.silenceMs ?? 0) / 1000).toFixed(1)} s`),
    );
  }
  if (adminToken === undefined) return transcribed;

  const first = recorded[0]!.row;
  const base = `http://127.0.0.1:${controller.addresses.http.port}/v1`;
  const { secret } = await new DrizzleTokenStore({ db: database.db }).create({ name: 'demo manager', roles: ['manager'], expiresAt: new Date(Date.now() + 3_600_000) });
  const reason = encodeURIComponent('demo: quality review of a booking call');
  const played = await fetch(`${base}/recordings/${first.id}/audio?reason=${reason}`, { headers: { authorization: `Bearer ${secret}` } });
  const audio = Buffer.from(await played.arrayBuffer());
  const verified = (await (await fetch(`${base}/audit/verify`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { ok: boolean; checked: number };
  print(`  a manager plays call ${recorded[0]!.index + 1}'s recording with a stated reason: HTTP ${played.status}, ${audio.length} bytes of ${audio.subarray(0, 4).toString('ascii')} audio decrypted as it streamed (admins may not listen: HTTP 403 for them)`);
  print(`  audit trail: ${verified.checked} entries, hash chain ${verified.ok ? 'intact' : 'BROKEN'}`);
  return transcribed && played.ok && audio.length === first.plaintextBytes && verified.ok;
}

/**
 * Failover: a second run where the practice's AI engine answers the call, then goes down mid-call. Its
 * reply streams (contract v2), a sentence every 300 ms as a model generates them: the caller hears the first
 * while the rest is still coming. The built-in agent covers the next turn at once; failover sees the engine
 * failing, switches to ai-down and hands the caller to people with their context.
 */
async function runFailoverPhase(config: Config, options: Omit<PhaseOptions, 'aiEngineUrl' | 'aiEngineContract'>): Promise<boolean> {
  const engine = await AiEnginePeer.start({
    onStart: () => ({ say: "Hello, you've reached the practice's AI assistant. How can I help you today?", actions: [] }),
    onTurn: () => ({ say: 'Sure, I can book that for you. Let me look at the diary. What day and time would suit you?', actions: [] }),
    sentenceGapMs: 300,
  });
  const phase = await startPhase(config, { ...options, aiEngineUrl: engine.url, aiEngineContract: 'v2' });
  try {
    const { controller, simulator, sessions, pickups } = phase;
    await controller.waitForFreeSwitch({ timeoutMs: 5000 });
    await controller.voice?.prewarmed;
    print('\nfailover: the AI engine goes down in the middle of a call (its expected warnings are not shown)');
    const call = simulator.placeCall({ from: '+19195550009', to: CHARLOTTE_MAIN, say: [], callerHangsUpAfterMs: 40_000 });
    const greeted = await agentReplied(call, NOTICES_BEFORE_AGENT);
    call.say('I would like to book an appointment');
    await agentReplied(call, greeted);
    engine.behaviour = { kind: 'status', status: 500 };
    call.say('next Tuesday morning');
    await until(() => sessions[0]?.state === 'bridged');
    call.hangup();
    await withDeadline(Promise.all(sessions.map((s) => s.done)), DEMO_DEADLINE_MS, 'the failover call was not released');
    const stored = await controller.store.getCall(sessions[0]!.callId);
    if (stored !== undefined) print(formatTimeline(stored, pickups.get(sessions[0]!)));
    const ready = (await (await fetch(`http://127.0.0.1:${controller.addresses.http.port}/ready`)).json()) as {
      details: { system: { mode: string; changes: { at: number; from: string; to: string; reason: string }[] } };
    };
    for (const change of ready.details.system.changes) print(`  system mode ${change.from} → ${change.to}: ${change.reason}`);
    return stored?.state === 'ended' && ready.details.system.mode === 'ai-down';
  } finally {
    await phase.close();
    await engine.close();
  }
}

/**
 * Every scripted caller dials the Charlotte main line, whose recording notice (a synthesized WAV file like the
 * agent's own prompts) plays before the agent says anything: the agent's prompts are the WAV files after it.
 */
const NOTICES_BEFORE_AGENT = 1;

/**
 * The agent said a whole reply: it started a prompt after the first `started` ones, every prompt it started
 * has ended, and nothing started or ended for AGENT_QUIET_MS (a streamed reply is several files, the next one
 * queued while one plays). Resolves with the number of prompts started so far.
 */
async function agentReplied(call: SimulatedCall, started: number): Promise<number> {
  let last = '';
  let changedAt = Date.now();
  let now = started;
  await until(() => {
    now = call.applications.filter((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true).length;
    const ended = call.playbacks.filter((p) => p.path.endsWith('.wav')).length;
    if (`${now}/${ended}` !== last) {
      last = `${now}/${ended}`;
      changedAt = Date.now();
    }
    return now > started && ended >= now && Date.now() - changedAt >= AGENT_QUIET_MS;
  });
  return now;
}

/** Real ms without a new prompt after which a demo caller takes the agent's reply as finished. */
const AGENT_QUIET_MS = 500;

/** The agent's `count`th prompt has started playing. */
async function promptStarted(call: SimulatedCall, count: number): Promise<void> {
  await until(() => call.applications.filter((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true).length >= NOTICES_BEFORE_AGENT + count);
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + DEMO_DEADLINE_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the demo caller waited too long');
    await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function formatTimeline(call: CallWithEvents, pickup: Pickup | undefined): string {
  const latency =
    pickup === undefined
      ? 'no greeting (connected to people, or rejected)'
      : `first prompt command sent ${pickup.sinceAcceptMs.toFixed(2)} ms after FreeSWITCH's connection, ${pickup.sinceChannelDataMs.toFixed(2)} ms of controller processing`;
  const lines = [
    `  ${maskPhoneNumber(call.fromNumber)} → ${maskPhoneNumber(call.toNumber)}  id ${call.id}`,
    `  ended: ${call.hangupCause ?? '-'}; ${latency}`,
  ];
  const first = call.events[0];
  for (const event of call.events) {
    const t = first === undefined ? 0 : event.monotonicMs - first.monotonicMs;
    lines.push(`  +${t.toFixed(1).padStart(7)} ms  ${describe(event)}`);
  }
  return lines.join('\n');
}

function describe(event: CallEventRecord): string {
  const d = event.data;
  const change = event.fromState !== event.toState ? ` (${event.fromState ?? '-'} → ${event.toState ?? '-'})` : '';
  const cause = typeof d.cause === 'string' ? ` ${d.cause}` : '';
  const route = d.route as { target?: string; ringGroup?: string; rule?: string; reason?: string } | undefined;
  const routed = route === undefined ? '' : ` → ${route.target ?? '?'}${route.ringGroup ? ` "${route.ringGroup}"` : ''} by ${route.rule ?? '?'}: ${route.reason ?? ''}`;
  return `${event.type}${cause}${change}${routed}${conversationDetail(event)}`;
}

/** What the conversation events carry (never the words: lengths, files, timings). */
function conversationDetail(event: CallEventRecord): string {
  const d = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'prompt':
      return d.file === undefined ? ` (${String(d.app)})` : ` ${String(d.file).slice(0, 12)}…wav`;
    case 'caller_turn':
      return ` turn ${String(d.turn)}: ${String(d.chars)} characters heard, confidence ${String(d.confidence)}`;
    case 'agent_reply':
      return ` turn ${String(d.turn)}: ${String(d.chars)} characters${d.streamed === true ? ` streamed in ${count(d.sentences, 'sentence')}` : ''}${(d.actions as string[]).length > 0 ? `, then ${(d.actions as string[]).join(', ')}` : ''}`;
    case 'agent_sentence':
      return ` turn ${String(d.turn)} sentence ${Number(d.sentence) + 1}: ${String(d.chars)} characters, ${String(d.afterMs)} ms after the turn went to the agent`;
    case 'sentence_speech':
      return d.failed === true ? ` sentence ${Number(d.sentence) + 1}: not synthesized (fallback prompt)` : ` sentence ${Number(d.sentence) + 1}: ${d.cached === true ? 'cached' : `synthesized in ${String(d.ms)} ms`}`;
    case 'reply_spoken':
      return ` turn ${String(d.turn)}: ${String(d.heard)} of ${count(d.sentences, 'sentence')} heard`;
    case 'reply_heard':
      return ` the caller had heard ${count(d.played, 'sentence')}${d.cut === true ? ` and ${String(d.cutMs)} ms of the next` : ''} (told to the agent)`;
    case 'turn_timing':
      return ` end of speech → ${d.streamed === true ? 'first sentence playing' : 'playback'} ${String(d.totalMs)} ms (agent ${String(d.agentMs)}, speech ${String(d.ttsMs)}, command ${String(d.playbackMs)})`;
    case 'first_prompt_heard':
      return ` ${String(d.sinceAnswerMs)} ms after the answer`;
    case 'barge_in':
      return ' — the caller spoke: playback stopped';
    case 'hand_off':
      return ` to ${String(d.to)}: ${String(d.reason)}`;
    case 'transfer_requested':
      return ` (${String(d.to ?? d.reason ?? '')})`;
    case 'dtmf':
      return ` ${String(d.kind)}`;
    case 'emergency_detected':
      return ` by ${String(d.trigger)}${d.language === undefined ? '' : ` (${String(d.language)} phrase ${String(d.phrase)})`}`;
    case 'emergency':
      return ` — bridge command ${String(d.msToBridgeCommand)} ms after the trigger`;
    case 'transfer_bridged':
    case 'transfer_failed':
      return ` ${String(d.ms)} ms after the request`;
    default:
      return '';
  }
}

function count(n: unknown, noun: string): string {
  return `${String(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
