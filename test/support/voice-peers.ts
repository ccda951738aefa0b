// The external services an AI call talks to, as local stand-ins speaking their real protocols (src/peers/),
// and the controller settings that point the real clients at them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleTtsPeer } from '../../src/peers/google-tts-peer.ts';
import { SpeechmaticsPeer } from '../../src/peers/speechmatics-peer.ts';
import { SpeechmaticsBatchPeer } from '../../src/peers/speechmatics-batch-peer.ts';
import { TwilioPeer } from '../../src/peers/twilio-peer.ts';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { CallSession } from '../../src/call/call-session.ts';
import { startHarness, type Harness } from './controller-harness.ts';

export const VOICE_KEYS = {
  speechmatics: 'speechmatics-test-key',
  google: 'google-test-key',
  twilioSid: `AC${'1'.repeat(32)}`,
  twilioToken: 'twilio-test-token',
};
/** Staff numbers that get emergency texts in these tests. */
export const STAFF_NUMBERS = ['+15550000170', '+15550000171'];
/** A master key for transcripts at rest (tests only). */
export const TEST_RECORDING_KEY = Buffer.alloc(32, 7).toString('base64');

export interface VoicePeers {
  stt: SpeechmaticsPeer;
  /** Post-call transcription (the controller runs it in-process without REDIS_URL). */
  batch: SpeechmaticsBatchPeer;
  tts: GoogleTtsPeer;
  twilio: TwilioPeer;
  /** Controller environment for these peers. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startVoicePeers(): Promise<VoicePeers> {
  const stt = await SpeechmaticsPeer.start({ apiKey: VOICE_KEYS.speechmatics, transcribeSpokenAudio: true });
  const tts = await GoogleTtsPeer.start({ apiKey: VOICE_KEYS.google });
  const batch = await SpeechmaticsBatchPeer.start({ apiKey: VOICE_KEYS.speechmatics });
  const twilio = await TwilioPeer.start({ accountSid: VOICE_KEYS.twilioSid, authToken: VOICE_KEYS.twilioToken });
  const cacheDir = await mkdtemp(join(tmpdir(), 'callbridge-tts-'));
  return {
    stt,
    batch,
    tts,
    twilio,
    env: {
      SPEECHMATICS_API_KEY: VOICE_KEYS.speechmatics,
      SPEECHMATICS_URL: stt.url,
      SPEECHMATICS_MP_URL: stt.managementUrl,
      SPEECHMATICS_BATCH_URL: batch.url,
      GOOGLE_TTS_URL: tts.url,
      GOOGLE_TTS_API_KEY: VOICE_KEYS.google,
      TTS_CACHE_DIR: cacheDir,
      TWILIO_ACCOUNT_SID: VOICE_KEYS.twilioSid,
      TWILIO_AUTH_TOKEN: VOICE_KEYS.twilioToken,
      TWILIO_PHONE_NUMBER: '+15550000199',
      TWILIO_API_URL: twilio.url,
      EMERGENCY_NOTIFICATION_SMS: STAFF_NUMBERS.join(','),
      PUBLIC_BASE_URL: 'https://calls.practice.example',
      CALL_RECORDING_ENCRYPTION_KEY: TEST_RECORDING_KEY,
    },
    close: async () => {
      await stt.close();
      await batch.close();
      await tts.close();
      await twilio.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/**
 * Suite setup for AI-call tests: the stand-ins for the whole file, a fresh controller + simulator per test
 * (closed after it), and the sessions it created.
 */
export function useVoiceHarness(defaults: { env?: Record<string, string> } = {}): {
  readonly peers: VoicePeers;
  readonly sessions: CallSession[];
  start(options?: { env?: Record<string, string>; simulator?: { timeScale?: number; fileRoot?: string } }): Promise<Harness>;
} {
  let peers: VoicePeers | undefined;
  let harness: Harness | undefined;
  const sessions: CallSession[] = [];
  beforeAll(async () => {
    peers = await startVoicePeers();
  });
  afterAll(async () => {
    await peers?.close();
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    sessions.length = 0;
  });
  return {
    get peers(): VoicePeers {
      if (peers === undefined) throw new Error('the stand-ins start in beforeAll');
      return peers;
    },
    sessions,
    async start(options = {}) {
      const env = { ...this.peers.env, ...defaults.env, ...options.env };
      harness = await startHarness({ env, simulator: options.simulator ?? {}, controller: { onSession: (s) => sessions.push(s) } });
      await harness.controller.voice?.prewarmed;
      return harness;
    },
  };
}
