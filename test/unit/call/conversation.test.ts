// One AI conversation without a socket or a simulator: its FreeSWITCH commands go through the real
// ChannelControl onto RecordingEsl (the test completes each playback with the CHANNEL_EXECUTE_COMPLETE
// FreeSWITCH would send), speech is synthesized into a temporary cache by the real CachedTts, and the
// speech-to-text service and the AI engine are stand-ins at their ports, driven by the test.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Conversation, type HandOffRequest } from '../../../src/call/conversation.ts';
import type { ConversationVoice } from '../../../src/call/ports.ts';
import { SpokenText } from '../../../src/call/spoken-text.ts';
import { EmergencyPhrases, type EmergencyTrigger } from '../../../src/core/emergency.ts';
import type { AgentReply, AgentReplyChunk, ConversationEngine, ConversationTurn, SttEvent, SttStream } from '../../../src/core/voice-ports.ts';
import { ChannelControl } from '../../../src/esl/channel-control.ts';
import { EslHeaders, type EslEvent } from '../../../src/esl/protocol/index.ts';
import { RecordingEsl } from '../../../src/esl/recording-esl.ts';
import { createMetrics } from '../../../src/http/metrics.ts';
import { AudioForkServer } from '../../../src/voice/audio-fork/index.ts';
import { eventually } from '../../support/eventually.ts';
import { CachedTts } from '../../../src/voice/tts/index.ts';

const FS_UUID = '6f1c2a8e-0b1d-4e5f-9a7b-3c2d1e0f9a8b';
const GREETING = 'Hello, you have reached the practice.';

/** The AI engine at its port: a fixed greeting, each turn's reply streamed as the test gives it. */
class StandInEngine implements ConversationEngine {
  readonly turns: ConversationTurn[] = [];
  replies: AgentReplyChunk[][] = [];
  async start(): Promise<AgentReply> {
    return { say: GREETING, actions: [] };
  }
  async turn(): Promise<AgentReply> {
    throw new Error('asked as v1');
  }
  async *turnStream(_callId: string, turn: ConversationTurn): AsyncIterable<AgentReplyChunk> {
    this.turns.push(turn);
    yield* this.replies.shift() ?? [{ type: 'done' }];
  }
  async end(): Promise<void> {}
}

/** Speech-to-text at its port: the test says what the recogniser heard. */
class StandInStt {
  #listener: ((event: SttEvent) => void) | undefined;
  async start(): Promise<SttStream> {
    return {
      sendAudio: () => true,
      onEvent: (listener) => (this.#listener = listener),
      close: async () => undefined,
    };
  }
  heard(event: SttEvent): void {
    this.#listener?.(event);
  }
}

const sentences = (...texts: string[]): AgentReplyChunk[] => [...texts.map((text) => ({ type: 'sentence' as const, text })), { type: 'done' }];

interface Rig {
  conversation: Conversation;
  esl: RecordingEsl;
  engine: StandInEngine;
  stt: StandInStt;
  handOffs: HandOffRequest[];
  emergencies: EmergencyTrigger[];
  journal: { type: string; data: Record<string, unknown> }[];
  /** Files sent with `playback`, in order (the synthesized sentences). */
  played: () => string[];
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'callbridge-conversation-'));
  const http = createServer();
  const forks = new AudioForkServer({ server: http, logger: pino({ level: 'silent' }) });
  const logger = pino({ level: 'silent' });
  // 100 ms of silence per sentence is all the conversation needs from the synthesizer.
  const tts = new CachedTts({ synthesizer: { synthesize: async () => new Uint8Array(3200) }, cacheDir: dir });
  const engine = new StandInEngine();
  const stt = new StandInStt();
  const voice: ConversationVoice = {
    forks,
    forkBaseUrl: () => 'ws://127.0.0.1:8080',
    stt,
    tts,
    engine,
    engineStreams: true,
    vocabulary: [],
    voiceFor: () => 'en-US-Neural2-F',
    sampleRate: 16000,
    fallbackPrompt: () => undefined,
    holdingPhrase: () => 'One moment please.',
    phrases: () => ({ cannotHear: 'I cannot hear you.', connecting: 'Connecting you.', emergency: 'Connecting you to our staff now.' }),
    maxForkRestarts: 0,
    bargeInMinSpeechMs: 200,
    metrics: createMetrics({ defaultMetrics: false }),
  };
  const esl = new RecordingEsl();
  const handOffs: HandOffRequest[] = [];
  const emergencies: EmergencyTrigger[] = [];
  const journal: Rig['journal'] = [];
  const conversation = new Conversation({
    callId: 'call-1',
    fsUuid: FS_UUID,
    channel: new ChannelControl(esl),
    pipeline: voice,
    speech: new SpokenText({ voice: { tts, voiceFor: voice.voiceFor, sampleRate: 16000 }, language: 'en-US', logger }),
    start: { callId: 'call-1', caller: '', did: '+15559870100', location: null, language: 'en-US', routing: { rule: 'main', reason: 'open', messageOnly: false } },
    operatorDigit: '0',
    emergencyEscape: '9',
    emergencyPhrases: new EmergencyPhrases({ en: ['chest pain'], es: [] }),
    clock: { now: () => new Date(), monotonicMs: () => performance.now() },
    logger,
    journal: (type, data) => journal.push({ type, data }),
    hooks: {
      onFirstPromptSent: () => undefined,
      onGreetingDone: () => undefined,
      onHandOff: (request) => handOffs.push(request),
      onHangup: () => undefined,
      onEmergency: (trigger) => emergencies.push(trigger),
    },
  });
  cleanups.push(async () => {
    await conversation.stop('test over');
    esl.close();
    await forks.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 5 });
  });
  conversation.prepare();
  conversation.answered();
  const played = (): string[] => esl.commands.filter((c) => c.kind === 'execute' && c.text.startsWith('playback ')).map((c) => c.text.slice('playback '.length));
  return { conversation, esl, engine, stt, handOffs, emergencies, journal, played };
}

