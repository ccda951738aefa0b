// The AI conversation end to end: a simulated caller speaks (the simulator's spoken-audio codec on the
// forked audio), mod_audio_fork's stand-in sends it to our real WebSocket endpoint, our Speechmatics client
// streams it to a local peer that speaks the real-time protocol and transcribes it, the built-in agent
// replies through the engine contract, the real Google client synthesizes against a local peer, and the
// simulator plays the resulting WAV files to the caller — with barge-in, digits and hand-offs.
import { beforeAll, describe, expect, it } from 'vitest';
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import type { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';
import type { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import type { TwilioPeer } from '../../src/peers/twilio-peer.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { eventually, type Harness } from '../support/controller-harness.ts';
import { bridgedToPerson, callEvents, eventTypes, repliesSaid } from '../support/conversation-probes.ts';
import { STAFF_NUMBERS as STAFF, useVoiceHarness } from '../support/voice-peers.ts';

const AI_LINE = '+15559870100';
const CALLER = '+15557770123';

const suite = useVoiceHarness();
let stt: SpeechmaticsPeer;
let tts: GoogleTtsPeer;
let twilio: TwilioPeer;
const sessions = suite.sessions;

beforeAll(() => {
  ({ stt, tts, twilio } = suite.peers);
});

const start = (env: Record<string, string> = {}, simulator: { timeScale?: number } = {}): Promise<Harness> => suite.start({ env, simulator });

const heardReplies = (h: Harness, count: number): Promise<void> => repliesSaid(h, () => sessions[0], count);

/** Waits until the caller has heard `count` prompts to their end (or to a break). */
async function heardPrompts(call: SimulatedCall, count: number): Promise<void> {
  await eventually(() => call.playbacks.length >= count, `${count} prompts played to the caller`, 10_000);
}

describe('AI conversation', () => {
  it('books an appointment by voice: greeting, four caller turns, confirmation, goodbye and hang-up', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await heardReplies(h, 1);
    call.say('I would like to book an appointment');
    await heardReplies(h, 2);
    call.say('next Tuesday morning');
    await heardReplies(h, 3);
    call.say('yes');
    await heardReplies(h, 4);
    call.say('no thanks');
    expect(await call.ended).toBe('NORMAL_CLEARING');

    const session = sessions[0]!;
    const list = await callEvents(h, session);
    expect(eventTypes(list).filter((t) => t === 'caller_turn')).toHaveLength(4);
    expect(eventTypes(list)).toContain('turn_timing');
    expect(eventTypes(list)).toContain('agent_ended_call');
    expect(eventTypes(list)).not.toContain('barge_in');
    // Five replies (the greeting, four answers), each heard to its end, every sentence of each its own file.
    const replies = list.filter((e) => e.type === 'reply_spoken');
    expect(replies).toHaveLength(5);
    expect(replies.every((e) => e.data.heard === e.data.sentences && e.data.end === 'done')).toBe(true);
    const said = list.filter((e) => e.type === 'prompt').map((e) => e.data.file);
    expect(said).toHaveLength(replies.reduce((n, e) => n + (e.data.sentences as number), 0));
    expect(call.playbacks.slice(0, -1).every((p) => p.status === 'done')).toBe(true);
    // The caller's words reached the recogniser as audio and came back as the right intent: the agent asked
    // for a day, then confirmed the preference it heard.
    const texts = tts.requests.map((r) => r.input.text ?? r.input.ssml ?? '');
    expect(texts.some((t) => t.startsWith('I have a request for next Tuesday morning.'))).toBe(true);
    // The agent's confirmation text went to the caller: the template's words and the day asked for, no more.
    await eventually(() => twilio.messages.some((m) => m.to === CALLER), 'the confirmation text');
    expect(twilio.messages.find((m) => m.to === CALLER)?.body).toMatch(/^Test Practice: we received your appointment request/);
    // Nothing the caller said is in the journal.
    expect(JSON.stringify(list)).not.toMatch(/Tuesday|morning|book an/i);
    // The session asked for the medical vocabulary.
    const recognition = stt.sessions.at(-1)?.start as { transcription_config?: { additional_vocab?: { content: string }[] } };
    expect(recognition.transcription_config?.additional_vocab?.map((v) => v.content)).toContain('isotretinoin');
  });

  it('stops talking the moment the caller speaks over the greeting (barge-in), and answers what they said', async () => {
    // Slower media than the other tests: the 3 s greeting lasts 750 ms here, long enough to talk over.
    const h = await start({}, { timeScale: 0.25 });
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await eventually(() => call.listening && call.applications.some((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true), 'the greeting started, the caller heard');
    call.say('billing please');
    await bridgedToPerson(() => sessions[0]);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    expect(call.playbacks[0]?.status).toBe('break');
    expect(eventTypes(list)).toContain('barge_in');
    // The greeting was broken before the caller's sentence was transcribed: voice activity came first.
    const barge = list.find((e) => e.type === 'barge_in')!;
    const turn = list.find((e) => e.type === 'caller_turn')!;
    expect(barge.seq).toBeLessThan(turn.seq);
    expect(eventTypes(list)).toContain('hand_off');
    // Billing is not a group of the test routing: the number's own group took the call, warm.
    expect(list.find((e) => e.type === 'transfer_requested')?.data).toMatchObject({ to: 'ring_group:front', warm: true });
    expect(eventTypes(list)).toContain('transfer_bridged');
  });

  it('hands the caller to the front desk at once when they press 0 during the greeting', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await eventually(() => call.applications.some((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true), 'the greeting started');
    call.sendDtmf('0');
    await bridgedToPerson(() => sessions[0]);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    expect(call.playbacks[0]?.status).toBe('break');
    expect(eventTypes(list)).not.toContain('barge_in');
    const handOff = list.find((e) => e.type === 'hand_off');
    expect(handOff?.data).toMatchObject({ to: 'operator' });
    expect(list.find((e) => e.type === 'transfer_requested')?.data).toMatchObject({ to: 'ring_group:front' });
  });

  it('sends the caller to the emergency number when they press the emergency escape', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await heardPrompts(call, 1);
    call.sendDtmf('9');
    await eventually(() => call.applications.some((a) => a.app === 'bridge'), 'the emergency bridge');
    call.hangup();
    await callEvents(h, sessions[0]!);
    const dial = call.applications.find((a) => a.app === 'bridge')?.arg ?? '';
    // The context headers come first, for every leg; then the chain.
    expect(dial).toMatch(/^\{sip_h_X-Callbridge-Call-Id=[0-9a-f-]{36},sip_h_X-Callbridge-Reason=emergency,/);
    const legs = dial.replace(/^\{[^}]*\}/, '').split('|');
    expect(legs).toEqual([
      '[leg_timeout=20]sofia/gateway/threecx/+15550000911',
      '[leg_timeout=20]sofia/gateway/threecx/110',
      '[leg_timeout=20]sofia/gateway/twilio/+15550000911',
    ]);
  });

  it('escalates the moment an emergency phrase appears in a partial transcript, records an unrecorded call, and says why', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: '+15559870300', say: [] });
    await heardPrompts(call, 1);
    call.say('please help I have chest pain and my arm is numb');
    await eventually(() => call.applications.some((a) => a.app === 'bridge'), 'the emergency bridge');
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    const detected = list.find((e) => e.type === 'emergency_detected');
    expect(detected?.data).toMatchObject({ trigger: 'phrase', language: 'en', phrase: 0 });
    // Spotted in a partial: the caller's sentence never reached the agent as a turn.
    expect(eventTypes(list)).not.toContain('caller_turn');
    const emergency = list.find((e) => e.type === 'emergency');
    expect(emergency?.data.msToBridgeCommand).toBeLessThan(1000);
    const apps = call.applications.map((a) => a.app);
    // Not recorded by routing, recorded from the emergency on; the "connecting you" sentence before the bridge.
    expect(apps.filter((a) => a === 'record_session')).toHaveLength(1);
    expect(apps.lastIndexOf('playback')).toBeLessThan(apps.indexOf('bridge'));
    expect(call.applications.find((a) => a.app === 'bridge')?.arg).toContain('sofia/gateway/threecx/+15550000911');
    const metrics = await h.controller.metrics.registry.getSingleMetricAsString('callbridge_emergencies_total');
    expect(metrics).toMatch(/trigger="phrase"} 1/);
    // Every staff number got a text with the call id and a link, and nothing clinical.
    const callId = sessions[0]!.callId;
    await eventually(() => STAFF.every((n) => twilio.messages.some((m) => m.to === n && m.body.includes(callId))), 'the staff alerts');
    for (const message of twilio.messages.filter((m) => STAFF.includes(m.to) && m.body.includes(callId))) {
      expect(message.body).toContain(`https://calls.practice.example/v1/calls/${callId}/context`);
      expect(message.body).not.toMatch(/chest|pain|arm|numb|\+1555777/i);
    }
  });

  it('explains and hands off when speech recognition cannot start', async () => {
    const h = await start({ SPEECHMATICS_API_KEY: 'not-the-key' });
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await bridgedToPerson(() => sessions[0]);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    expect(eventTypes(list)).toContain('caller_audio_lost');
    const texts = tts.requests.map((r) => r.input.text ?? '');
    expect(texts).toContain("I'm sorry, I'm having trouble hearing you. Let me connect you with a member of our team.");
    // The explanation was played before the transfer began.
    expect(eventTypes(list).indexOf('prompt')).toBeLessThan(eventTypes(list).indexOf('transfer_requested'));
  });

  it('restarts a fork FreeSWITCH could not connect, then gives up and hands off after the limit', async () => {
    // Nothing listens here: mod_audio_fork answers +OK and reports connect_failed later, each time.
    const h = await start({ AUDIO_FORK_BASE_URL: 'ws://127.0.0.1:9', AUDIO_FORK_MAX_RESTARTS: '2' });
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await bridgedToPerson(() => sessions[0], 15_000);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    expect(list.filter((e) => e.type === 'audio_fork_restart')).toHaveLength(2);
    expect(eventTypes(list)).toContain('caller_audio_lost');
    const metrics = await h.controller.metrics.registry.getSingleMetricAsString('callbridge_audio_fork_events_total');
    expect(metrics).toMatch(/event="connect_failed"} 3/);
    expect(metrics).toMatch(/event="gave_up"} 1/);
  });

  it('plays the holding phrase (cached, in the practice voice) when a reply cannot be synthesized, and takes a key press as the answer', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await heardReplies(h, 1);
    call.say('I want to book an appointment');
    await heardReplies(h, 2);
    // The confirmation quotes the caller, so it is never in the cache: Google fails it.
    tts.failNext = 1;
    call.say('Friday at noon');
    const holding = h.controller.voice!.tts.knownPath({ text: 'One moment please.', voice: 'en-US-Neural2-F', language: 'en-US', sampleRate: 16000 });
    expect(holding).toBeDefined();
    await eventually(() => call.applications.some((a) => a.arg === holding), 'the holding phrase');
    await heardReplies(h, 3);
    call.sendDtmf('1');
    await heardReplies(h, 4);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    // Only the sentence that could not be synthesized was replaced; the rest of that reply was said.
    const confirmation = list.filter((e) => e.type === 'reply_spoken')[2];
    expect(confirmation?.data).toMatchObject({ end: 'done', heard: (confirmation?.data.sentences as number) - 1 });
    // FreeSWITCH's own voice is not needed: the holding phrase is in the TTS cache.
    const apps = list.filter((e) => e.type === 'prompt').map((e) => e.data.app);
    expect(apps.length).toBeGreaterThanOrEqual(4);
    expect(new Set(apps)).toEqual(new Set(['playback']));
    expect(call.applications.some((a) => a.app === 'speak')).toBe(false);
    const lastTurn = list.filter((e) => e.type === 'caller_turn').at(-1);
    expect(lastTurn?.data).toMatchObject({ chars: 0, digits: 1 });
    // "1" confirmed the request: the agent closed the booking and asked for the text confirmation.
    expect(list.filter((e) => e.type === 'agent_reply').at(-1)?.data.actions).toEqual(['send_sms']);
    const metrics = await h.controller.metrics.registry.metrics();
    expect(metrics).toMatch(/callbridge_turn_stage_seconds_count\{stage="total"\} [1-9]/);
    expect(metrics).toMatch(/callbridge_first_prompt_seconds_count [1-9]/);
  });

  it('explains and hands off when speech recognition is lost mid-call and does not come back', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await heardPrompts(call, 1);
    for (let i = 0; i < 4; i++) stt.startBehaviours.push({ kind: 'error', type: 'job_error', reason: 'service unavailable' });
    stt.sessions.at(-1)!.drop();
    await bridgedToPerson(() => sessions[0], 15_000);
    call.hangup();
    const list = await callEvents(h, sessions[0]!);
    expect(list.find((e) => e.type === 'caller_audio_lost')?.data.reason).toMatch(/speech recognition lost/);
    expect(eventTypes(list).lastIndexOf('prompt')).toBeLessThan(eventTypes(list).indexOf('transfer_requested'));
    stt.startBehaviours.length = 0;
  });

  it('keeps talking with the built-in agent when the AI engine fails', async () => {
    const engine = await AiEnginePeer.start();
    try {
      engine.behaviour = { kind: 'status', status: 500 };
      const h = await start({ AI_ENGINE_URL: engine.url, AI_ENGINE_DEADLINE_MS: '1500' });
      const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
      await heardPrompts(call, 1);
      call.say('billing please');
      await bridgedToPerson(() => sessions[0]);
      call.hangup();
      const list = await callEvents(h, sessions[0]!);
      expect(engine.requests.length).toBeGreaterThan(0);
      // The built-in agent greeted the caller and understood them: billing is not in the test routing, so
      // its hand-off went to the number's own group.
      expect(call.playbacks[0]?.status).toBe('done');
      expect(list.find((e) => e.type === 'hand_off')?.data).toMatchObject({ to: 'billing' });
      expect(list.find((e) => e.type === 'transfer_requested')?.data).toMatchObject({ to: 'ring_group:front' });
    } finally {
      await engine.close();
    }
  });
  it('shuts down with a caller mid-conversation: the open audio fork does not hold the controller up, and the caller goes to the dialplan fallback', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await heardPrompts(call, 1);
    await eventually(() => h.controller.voice?.forks.stats.connected === 1, 'the audio fork connected');

    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      h.controller.close().then(() => 'closed'),
      new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still closing'), 10_000))),
    ]);
    clearTimeout(timer);
    expect(closed).toBe('closed');
    // FreeSWITCH's dialplan went on after the socket application, to the humans.
    await eventually(() => call.applications.some((a) => a.app === 'bridge'), 'the fallback bridge');
    expect(h.logLines.some((line) => line.includes('handing the call back to the FreeSWITCH dialplan'))).toBe(true);
    call.hangup();
  });
});
