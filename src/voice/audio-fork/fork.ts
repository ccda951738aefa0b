// One expected audio fork: the per-call handle the session gets from AudioForkServer.expect(). It owns the
// single-use token, becomes the call's WebSocket once mod_audio_fork connects, and turns what FreeSWITCH
// sends into typed events: `metadata` (the first text frame, before any audio), `audio` (each binary frame
// of 16-bit LE PCM, the Buffer ws handed us, never copied), `text` (later text frames), `closed`.
// Back-pressure: a consumer that cannot keep up calls pause(); frames then wait in a bounded queue that
// drops the oldest (counted, `overrun` once per episode) until resume() delivers what is left.
import { EventEmitter } from 'node:events';
import type { RawData, WebSocket } from 'ws';
import { forkFrameChannel, type ForkFrameMessage } from '../frame-path.ts';
import { FrameQueue } from './frame-queue.ts';
import type { AudioForkLogger } from './logger.ts';
import { encodeMessage, type AudioForkMessage, type JsonObject, type PlayAudioData } from './messages.ts';
import { forkUrl } from './tokens.ts';

export type AudioForkState = 'waiting' | 'connected' | 'closed' | 'cancelled';

export interface AudioForkEvents {
  /** mod_audio_fork's WebSocket was accepted for this call. */
  connected: [];
  /** The first text frame, exactly as FreeSWITCH sent it, and its JSON value (undefined if not JSON). */
  metadata: [raw: string, value: unknown];
  /** One binary frame: 20 ms of 16-bit LE PCM (640 bytes mono 16k, 320 mono 8k). Do not keep or modify it. */
  audio: [frame: Buffer];
  /** Any later text frame (`uuid_audio_fork … send_text X`, or the `stop X` farewell). */
  text: [text: string];
  /** Frames were dropped because the consumer is paused; `dropped` counts every drop on this fork. */
  overrun: [info: { dropped: number; buffered: number }];
  /** The WebSocket closed (1000 after `uuid_audio_fork stop`, 1006 when FreeSWITCH vanished). */
  closed: [code: number, reason: string];
  /** Nobody connected within the token's lifetime: the token no longer works (state `cancelled`). */
  expired: [];
}

export interface AudioForkOptions {
  callId: string;
  token: string;
  path: string;
  maxBufferedFrames: number;
  /** How long the token waits for mod_audio_fork to connect; a forgotten expectation cannot pile up. */
  ttlMs: number;
  logger: AudioForkLogger;
  /** The server forgets this fork (its token stops working). */
  release: (fork: AudioFork) => void;
}

export class AudioFork extends EventEmitter<AudioForkEvents> {
  readonly callId: string;
  readonly token: string;
  readonly #path: string;
  readonly #logger: AudioForkLogger;
  readonly #release: (fork: AudioFork) => void;
  readonly #queue: FrameQueue;
  #state: AudioForkState = 'waiting';
  #ws: WebSocket | undefined;
  #paused = false;
  #overrunEpisode = false;
  #sawFrame = false;
  #framesReceived = 0;
  #closeWait: Promise<void> | undefined;
  #ttlTimer: NodeJS.Timeout | undefined;

