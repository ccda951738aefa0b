// Speech-to-text through Speechmatics real-time (the official @speechmatics/real-time-client), one session
// per call. Every endpoint is configurable so tests and the demo point the real client at a local peer.
import { createSpeechmaticsJWT, SpeechmaticsJWTError } from '@speechmatics/auth';
import type { SpeechToText, SttStream, SttStreamOptions } from '../../core/voice-ports.ts';
import { startRecognitionConfig, type RecognitionTuning } from './speechmatics-messages.ts';
import { SpeechmaticsStream, type SttLogger } from './speechmatics-stream.ts';

export interface SpeechmaticsSttOptions {
  /** Real-time endpoint. Default wss://eu2.rt.speechmatics.com/v2. */
  url?: string;
  /**
   * Long-lived API key: exchanged for a short-lived JWT per session at `managementPlatformUrl`, because the
   * client authenticates with a `jwt` query parameter. Give either this or `jwt`.
   */
  apiKey?: string;
  /** Returns a JWT for one session (when keys are issued elsewhere). */
  jwt?: () => Promise<string>;
  /** Where temporary keys come from. Default https://mp.speechmatics.com/v1. */
  managementPlatformUrl?: string;
  /** Temporary key lifetime; it only has to outlive the WebSocket handshake. Default 60 s. */
  jwtTtlSec?: number;
  jwtRegion?: 'eu' | 'usa' | 'au';
  appId?: string;
  /** Seconds the service may wait for context before a final; lower answers faster. Default 0.7. */
  maxDelaySec?: number;
  enablePartials?: boolean;
  /** Silence that ends an utterance (EndOfUtterance). Default 0.6 s. */
  endOfUtteranceSilenceSec?: number;
  operatingPoint?: 'standard' | 'enhanced';
  domain?: string;
  /** Handshake + RecognitionStarted, per attempt. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** close(): acknowledgement of sent audio + EndOfTranscript. Default 3000 ms. */
  closeTimeoutMs?: number;
  /** After a drop mid-call. Default 3 attempts after 250, 1000, 2000 ms. */
  reconnect?: { attempts: number; delaysMs: readonly number[] };
  /**
   * Audio per AddAudio message, a multiple of mod_audio_fork's 20 ms frame up to 100 ms: fewer, larger
   * messages (one write and one AudioAdded per batch) for at most this much extra delay before the service
   * hears a frame. 20 sends every frame on its own. Default 60.
   */
  audioBatchMs?: number;
  /** Unacknowledged audio kept for replay after a drop; beyond it the oldest is dropped. Default 10 000 ms. */
  replayBufferMs?: number;
  logger?: SttLogger;
}

export const speechmaticsDefaults = {
  url: 'wss://eu2.rt.speechmatics.com/v2',
  managementPlatformUrl: 'https://mp.speechmatics.com/v1',
  jwtTtlSec: 60,
  maxDelaySec: 0.7,
  enablePartials: true,
  endOfUtteranceSilenceSec: 0.6,
  operatingPoint: 'enhanced',
  connectTimeoutMs: 5000,
  closeTimeoutMs: 3000,
  reconnect: { attempts: 3, delaysMs: [250, 1000, 2000] },
  audioBatchMs: 60,
  replayBufferMs: 10_000,
} as const;

/** The audio batch lengths we accept: whole 20 ms frames, at most 100 ms (the recogniser's added delay). */
function isAudioBatchMs(ms: number): boolean {
  return Number.isInteger(ms) && ms >= 20 && ms <= 100 && ms % 20 === 0;
}

const silentLogger: SttLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Delays for `attempts` tries: the listed delays, the last one repeated if the list is shorter. */
export function reconnectDelays(reconnect: { attempts: number; delaysMs: readonly number[] }): number[] {
  const delays: number[] = [];
  for (let i = 0; i < reconnect.attempts; i += 1) delays.push(reconnect.delaysMs[Math.min(i, reconnect.delaysMs.length - 1)] ?? 0);
  return delays;
}

export class SpeechmaticsStt implements SpeechToText {
  private readonly tuning: RecognitionTuning;
  private readonly getJwt: () => Promise<string>;

  constructor(private readonly options: SpeechmaticsSttOptions) {
    const { apiKey, jwt } = options;
    if ((apiKey === undefined || apiKey === '') && jwt === undefined) {
      throw new RangeError('SpeechmaticsStt needs an apiKey or a jwt function');
    }
    const positive = (name: string, value: number | undefined): void => {
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new RangeError(`${name} must be a number >= 0`);
    };
    positive('maxDelaySec', options.maxDelaySec);
    positive('endOfUtteranceSilenceSec', options.endOfUtteranceSilenceSec);
    positive('connectTimeoutMs', options.connectTimeoutMs);
    positive('closeTimeoutMs', options.closeTimeoutMs);
    if (options.audioBatchMs !== undefined && !isAudioBatchMs(options.audioBatchMs)) {
      throw new RangeError('audioBatchMs must be 20, 40, 60, 80 or 100');
    }
    if (options.replayBufferMs !== undefined && !(Number.isInteger(options.replayBufferMs) && options.replayBufferMs >= 20)) {
      throw new RangeError('replayBufferMs must be a whole number >= 20');
    }
    this.tuning = {
      maxDelaySec: options.maxDelaySec ?? speechmaticsDefaults.maxDelaySec,
      enablePartials: options.enablePartials ?? speechmaticsDefaults.enablePartials,
      endOfUtteranceSilenceSec: options.endOfUtteranceSilenceSec ?? speechmaticsDefaults.endOfUtteranceSilenceSec,
      operatingPoint: options.operatingPoint ?? speechmaticsDefaults.operatingPoint,
      ...(options.domain === undefined ? {} : { domain: options.domain }),
    };
    this.getJwt =
      jwt ??
      (() =>
        createSpeechmaticsJWT({
          type: 'rt',
          apiKey: apiKey as string,
          ttl: options.jwtTtlSec ?? speechmaticsDefaults.jwtTtlSec,
          managementPlatformURL: options.managementPlatformUrl ?? speechmaticsDefaults.managementPlatformUrl,
          ...(options.jwtRegion === undefined ? {} : { region: options.jwtRegion }),
        }));
  }

  /** Opens the call's recognition session; rejects with SttUnavailableError when it cannot start. */
  async start(stream: SttStreamOptions): Promise<SttStream> {
    const { options } = this;
    return SpeechmaticsStream.open({
      url: options.url ?? speechmaticsDefaults.url,
      ...(options.appId === undefined ? {} : { appId: options.appId }),
      getJwt: this.getJwt,
      isPermanentAuthError: (error) => error instanceof SpeechmaticsJWTError && error.type !== 'UnknownError',
      config: startRecognitionConfig(stream, this.tuning),
      sampleRate: stream.sampleRate,
      connectTimeoutMs: options.connectTimeoutMs ?? speechmaticsDefaults.connectTimeoutMs,
      closeTimeoutMs: options.closeTimeoutMs ?? speechmaticsDefaults.closeTimeoutMs,
      reconnectDelaysMs: reconnectDelays(options.reconnect ?? speechmaticsDefaults.reconnect),
      audioBatchMs: options.audioBatchMs ?? speechmaticsDefaults.audioBatchMs,
      replayBufferMs: options.replayBufferMs ?? speechmaticsDefaults.replayBufferMs,
      logger: options.logger ?? silentLogger,
    });
  }
}
