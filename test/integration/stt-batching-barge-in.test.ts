// Batching the caller's audio for Speechmatics must not slow down barge-in: the voice detector sees every
// 20 ms frame as it arrives on the fork WebSocket, and only the STT wire waits for a batch. The whole
// controller runs against the simulator and the stand-ins (the real @speechmatics/real-time-client), with the
// default batch (60 ms) and the largest (100 ms); the test listens on the frame path's diagnostics channels to see, on the
// controller's own clock, what had reached the STT socket when the controller decided to stop talking.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import { forkFrameChannel, sttMessageChannel, type SttMessageMessage } from '../../src/voice/frame-path.ts';
import { eventually } from '../support/controller-harness.ts';
import { useVoiceHarness } from '../support/voice-peers.ts';

const AI_LINE = '+15559870100';
const CALLER = '+15557770123';

const suite = useVoiceHarness();

let arrivals: number[] = [];
let messages: { atMs: number; frames: number; cause: string }[] = [];
const onArrival = (): void => {
  arrivals.push(performance.now());
};
const onMessage = (message: unknown): void => {
  const m = message as SttMessageMessage;
  if (m.written && m.cause !== 'replay') messages.push({ atMs: performance.now(), frames: m.frames.length, cause: m.cause });
};

beforeEach(() => {
  arrivals = [];
  messages = [];
  subscribe(forkFrameChannel.name, onArrival);
  subscribe(sttMessageChannel.name, onMessage);
});

afterEach(() => {
  unsubscribe(forkFrameChannel.name, onArrival);
  unsubscribe(sttMessageChannel.name, onMessage);
});

describe('barge-in with the caller audio batched for STT', () => {
  // 60 ms: the frame that completes the caller's run of speech also completes a batch (the caller's audio
  // starts a batch), so the detector must run before that batch is written. 100 ms: it waits in an open batch.
  it.each([60, 100])('stops the agent on the frame the voice detector needs, before the %s ms batch carrying it is sent', async (batchMs) => {
    // Slower media (as in conversation.test.ts): the greeting lasts long enough to talk over.
    const h = await suite.start({ env: { SPEECHMATICS_AUDIO_BATCH_MS: String(batchMs) }, simulator: { timeScale: 0.25 } });
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await eventually(
      () => call.listening && call.applications.some((a) => a.app === 'playback' && a.arg?.endsWith('.wav') === true),
      'the greeting started, the caller heard',
    );
    call.say('billing please');
    const session = (): CallSession | undefined => suite.sessions[0];
    // The whole sentence is heard and answered: the caller is put through to the front desk.
    await eventually(() => session()?.state === 'bridged', 'the caller bridged to a person', 10_000);
    call.hangup();
    await session()!.done;
    const events = (await h.controller.store.getCall(session()!.callId))?.events ?? [];
    expect(call.playbacks[0]?.status).toBe('break');
    const barge = events.find((e) => e.type === 'barge_in');
    expect(barge).toBeDefined();

    // The journal's clock is the controller's performance.now(), the same as the channels' subscribers here.
    const decidedAt = barge!.monotonicMs;
    const arrivedBefore = arrivals.filter((at) => at <= decidedAt).length;
    const sentBefore = messages.filter((m) => m.atMs < decidedAt).reduce((sum, m) => sum + m.frames, 0);
    // The frame that completed the caller's run of speech was heard by the detector before any STT message
    // carried it, and at most one batch was waiting: barge-in does not wait for the STT wire.
    const framesPerBatch = batchMs / 20;
    expect(arrivedBefore - sentBefore).toBeGreaterThanOrEqual(1);
    expect(arrivedBefore - sentBefore).toBeLessThanOrEqual(framesPerBatch);
    // And the STT wire did batch: while the caller spoke, messages were full batches.
    const full = messages.filter((m) => m.cause === 'full');
    expect(full.length).toBeGreaterThan(5);
    expect(full.every((m) => m.frames === framesPerBatch)).toBe(true);
  });
});