  constructor(options: AudioForkOptions) {
    super();
    this.callId = options.callId;
    this.token = options.token;
    this.#path = options.path;
    this.#logger = options.logger;
    this.#release = options.release;
    this.#queue = new FrameQueue(options.maxBufferedFrames);
    this.#ttlTimer = setTimeout(() => {
      if (this.#state !== 'waiting') return;
      this.#logger.warn({ callId: this.callId }, 'audio fork never connected: token expired');
      void this.shutdown({ code: 1000, reason: 'expired', timeoutMs: 0 });
      this.#deliver('expired');
    }, options.ttlMs);
    // A pending expectation alone must not keep the process alive.
    this.#ttlTimer.unref();
  }

  /** The URL to give `uuid_audio_fork <uuid> start <url> mono 16k`; base is how FreeSWITCH reaches us. */
  url(base: string): string {
    return forkUrl({ base, path: this.#path, callId: this.callId, token: this.token });
  }

  get state(): AudioForkState {
    return this.#state;
  }

  get framesReceived(): number {
    return this.#framesReceived;
  }

  get droppedFrames(): number {
    return this.#queue.dropped;
  }

  get bufferedFrames(): number {
    return this.#queue.size;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Hold audio in the bounded queue instead of emitting it (the consumer is backed up). */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Emit the queued frames in order, then carry on live. A listener may pause() again mid-drain. Frames
   * still queued when the fork closes stay available to resume() (the caller's last words).
   */
  resume(): void {
    this.#paused = false;
    this.#overrunEpisode = false;
    while (!this.#paused) {
      const frame = this.#queue.shift();
      if (frame === undefined) break;
      this.#deliver('audio', frame);
    }
  }

  /** Sends one JSON message to FreeSWITCH; false when the fork is not connected (nothing was sent). */
  send(message: AudioForkMessage): boolean {
    const ws = this.#ws;
    if (this.#state !== 'connected' || ws === undefined || ws.readyState !== ws.OPEN) return false;
    ws.send(encodeMessage(message));
    return true;
  }

  playAudio(data: PlayAudioData): boolean {
    return this.send({ type: 'playAudio', data });
  }

  killAudio(): boolean {
    return this.send({ type: 'killAudio' });
  }

  transcription(data: JsonObject): boolean {
    return this.send({ type: 'transcription', data });
  }

  transfer(data: JsonObject): boolean {
    return this.send({ type: 'transfer', data });
  }

  /** Only an event (`mod_audio_fork::disconnect`) on FreeSWITCH's side: it does not close the fork. */
  disconnect(data: JsonObject): boolean {
    return this.send({ type: 'disconnect', data });
  }

  error(data: JsonObject): boolean {
    return this.send({ type: 'error', data });
  }

  json(data: JsonObject): boolean {
    return this.send({ type: 'json', data });
  }

  /** The call is over: refuse its token from now on and close an open fork (1000). Idempotent. */
  cancel(): void {
    void this.shutdown({ code: 1000, reason: 'call ended', timeoutMs: 1_000 });
  }

  /** @internal The server accepted mod_audio_fork's upgrade for this fork. */
  attach(ws: WebSocket): void {
    clearTimeout(this.#ttlTimer);
    this.#ws = ws;
    this.#state = 'connected';
    ws.on('message', this.#onMessage);
    ws.on('error', (err) => this.#logger.warn({ callId: this.callId, err: err.message }, 'audio fork websocket error'));
    ws.once('close', (code: number, reason: Buffer) => {
      ws.off('message', this.#onMessage);
      this.#state = 'closed';
      this.#release(this);
      this.#logger.info(
        { callId: this.callId, code, framesReceived: this.#framesReceived, droppedFrames: this.#queue.dropped },
        'audio fork closed',
      );
      this.#deliver('closed', code, reason.toString('utf8'));
    });
    this.#deliver('connected');
  }

  /**
   * @internal Closes with `code` and waits for the close handshake at most `timeoutMs`, then drops the
   * socket. Resolves in every case; a second call waits on the first.
   */
  shutdown(options: { code: number; reason: string; timeoutMs: number }): Promise<void> {
    clearTimeout(this.#ttlTimer);
    if (this.#state === 'waiting') {
      this.#state = 'cancelled';
      this.#release(this);
      return Promise.resolve();
    }
    const ws = this.#ws;
    if (this.#state !== 'connected' || ws === undefined) return this.#closeWait ?? Promise.resolve();
    this.#closeWait ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), options.timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(options.code, options.reason);
    });
    return this.#closeWait;
  }

  readonly #onMessage = (data: RawData, isBinary: boolean): void => {
    // binaryType is 'nodebuffer': a single-fragment frame is a view into the socket chunk ws read.
    const payload = data as Buffer;
    if (isBinary) {
      if (forkFrameChannel.hasSubscribers) forkFrameChannel.publish({ callId: this.callId, frame: payload } satisfies ForkFrameMessage);
      this.#sawFrame = true;
      this.#framesReceived++;
      if (!this.#paused) {
        this.#deliver('audio', payload);
        return;
      }
      if (this.#queue.push(payload) && !this.#overrunEpisode) {
        this.#overrunEpisode = true;
        this.#logger.warn({ callId: this.callId, dropped: this.#queue.dropped }, 'audio fork consumer too slow: dropping oldest frames');
        this.#deliver('overrun', { dropped: this.#queue.dropped, buffered: this.#queue.size });
      }
      return;
    }
    const text = payload.toString('utf8');
    if (this.#sawFrame) {
      this.#deliver('text', text);
      return;
    }
    this.#sawFrame = true;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    this.#deliver('metadata', text, value);
  };

  /** A throwing listener must not take the socket (and every other call's parsing) down with it. */
  #deliver<K extends keyof AudioForkEvents>(event: K, ...args: AudioForkEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: AudioForkEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#logger.error({ callId: this.callId, event, err: err instanceof Error ? err.message : String(err) }, 'audio fork listener threw');
    }
  }
}
