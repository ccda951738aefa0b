// After hours as a caller lives it, through the real controller, the FreeSWITCH simulator and the voice
// stand-ins: the caller hears "press 1 for the on-call provider" (from the AI taking messages, or spoken before
// a mailbox takes the call), presses it (RFC 2833 DTMF events), and the on-call number is dialled; a caller
// who asks for a person reaches the after-hours target, never the closed ring group.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import type { CallEventRecord } from '../../src/core/call.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { eventually, type Harness } from '../support/controller-harness.ts';
import { useVoiceHarness } from '../support/voice-peers.ts';

/** Every location of this file is closed at every hour. */
const AFTER_HOURS_ROUTING = fileURLToPath(new URL('../support/routing-after-hours.yaml', import.meta.url));
const AI_LINE = '+15559870100';
const MAILBOX_LINE = '+15559870400';
const CALLER = '+15557770188';
const ON_CALL_DIAL = /sofia\/gateway\/threecx\/\+15550000199$/;
const OFFER = 'If this is an urgent clinical question, press 1 for the on-call provider.';

const suite = useVoiceHarness({ env: { ROUTING_FILE: AFTER_HOURS_ROUTING } });
const sessions = suite.sessions;

const bridges = (call: SimulatedCall): string[] => call.applications.filter((a) => a.app === 'bridge').map((a) => a.arg ?? '');

async function journal(h: Harness, session: CallSession): Promise<CallEventRecord[]> {
  await session.done;
  return (await h.controller.store.getCall(session.callId))?.events ?? [];
}

describe('after hours, a call the AI takes messages on', () => {
  it('offers the on-call provider in the first words; pressing 1 dials the on-call number', async () => {
    const h = await suite.start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await eventually(() => call.applications.some((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true), 'the first words played');
    // What the caller hears first: the agent's after-hours greeting, then the offer.
    // (The greeting alone was synthesized at start, to warm the cache; this call asked for it with the offer.)
    const said = suite.peers.tts.requests.map((r) => r.input.text ?? '');
    expect(said).toContain(`Thank you for calling. Our offices are closed right now. If this is a medical emergency, hang up and dial 911. Otherwise, please tell me your name and the reason for your call, and we will call you back on the next business day. ${OFFER}`);

    call.sendDtmf('1');
    await eventually(() => bridges(call).length > 0, 'a bridge');
    expect(bridges(call)).toEqual([expect.stringMatching(ON_CALL_DIAL)]);
    await eventually(() => sessions[0]?.state === 'bridged', 'the caller with the on-call provider');
    call.hangup();
    const list = await journal(h, sessions[0]!);
    expect(list.find((e) => e.type === 'dtmf')?.data).toMatchObject({ kind: 'urgent' });
    expect(list.find((e) => e.type === 'transfer_requested')?.data).toMatchObject({ to: 'on_call' });
  });

  it('takes a caller who asks for a person (0) to the after-hours target, not to the closed front desk', async () => {
    const h = await suite.start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await eventually(() => call.applications.some((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true), 'the first words played');
    call.sendDtmf('0');
    await eventually(() => bridges(call).length > 0, 'a bridge', 10_000);
    // The AI is this line's after-hours target, so a person is the ai-down after-hours target: voicemail 800.
    expect(bridges(call)).toEqual([expect.stringMatching(/sofia\/gateway\/threecx\/800$/)]);
    await eventually(() => sessions[0]?.state === 'bridged', 'the caller with voicemail');
    call.hangup();
    const list = await journal(h, sessions[0]!);
    expect(list.find((e) => e.type === 'hand_off')?.data).toMatchObject({ to: 'operator' });
    const requested = list.find((e) => e.type === 'transfer_requested');
    expect(requested?.data).toMatchObject({ to: 'voicemail:main' });
    // Nobody at the closed front desk was rung (a warm transfer would have originated their legs).
    expect(requested?.data.warm).toBeUndefined();
    expect(list.some((e) => e.type === 'transfer_requested' && String(e.data.to).startsWith('ring_group'))).toBe(false);
  });
});

describe('after hours, a call for a voicemail box (no AI on the line)', () => {
  /** The offer as the caller hears it: its file in the TTS cache, in the practice's voice. */
  const offered = (h: Harness, call: SimulatedCall): boolean => {
    const voice = h.controller.voice;
    const path = voice?.tts.knownPath({ text: OFFER, voice: voice.voiceFor('en-US'), language: 'en-US', sampleRate: voice.sampleRate });
    return path !== undefined && call.applications.some((a) => a.app === 'playback' && a.arg === path);
  };

  it('speaks the offer before connecting; pressing 1 dials the on-call number instead of the mailbox', async () => {
    const h = await suite.start();
    const call = h.simulator.placeCall({ from: CALLER, to: MAILBOX_LINE });
    await eventually(() => offered(h, call), 'the offer spoken');
    expect(bridges(call)).toEqual([]);
    call.sendDtmf('1');
    await eventually(() => bridges(call).length > 0, 'a bridge');
    expect(bridges(call)).toEqual([expect.stringMatching(ON_CALL_DIAL)]);
    await eventually(() => sessions[0]?.state === 'bridged', 'the caller with the on-call provider');
    call.hangup();
    const list = await journal(h, sessions[0]!);
    expect(list.find((e) => e.type === 'urgent_offer_choice')?.data).toMatchObject({ choice: 'urgent' });
  });

  it('connects the caller to the mailbox when they press something else', async () => {
    const h = await suite.start();
    const call = h.simulator.placeCall({ from: CALLER, to: MAILBOX_LINE });
    await eventually(() => offered(h, call), 'the offer spoken');
    call.sendDtmf('2');
    await eventually(() => sessions[0]?.state === 'bridged', 'the caller with the mailbox');
    expect(bridges(call)).toEqual(['sofia/gateway/threecx/850']);
    call.hangup();
    const list = await journal(h, sessions[0]!);
    expect(list.find((e) => e.type === 'urgent_offer_choice')?.data).toMatchObject({ choice: 'declined' });
  });
});
