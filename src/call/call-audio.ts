// The caller's audio for one AI conversation: mod_audio_fork's WebSocket in, the speech-to-text stream out.
//
// The STT session opens as soon as the call is offered (its handshake overlaps the answer); the fork starts
// after the answer (`uuid_audio_fork <uuid> start <url> mono 16k`). Until the STT stream is open, the fork
// is paused and its bounded queue keeps the newest second of audio, so the caller's first words are not
// lost. Every frame goes to the STT stream as the Buffer ws gave us (no copy) and through the voice
// activity detector (barge-in).
//
// mod_audio_fork never reconnects by itself, and a refused WebSocket still answers `+OK`: trouble arrives
// later as `mod_audio_fork::connect_failed` or `::disconnect`, or as our fork closing or never connecting.
// Each restarts the fork (stop, then start with a fresh single-use token), a bounded number of times; after
// that, or when the STT stream fails for good, `onLost` tells the conversation to hand the caller to a person.
import type { Logger } from 'pino';
import type { SpeechToText, SttEvent, SttStream, SttStreamOptions } from '../core/voice-ports.ts';
import type { ChannelControl } from '../esl/channel-control.ts';
import type { EslEvent } from '../esl/protocol/event.ts';
import type { CallMetrics } from './ports.ts';
import { VoiceActivityDetector, type AudioFork, type AudioForkServer } from '../voice/audio-fork/index.ts';

export interface CallAudioOptions {
  callId: string;
  fsUuid: string;
  channel: ChannelControl;
  forks: AudioForkServer;
  /** ws://host:port at which FreeSWITCH reaches our HTTP server. */
  forkBaseUrl: string;
  stt: SpeechToText;
  sttOptions: SttStreamOptions;
  /** Fork restarts per call before giving up. */
  maxRestarts: number;
  bargeInMinSpeechMs: number;
  metrics: CallMetrics;
  logger: Logger;
  journal: (type: string, data: Record<string, unknown>) => void;
  /** The caller started talking (voice activity, before any transcript). */
  onVoice: () => void;
  /** Every frame of the caller's audio (answering-machine detection on outbound calls). */
  onFrame?: (frame: Buffer) => void;
  onStt: (event: SttEvent) => void;
  /** The caller can no longer be heard (STT down for good, or the fork could not be kept up). */
  onLost: (reason: string) => void;
}

const RESTART_DELAY_MS = 250;

export class CallAudio {
  readonly #o: CallAudioOptions;
  readonly #vad: VoiceActivityDetector;
  #stt: SttStream | undefined;
  #fork: AudioFork | undefined;
  #restarts = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #lost = false;
  #framesForwarded = 0;

  constructor(options: CallAudioOptions) {
    this.#o = options;
    this.#vad = new VoiceActivityDetector({ minSpeechMs: options.bargeInMinSpeechMs });
  }

  get framesForwarded(): number {
    return this.#framesForwarded;
  }