/**
 * FreeSWITCH reports the playback in progress played to its end (or, cut, how much of it played); the
 * conversation hears of it before anything the test does next, as the event arrives before later ones.
 */
async function playbackEnds(esl: RecordingEsl, playedMs = 100): Promise<void> {
  esl.complete('playback', { 'Application-Response': 'FILE PLAYED', variable_playback_ms: String(playedMs) });
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function dtmf(digit: string): EslEvent {
  return { name: 'DTMF', subclass: undefined, uniqueId: FS_UUID, headers: new EslHeaders([['Event-Name', 'DTMF'], ['DTMF-Digit', digit]]), body: undefined, format: 'plain' };
}

/** The caller says `text` and stops: final transcript, then the recogniser's end of utterance. */
function callerSays(stt: StandInStt, text: string): void {
  stt.heard({ type: 'final', text, confidence: 0.95, startSec: 0, endSec: 1 });
  stt.heard({ type: 'end_of_utterance', atSec: 1.2 });
}

describe('Conversation (through the recording ESL fake)', () => {
  it('greets, forks the caller audio, and plays a streamed reply one sentence at a time, in order', async () => {
    const r = await rig();
    await eventually(() => r.played().length === 1, 'the greeting playback');
    expect(r.esl.sent('api')).toEqual([expect.stringMatching(new RegExp(`^uuid_audio_fork ${FS_UUID} start ws://127\\.0\\.0\\.1:8080/\\S+ mono 16k$`))]);
    await playbackEnds(r.esl);

    r.engine.replies.push(sentences('Sure, I can help.', 'What day suits you?'));
    callerSays(r.stt, 'I would like an appointment');
    await eventually(() => r.played().length === 2, 'the first sentence playing');
    expect(r.engine.turns.map((t) => t.text)).toEqual(['I would like an appointment']);
    // The second sentence waits for the first to end: one file at a time, never over each other.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.played()).toHaveLength(2);
    await playbackEnds(r.esl);
    await eventually(() => r.played().length === 3, 'the second sentence playing');
    expect(new Set(r.played()).size).toBe(3);
    await playbackEnds(r.esl);
    await eventually(() => r.journal.some((e) => e.type === 'reply_spoken' && e.data.turn === 1), 'the reply spoken');
    expect(r.journal.find((e) => e.type === 'reply_spoken' && e.data.turn === 1)?.data).toMatchObject({ sentences: 2, heard: 2 });
    expect(r.esl.sent('api').some((c) => c.startsWith('uuid_break'))).toBe(false);
  });

  it('a caller who speaks over the reply stops it, and the next turn tells the engine what they heard', async () => {
    const r = await rig();
    await eventually(() => r.played().length === 1, 'the greeting playback');
    await playbackEnds(r.esl);
    r.engine.replies.push(sentences('Sure, I can help.', 'We have Tuesday at nine.', 'Or Wednesday at ten.'));
    callerSays(r.stt, 'I would like an appointment');
    await eventually(() => r.played().length === 2, 'sentence 1 playing');
    await playbackEnds(r.esl);
    await eventually(() => r.played().length === 3, 'sentence 2 playing');

    r.stt.heard({ type: 'partial', text: 'actually', startSec: 3, endSec: 3.4 });
    await eventually(() => r.esl.sent('api').includes(`uuid_break ${FS_UUID} all`), 'the playback broken');
    // FreeSWITCH's report of the broken playback: how much of sentence 2 the caller heard.
    await playbackEnds(r.esl, 640);
    r.engine.replies.push(sentences('No problem.'));
    callerSays(r.stt, 'actually I need Friday');
    await eventually(() => r.engine.turns.length === 2, 'the next turn at the engine');
    expect(r.engine.turns[1]?.interrupted).toEqual({ played: ['Sure, I can help.'], cut: { text: 'We have Tuesday at nine.', playedMs: 640 }, unplayed: 1 });
    expect(r.journal.filter((e) => e.type === 'barge_in')).toHaveLength(1);
  });

  it('the operator digit stops the greeting and hands the caller to a person', async () => {
    const r = await rig();
    await eventually(() => r.played().length === 1, 'the greeting playback');
    r.conversation.onEslEvent(dtmf('0'));
    await eventually(() => r.handOffs.length === 1, 'the hand-off');
    expect(r.handOffs[0]).toMatchObject({ name: 'operator' });
    expect(r.esl.sent('api')).toContain(`uuid_break ${FS_UUID} all`);
    expect(r.engine.turns).toEqual([]);
  });

  it('an emergency phrase in a partial transcript escalates at once and never reaches the engine', async () => {
    const r = await rig();
    await eventually(() => r.played().length === 1, 'the greeting playback');
    r.stt.heard({ type: 'partial', text: 'I have chest pain', startSec: 1, endSec: 2 });
    await eventually(() => r.emergencies.length === 1, 'the emergency');
    expect(r.emergencies[0]).toMatchObject({ kind: 'phrase', language: 'en' });
    await r.conversation.interruptForEmergency(r.emergencies[0]!);
    expect(r.esl.sent('api')).toContain(`uuid_break ${FS_UUID} all`);
    // "Connecting you to our staff now" is queued (the emergency bridge follows it), not awaited.
    expect(r.esl.commands.filter((c) => c.kind === 'executeAsync').map((c) => c.text)).toEqual([expect.stringMatching(/^playback \S+\.wav$/)]);
    callerSays(r.stt, 'please hurry');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.engine.turns).toEqual([]);
  });
});
