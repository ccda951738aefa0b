// One Speechmatics real-time session per call, kept alive across socket drops.
//
// States: open → (socket drops) reconnecting → open ... ; any → closing → closed ; reconnecting → failed.
// The caller's 20 ms frames go out batched (audio-batch.ts): one AddAudio message per `audioBatchMs` of
// audio. Every message stays in a bounded replay buffer until the server's AudioAdded acknowledges it; after
// a drop the next session first receives exactly the unacknowledged messages, then live audio. Transcript
// times of a later session are shifted by the audio acknowledged before it, so times stay on the call's
// timeline.
import {
  RealtimeClient,
  type ReceiveMessageEvent,
  type RealtimeServerMessage,
  type RealtimeTranscriptionConfig,
  type SocketStateChangeEvent,
} from '@speechmatics/real-time-client';
import { SttUnavailableError } from '../../core/errors.ts';
import type { SttEvent, SttStream } from '../../core/voice-ports.ts';
import { sttFrameChannel, sttMessageChannel, type SttFrameMessage, type SttMessageCause, type SttMessageMessage } from '../frame-path.ts';
import { AudioBatcher, type BatchCause } from './audio-batch.ts';
import { ReplayBuffer } from './replay-buffer.ts';
import { isPermanentError, toSttEvent } from './speechmatics-messages.ts';
import { AttemptAbortedError, boundedAttempt, CancellableDelay, ChangeSignal } from './wait.ts';

/** pino-compatible subset; transcripts and caller data are never passed to it. */
export interface SttLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface StreamSettings {
  url: string;
  appId?: string;
  /** A fresh JWT for each session (temporary keys expire). */
  getJwt: () => Promise<string>;
  /** Tells a permanent credential failure (retrying cannot help) from a transient one. */
  isPermanentAuthError: (error: unknown) => boolean;
  config: RealtimeTranscriptionConfig;
  sampleRate: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  /** One entry per reconnect attempt: the back-off before it. */
  reconnectDelaysMs: readonly number[];
  /** Audio per AddAudio message (a multiple of the 20 ms frame; 20 sends every frame as it comes). */
  audioBatchMs: number;
  /** Unacknowledged audio kept for replay; beyond it the oldest messages are dropped. */
  replayBufferMs: number;
  logger: SttLogger;
}

type State = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed' | 'failed';

class PermanentSessionError extends Error {}

export class SpeechmaticsStream implements SttStream {
  private state: State = 'connecting';
  private client: RealtimeClient | undefined;
  private detachClient: (() => void) | undefined;
  private readonly buffer: ReplayBuffer;
  private readonly batcher: AudioBatcher;
  private readonly listeners: ((event: SttEvent) => void)[] = [];
  private readonly changes = new ChangeSignal();
  private readonly backoff = new CancellableDelay();
  private abortAttempt: () => void = () => undefined;
  private reconnecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private offsetSec = 0;
  private sessionCount = 0;
  private transcriptEnded = false;
  private readonly bytesPerSec: number;

  private constructor(private readonly settings: StreamSettings) {
    this.bytesPerSec = settings.sampleRate * 2;
    const bytesOf = (ms: number): number => Math.max(1, Math.round((this.bytesPerSec * ms) / 1000));
    this.buffer = new ReplayBuffer(bytesOf(settings.replayBufferMs));
    this.batcher = new AudioBatcher({ batchBytes: bytesOf(settings.audioBatchMs), maxWaitMs: settings.audioBatchMs, send: this.sendMessage });
  }

  /** Opens the first session (retrying like a reconnect); rejects with SttUnavailableError if it cannot. */
  static async open(settings: StreamSettings): Promise<SpeechmaticsStream> {
    const stream = new SpeechmaticsStream(settings);
    const failure = await stream.connectWithRetries([0, ...settings.reconnectDelaysMs]);
    if (failure !== undefined) {
      stream.state = 'closed';
      throw new SttUnavailableError(`Speechmatics session could not start: ${failure.message}`, {
        cause: failure,
        retryable: !(failure instanceof PermanentSessionError),
      });
    }
    stream.state = 'open';
    return stream;
  }

  /** Queues a frame in the current batch; false when the replay buffer is full (the service is not keeping up). */
  sendAudio(frame: Buffer): boolean {
    if (this.state !== 'open' && this.state !== 'reconnecting') return false;
    this.batcher.push(frame);
    if (sttFrameChannel.hasSubscribers) sttFrameChannel.publish({ frame } satisfies SttFrameMessage);
    return !this.buffer.full;
  }

