// Streamed replies (AI engine contract v2) through the whole controller: the simulator plays what the
// controller sends it, the AI engine stand-in streams each reply sentence by sentence over real HTTP, the
// real Speechmatics and Google clients talk to their stand-ins. Each sentence is its own file, the first plays
// while the engine is still writing the rest, the reply's actions wait for its last sentence, and a caller
// who speaks over a reply has the engine told exactly what they heard of it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallEventRecord } from '../../src/core/call.ts';
import type { AgentReply } from '../../src/core/voice-ports.ts';
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { eventually, type Harness } from '../support/controller-harness.ts';
import { callEvents, eventTypes, repliesSaid } from '../support/conversation-probes.ts';
import { useVoiceHarness } from '../support/voice-peers.ts';

const AI_LINE = '+15559870100';
const CALLER = '+15557770123';
/** Three sentences; the second long enough (3 s of speech, 1.5 s at timeScale 0.5) to be talked over. */
const SENTENCES = [
  'Of course, I can help with that.',
  'Let me see which of our team members can best answer your question for you today.',
  'Please stay on the line.',
];
const TRANSFER = { type: 'transfer', target: 'operator', reason: 'caller asked for help', summary: 'Question for the front desk.' } as const;

const suite = useVoiceHarness();
const sessions = suite.sessions;
let engine: AiEnginePeer;
/** The engine's next turn replies, in order; then a short reply of its own. */
let replies: AgentReply[] = [];
/** At each turn the engine received: FreeSWITCH's playback_ms on the channel then. */
let playbackMsAtTurn: (string | undefined)[] = [];
let call: SimulatedCall | undefined;

// The first controller of the file fills the TTS cache with every fixed prompt (seconds on a busy machine):
// done once here, so no test's own time goes to it.
beforeAll(async () => {
  const h = await suite.start();
  await h.close();
});

beforeEach(async () => {
  replies = [];
  playbackMsAtTurn = [];
  call = undefined;
  engine = await AiEnginePeer.start({
    onTurn: () => {
      playbackMsAtTurn.push(call?.getVariable('playback_ms'));
      return replies.shift() ?? { say: 'All right.', actions: [] };
    },
  });
});

afterEach(async () => {
  await engine.close();
});

const start = (simulator: { fileRoot?: string } = {}): Promise<Harness> =>
  suite.start({ env: { AI_ENGINE_URL: engine.url, AI_ENGINE_CONTRACT: 'v2' }, simulator: { timeScale: 0.5, ...simulator } });

const ofTurn = (list: CallEventRecord[], type: string, turn: number): CallEventRecord[] => list.filter((e) => e.type === type && e.data.turn === turn);