  /** Opens the STT stream (at offer). A failure is reported through onLost, never thrown. */
  async openStt(): Promise<void> {
    try {
      const stream = await this.#o.stt.start(this.#o.sttOptions);
      if (this.#closed) {
        await stream.close();
        return;
      }
      this.#stt = stream;
      stream.onEvent((event) => {
        if (this.#closed) return;
        if (event.type === 'failed') {
          this.#o.metrics.sttFailuresTotal.inc();
          this.#lose(`speech recognition lost: ${event.reason}`);
          return;
        }
        this.#o.onStt(event);
      });
      this.#fork?.resume();
    } catch (error) {
      this.#o.metrics.sttFailuresTotal.inc();
      this.#o.logger.warn({ err: error }, 'speech recognition could not start');
      this.#lose('speech recognition unavailable');
    }
  }

  /** Starts forking the caller's audio to us (after the answer). */
  startFork(): void {
    if (this.#closed || this.#lost) return;
    const fork = this.#o.forks.expect(this.#o.callId);
    this.#fork = fork;
    if (this.#stt === undefined) fork.pause();
    fork.on('audio', this.#onFrame);
    fork.on('overrun', (info) => this.#o.journal('audio_fork_overrun', info));
    fork.once('closed', (code) => {
      if (this.#fork === fork) this.#restart(`fork closed (${code})`);
    });
    fork.once('expired', () => {
      if (this.#fork === fork) this.#restart('fork never connected');
    });
    const rate = this.#o.sttOptions.sampleRate === 8000 ? '8k' : '16k';
    this.#o.channel
      .audioForkStart(this.#o.fsUuid, fork.url(this.#o.forkBaseUrl), 'mono', rate)
      .catch((error: unknown) => {
        if (this.#closed || this.#fork !== fork) return;
        this.#o.logger.warn({ err: error }, 'uuid_audio_fork start failed');
        this.#restart('uuid_audio_fork start failed');
      });
  }

  /** FreeSWITCH's view of the fork (CUSTOM mod_audio_fork::* on the call's socket). */
  onEslEvent(event: EslEvent): void {
    if (event.name !== 'CUSTOM' || this.#closed) return;
    const subclass = event.headers.get('Event-Subclass') ?? '';
    switch (subclass) {
      case 'mod_audio_fork::connect_failed':
        this.#o.metrics.audioForkEventsTotal.inc({ event: 'connect_failed' });
        this.#restart('mod_audio_fork could not connect');
        return;
      case 'mod_audio_fork::disconnect':
        this.#o.metrics.audioForkEventsTotal.inc({ event: 'disconnect' });
        this.#restart('mod_audio_fork disconnected');
        return;
      case 'mod_audio_fork::buffer_overrun':
        // FreeSWITCH dropped audio because our socket did not keep up: worth an alert, not a restart.
        this.#o.metrics.audioForkEventsTotal.inc({ event: 'buffer_overrun' });
        this.#o.logger.warn('mod_audio_fork buffer overrun: caller audio dropped before it reached us');
        this.#o.journal('audio_fork_buffer_overrun', {});
        return;
    }
  }

  /** Stops the fork and the STT stream; idempotent, never throws. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const fork = this.#fork;
    this.#fork = undefined;
    if (fork !== undefined) {
      fork.off('audio', this.#onFrame);
      fork.cancel();
      // The media bug goes with the channel on hangup; a call handed to a person keeps its channel.
      if (!this.#o.channel.closed) await this.#o.channel.audioForkStop(this.#o.fsUuid).catch(() => undefined);
    }
    await this.#stt?.close().catch((error: unknown) => this.#o.logger.debug({ err: error }, 'STT close failed'));
  }

  readonly #onFrame = (frame: Buffer): void => {
    const stt = this.#stt;
    if (stt === undefined) return;
    stt.sendAudio(frame);
    this.#framesForwarded++;
    this.#o.onFrame?.(frame);
    if (this.#vad.push(frame)) this.#o.onVoice();
  };

  #restart(reason: string): void {
    if (this.#closed || this.#lost || this.#restartTimer !== undefined) return;
    const old = this.#fork;
    this.#fork = undefined;
    old?.off('audio', this.#onFrame);
    old?.cancel();
    if (this.#restarts >= this.#o.maxRestarts) {
      this.#o.metrics.audioForkEventsTotal.inc({ event: 'gave_up' });
      this.#lose(`audio fork lost: ${reason}`);
      return;
    }
    this.#restarts++;
    this.#o.metrics.audioForkEventsTotal.inc({ event: 'restart' });
    this.#o.journal('audio_fork_restart', { reason, attempt: this.#restarts });
    this.#o.logger.warn({ reason, attempt: this.#restarts }, 'restarting the audio fork');
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#closed) return;
      // The failed fork's media bug is still on the channel: stop it or the new start is refused.
      this.#o.channel
        .audioForkStop(this.#o.fsUuid)
        .catch(() => undefined)
        .finally(() => this.startFork());
    }, RESTART_DELAY_MS * this.#restarts);
  }

  #lose(reason: string): void {
    if (this.#lost || this.#closed) return;
    this.#lost = true;
    this.#o.journal('caller_audio_lost', { reason });
    this.#o.onLost(reason);
  }
}