  onEvent(listener: (event: SttEvent) => void): void {
    this.listeners.push(listener);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ------------------------------------------------------------------------------------------------------

  // One batch becomes one AddAudio message. Buffer.concat is the one copy on the way: the client sends one
  // Buffer per message, ws masks it into a new buffer anyway, and the joined copy is what the replay buffer
  // keeps (not the fork socket's read chunks, which the frames are views into). A single frame goes as is.
  private readonly sendMessage = (frames: Buffer[], bytes: number, cause: BatchCause): void => {
    if (this.state === 'closed' || this.state === 'failed') return;
    const message = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames, bytes);
    this.buffer.push(message);
    // A live client means its session has had the replay: new audio goes straight after it.
    const written = this.client !== undefined && this.transmit(this.client, message);
    this.published(frames, bytes, cause, written);
  };

  private transmit(client: RealtimeClient, message: Buffer): boolean {
    try {
      client.sendAudio(message);
      this.buffer.markSent();
      return true;
    } catch {
      // The socket is going down; its close event starts the reconnect and the message is replayed then.
      return false;
    }
  }

  private published(frames: readonly Buffer[], bytes: number, cause: SttMessageCause, written: boolean): void {
    if (sttMessageChannel.hasSubscribers) sttMessageChannel.publish({ frames, bytes, cause, written } satisfies SttMessageMessage);
  }