describe('streamed replies through the whole controller (contract v2)', () => {
  it('plays a 3-sentence reply as 3 files in order, the first before the engine sent the last, and transfers only after the last was played', async () => {
    engine.sentenceGapMs = 300;
    replies = [{ say: SENTENCES.join(' '), actions: [TRANSFER] }];
    const h = await start();
    call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await repliesSaid(h, () => sessions[0], 1);
    call.say('I have a question');
    // The transfer's start is enough: the caller need not wait for a person to pick up.
    await eventually(async () => eventTypes((await h.controller.store.getCall(sessions[0]!.callId))?.events ?? []).includes('transfer_requested'), 'the transfer', 10_000);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);

    // One file per sentence, sent in order, each played to the caller to its end in that order.
    const prompts = ofTurn(list, 'prompt', 1);
    expect(prompts.map((e) => e.data.sentence)).toEqual([0, 1, 2]);
    const files = prompts.map((e) => e.data.file as string);
    expect(new Set(files).size).toBe(3);
    const heard = call.playbacks.filter((p) => files.some((f) => p.path.endsWith(`/${f}`)));
    expect(heard.map((p) => files.findIndex((f) => p.path.endsWith(`/${f}`)))).toEqual([0, 1, 2]);
    expect(heard.map((p) => p.status)).toEqual(['done', 'done', 'done']);

    // The first sentence's playback command went out before the engine had written the last sentence.
    const key = engine.requests.find((r) => r.path.endsWith('/turns'))?.idempotencyKey;
    const sentences = engine.sent.filter((s) => s.idempotencyKey === key && s.chunk.type === 'sentence');
    expect(sentences).toHaveLength(3);
    expect(prompts[0]!.monotonicMs).toBeLessThan(sentences[2]!.atMs);
    // The turn's timing says so: its first audio command went out while the engine was still generating.
    expect(ofTurn(list, 'turn_timing', 1)[0]?.data).toMatchObject({ streamed: true });

    // The transfer ran once the last sentence had played out: after the reply was said, never during it.
    const spoken = ofTurn(list, 'reply_spoken', 1)[0];
    expect(spoken?.data).toMatchObject({ sentences: 3, heard: 3, end: 'done' });
    const handOff = list.find((e) => e.type === 'hand_off');
    expect(handOff?.data).toMatchObject({ to: 'operator' });
    expect(handOff!.seq).toBeGreaterThan(spoken!.seq);
    expect(eventTypes(list)).not.toContain('barge_in');
  });

  it('tells the engine what the caller heard when they speak over the second sentence', async () => {
    replies = [{ say: SENTENCES.join(' '), actions: [] }];
    const h = await start();
    call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    const playing = (c: SimulatedCall): string[] => c.applications.filter((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true).map((a) => a.arg!);
    await repliesSaid(h, () => sessions[0], 1);
    call.say('I need to move my appointment');
    // The greeting and the first sentence played out; the second is playing now.
    await eventually(() => call!.playbacks.length === 2 && playing(call!).length === 3, 'the second sentence playing', 10_000);
    call.say('actually wait');
    await eventually(() => engine.turns.length === 2, "the caller's next turn at the engine", 10_000);
    await repliesSaid(h, () => sessions[0], 2);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);

    // FreeSWITCH broke the second sentence's playback and said how much of it had played.
    const cut = call.playbacks[2];
    expect(cut?.status).toBe('break');
    expect(cut?.path).toBe(playing(call)[2]);
    const playbackMs = Number(playbackMsAtTurn[1]);
    expect(playbackMs).toBeGreaterThan(0);
    expect(playbackMs).toBe(Math.round(cut!.playedMs));
    expect(engine.turns[0]?.interrupted).toBeUndefined();
    expect(engine.turns[1]).toMatchObject({ contract: 'v2', seq: 2 });
    expect(engine.turns[1]?.interrupted).toEqual({ played: [SENTENCES[0]], cut: { text: SENTENCES[1], playedMs: playbackMs }, unplayed: 1 });
    expect(eventTypes(list)).toContain('barge_in');
    // The third sentence was never sent to FreeSWITCH.
    expect(ofTurn(list, 'prompt', 1).map((e) => e.data.sentence)).toEqual([0, 1]);
  });

  it('does not count a sentence FreeSWITCH could not play as heard (FILE NOT FOUND)', async () => {
    replies = [{ say: SENTENCES.join(' '), actions: [] }];
    // A FreeSWITCH that does not see the controller's TTS cache: every playback fails FILE NOT FOUND.
    const elsewhere = await mkdtemp(join(tmpdir(), 'callbridge-fs-root-'));
    try {
      const h = await start({ fileRoot: elsewhere });
      call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
      await repliesSaid(h, () => sessions[0], 1);
      call.say('I have a question');
      await repliesSaid(h, () => sessions[0], 2);
      call.say('hello');
      await eventually(() => engine.turns.length === 2, "the caller's second turn at the engine", 10_000);
      call.hangup();
      const list = await callEvents(h, sessions[0]!);
      expect(call.applications.filter((a) => a.app === 'playback').map((a) => a.response)).toEqual(Array(4).fill('FILE NOT FOUND'));
      expect(call.playbacks).toEqual([]);
      // The engine hears that neither the greeting nor the 3-sentence reply reached the caller.
      expect(ofTurn(list, 'reply_spoken', 1)[0]?.data).toMatchObject({ sentences: 3, heard: 0, end: 'done' });
      expect(engine.turns[0]?.interrupted).toEqual({ played: [], cut: null, unplayed: 1 });
      expect(engine.turns[1]?.interrupted).toEqual({ played: [], cut: null, unplayed: 3 });
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