  private emit(event: SttEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.settings.logger.error({ err: error, event: event.type }, 'STT event listener threw');
      }
    }
  }

  /** Tries each delay in turn; returns undefined once a session is up, or the last error. */
  private async connectWithRetries(delaysMs: readonly number[]): Promise<Error | undefined> {
    let lastError: Error = new Error('no attempt made');
    for (const delay of delaysMs) {
      if (delay > 0) await this.backoff.wait(delay);
      if (this.state === 'closing' || this.state === 'closed') return new AttemptAbortedError('closed');
      try {
        await this.startSession();
        return undefined;
      } catch (error) {
        lastError = error instanceof Error ? error : new Error(String(error));
        if (lastError instanceof AttemptAbortedError || lastError instanceof PermanentSessionError) return lastError;
        this.settings.logger.warn({ attempt: this.sessionCount, reason: lastError.message }, 'Speechmatics session attempt failed');
      }
    }
    return lastError;
  }

  private async startSession(): Promise<void> {
    const { settings } = this;
    this.sessionCount += 1;
    const client = new RealtimeClient({
      url: settings.url,
      connectionTimeout: settings.connectTimeoutMs,
      ...(settings.appId === undefined ? {} : { appId: settings.appId }),
    });
    let live = false;
    let errorType: string | undefined;
    const onMessage = (event: ReceiveMessageEvent): void => {
      if (event.data.message === 'Error') errorType = event.data.type;
      if (live && this.client === client) this.onMessage(client, event.data);
    };
    const onSocketState = (event: SocketStateChangeEvent): void => {
      if (event.socketState === 'closed' && live && this.client === client) this.onSocketClosed();
    };
    client.addEventListener('receiveMessage', onMessage);
    client.addEventListener('socketStateChange', onSocketState);
    const detach = (): void => {
      client.removeEventListener('receiveMessage', onMessage);
      client.removeEventListener('socketStateChange', onSocketState);
      closeSocket(client);
    };

    const run = (async () => {
      let jwt: string;
      try {
        jwt = await settings.getJwt();
      } catch (error) {
        if (settings.isPermanentAuthError(error)) {
          throw new PermanentSessionError(`credentials refused (${(error as Error).message})`, { cause: error });
        }
        throw error;
      }
      return client.start(jwt, settings.config);
    })();
    try {
      const started = await boundedAttempt(
        run,
        settings.connectTimeoutMs,
        (abort) => {
          this.abortAttempt = abort;
        },
        () => closeSocket(client),
      );
      if (this.state === 'closing' || this.state === 'closed') throw new AttemptAbortedError('closed');
      this.client = client;
      this.detachClient = detach;
      live = true;
      this.transcriptEnded = false;
      this.offsetSec = this.buffer.consumed / this.bytesPerSec;
      const replay = this.buffer.newSession();
      for (const message of replay) this.published([], message.length, 'replay', this.transmit(client, message));
      settings.logger.info(
        { session: started.id ?? null, attempt: this.sessionCount, replayedMessages: replay.length },
        'Speechmatics session started',
      );
    } catch (error) {
      detach();
      if (errorType !== undefined && isPermanentError(errorType)) {
        throw new PermanentSessionError(`service refused the session (${errorType})`, { cause: error });
      }
      throw error;
    }
  }

  private onMessage(client: RealtimeClient, message: RealtimeServerMessage): void {
    switch (message.message) {
      case 'AudioAdded':
        this.buffer.acknowledge(message.seq_no);
        this.changes.notify();
        return;
      case 'EndOfTranscript':
        this.transcriptEnded = true;
        this.changes.notify();
        return;
      case 'Error':
        this.settings.logger.warn({ type: message.type, reason: message.reason }, 'Speechmatics error');
        if (this.state === 'closing') return;
        if (isPermanentError(message.type)) this.fail(`Speechmatics error ${message.type}`);
        else this.loseSession(client, `Speechmatics error ${message.type}`);
        return;
      case 'Warning':
        this.settings.logger.warn({ type: message.type }, 'Speechmatics warning');
        return;
      default: {
        const event = toSttEvent(message, this.offsetSec);
        if (event !== undefined && this.state !== 'closed') this.emit(event);
      }
    }
  }

  private onSocketClosed(): void {
    this.changes.notify();
    if (this.state === 'open' && this.client !== undefined) this.loseSession(this.client, 'socket closed');
  }

  private loseSession(client: RealtimeClient, reason: string): void {
    if (this.state !== 'open' || this.client !== client) return;
    this.dropClient();
    this.state = 'reconnecting';
    this.settings.logger.warn({ reason, unacknowledgedMessages: this.buffer.length }, 'Speechmatics session lost; reconnecting');
    this.reconnecting = this.connectWithRetries(this.settings.reconnectDelaysMs).then((failure) => {
      this.reconnecting = undefined;
      if (this.state !== 'reconnecting') return;
      if (failure === undefined) this.state = 'open';
      else this.fail(`${reason}; reconnect failed: ${failure.message}`);
    });
  }

  private fail(reason: string): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.state = 'failed';
    this.dropClient();
    this.batcher.clear();
    this.buffer.clear();
    this.settings.logger.error({ reason }, 'Speechmatics unavailable; the call continues without STT');
    this.emit({ type: 'failed', reason });
  }

  private dropClient(): void {
    this.detachClient?.();
    this.detachClient = undefined;
    this.client = undefined;
    this.changes.notify();
  }

  private async shutdown(): Promise<void> {
    const previous = this.state;
    // The caller's last words: the unfilled batch goes out (or into the replay buffer) before EndOfStream.
    this.batcher.flush('close');
    this.state = 'closing';
    this.backoff.cancel();
    this.abortAttempt();
    if (this.reconnecting !== undefined) await this.reconnecting;
    const client = this.client;
    if (previous === 'open' && client !== undefined) {
      const deadline = Date.now() + this.settings.closeTimeoutMs;
      // EndOfStream's last_seq_no must count every message sent; the client fills it from the last AudioAdded,
      // so wait (bounded) until the server has acknowledged everything before asking it to stop.
      const gone = (): boolean => this.client !== client || client.socketState !== 'open';
      await this.changes.until(() => this.buffer.allAcknowledged || gone(), deadline - Date.now());
      if (!gone()) {
        try {
          await client.stopRecognition({ noTimeout: true });
        } catch {
          // Socket already gone: nothing more will arrive.
        }
        await this.changes.until(
          () => this.transcriptEnded || gone(),
          deadline - Date.now(),
        );
      }
    }
    this.dropClient();
    this.batcher.clear();
    this.buffer.clear();
    this.listeners.length = 0;
    this.state = 'closed';
  }
}

// The client has no public close: after EndOfTranscript it closes the socket itself, but a session that is
// abandoned (timeout, drop, close() without EndOfTranscript) must not leave its socket open.
function closeSocket(client: RealtimeClient): void {
  const socket = (client as unknown as { socket?: { readyState: number; close(): void; terminate?(): void } }).socket;
  if (socket === undefined) return;
  try {
    if (typeof socket.terminate === 'function') socket.terminate();
    else socket.close();
  } catch {
    // Already closed.
  }
}
