// A local stand-in for Speechmatics real-time, speaking its wire protocol (docs.speechmatics.com, real-time
// API reference): WebSocket at /v2 with ?jwt=, StartRecognition → Info + RecognitionStarted{id}, each binary
// frame → AudioAdded{seq_no}, AddPartialTranscript / AddTranscript / EndOfUtterance as the test scripts
// them, EndOfStream{last_seq_no} → EndOfTranscript, Error{type, reason}. Temporary keys come from
// POST /v1/api_keys?type=rt with the API key as a bearer token, as from the management platform.
// With `transcribeSpokenAudio` every session also transcribes audio spoken with our codec, the way the real
// service would (speechmatics-transcriber.ts). Tests, the demo and the bench drive the real
// @speechmatics/real-time-client against it; never used in production.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { SpokenAudioTranscriber } from './speechmatics-transcriber.ts';

export interface SpeechmaticsPeerOptions {
  /** When set, temporary keys are issued only for this API key and every session needs an issued key. */
  apiKey?: string;
  /**
   * Transcribe audio spoken with src/simulator/spoken-audio.ts: partials while the caller speaks, the final
   * when the voice stops, EndOfUtterance after the session's silence trigger (default 0.6 s), in audio time.
   */
  transcribeSpokenAudio?: boolean;
  /** Measurement hook (the benchmark): called with each audio frame as it arrives, before it is handled. */
  onAudio?: (sessionId: string, frame: Buffer) => void;
}

/** What the next StartRecognition gets: a normal start, an Error, or no answer at all. */
export type StartBehaviour = { kind: 'ok' } | { kind: 'error'; type: string; reason: string } | { kind: 'silent' };

interface Word {
  content: string;
  confidence: number;
}

export class PeerSession {
  readonly id: string;
  readonly jwt: string | null;
  start: Record<string, unknown> | undefined;
  readonly frames: Buffer[] = [];
  bytes = 0;
  /** While false, AudioAdded is held back (the audio counts as unacknowledged for the client). */
  ackAudio = true;
  /** While false, EndOfStream gets no EndOfTranscript. */
  answerEndOfStream = true;
  endOfStream: { last_seq_no: number } | undefined;
  /** Run just before EndOfTranscript: the service flushes its last transcript here. */
  beforeEndOfTranscript: ((session: PeerSession) => void) | undefined;
  closed = false;
  /** Set when the peer transcribes spoken audio (from RecognitionStarted on). */
  transcriber: SpokenAudioTranscriber | undefined;
  readonly received: Record<string, unknown>[] = [];
  private heldAcks = 0;
  private readonly triggers: { bytes: number; action: (session: PeerSession) => void }[] = [];
  private readonly changes = new EventEmitter();

  constructor(
    private readonly socket: WebSocket,
    id: string,
    jwt: string | null,
  ) {
    this.id = id;
    this.jwt = jwt;
    this.changes.setMaxListeners(100);
  }

  /** Runs `action` once, as soon as at least `bytes` bytes of audio have arrived in this session. */
  atBytes(bytes: number, action: (session: PeerSession) => void): void {
    this.triggers.push({ bytes, action });
    this.fireTriggers();
  }

  send(message: Record<string, unknown>): void {
    if (!this.closed) this.socket.send(JSON.stringify(message));
  }

  partial(text: string, startSec: number, endSec: number): void {
    this.send({ message: 'AddPartialTranscript', format: '2.9', ...transcriptBody(text, startSec, endSec, 0) });
  }

  final(text: string, startSec: number, endSec: number, confidence = 0.95): void {
    this.send({ message: 'AddTranscript', format: '2.9', ...transcriptBody(text, startSec, endSec, confidence) });
  }

  endOfUtterance(atSec: number): void {
    this.send({ message: 'EndOfUtterance', metadata: { start_time: atSec, end_time: atSec } });
  }

  error(type: string, reason: string): void {
    this.send({ message: 'Error', type, reason });
  }

  /** Sends the AudioAdded messages held back while ackAudio was false. */
  releaseAcks(): void {
    this.ackAudio = true;
    while (this.heldAcks > 0) {
      this.heldAcks -= 1;
      this.send({ message: 'AudioAdded', seq_no: this.frames.length - this.heldAcks });
    }
  }

  /** The connection dies without a closing handshake (network loss, service restart). */
  drop(): void {
    this.socket.terminate();
  }

  waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    return waitForChange(this.changes, condition, timeoutMs, `peer session ${this.id}`);
  }

  /** @internal */
  handleAudio(frame: Buffer): void {
    this.frames.push(frame);
    this.bytes += frame.length;
    if (this.ackAudio) this.send({ message: 'AudioAdded', seq_no: this.frames.length });
    else this.heldAcks += 1;
    this.transcriber?.push(frame);
    this.fireTriggers();
    this.changes.emit('change');
  }

  /** @internal */
  handleMessage(message: Record<string, unknown>): void {
    this.received.push(message);
    if (message.message === 'EndOfStream') {
      this.endOfStream = { last_seq_no: Number(message.last_seq_no) };
      if (this.answerEndOfStream) {
        this.transcriber?.flush();
        this.beforeEndOfTranscript?.(this);
        this.send({ message: 'EndOfTranscript' });
      }
    }
    this.changes.emit('change');
  }

  /** @internal */
  handleClose(): void {
    this.closed = true;
    this.changes.emit('change');
  }

  private fireTriggers(): void {
    for (let i = 0; i < this.triggers.length; ) {
      const trigger = this.triggers[i] as { bytes: number; action: (session: PeerSession) => void };
      if (this.bytes >= trigger.bytes) {
        this.triggers.splice(i, 1);
        trigger.action(this);
      } else i += 1;
    }
  }
}

function transcriptBody(text: string, startSec: number, endSec: number, confidence: number): Record<string, unknown> {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const step = words.length === 0 ? 0 : (endSec - startSec) / words.length;
  const results = words.map((content, index) => {
    const punctuation = /[.,?!]$/.test(content) && content.length > 1;
    const word: Word = { content: punctuation ? content.slice(0, -1) : content, confidence };
    return {
      type: 'word',
      start_time: startSec + step * index,
      end_time: startSec + step * (index + 1),
      alternatives: [{ ...word, language: 'en' }],
    };
  });
  return { metadata: { start_time: startSec, end_time: endSec, transcript: text }, results };
}

export class SpeechmaticsPeer {
  readonly sessions: PeerSession[] = [];
  readonly tokenRequests: { authorization: string | undefined; body: Record<string, unknown> }[] = [];
  /** Upgrades are answered 503 while true (the service is down). */
  refuseConnections = false;
  /** Behaviours for the next StartRecognition messages, in order; then normal starts. */
  readonly startBehaviours: StartBehaviour[] = [];
  private readonly issued = new Set<string>();
  private readonly sockets = new Set<WebSocket>();
  private readonly changes = new EventEmitter();
  private nextId = 1;

  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly options: SpeechmaticsPeerOptions,
  ) {}

  static async start(options: SpeechmaticsPeerOptions = {}): Promise<SpeechmaticsPeer> {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true });
    const peer = new SpeechmaticsPeer(http, wss, options);
    http.on('request', (req, res) => peer.onRequest(req, res));
    http.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://peer');
      const jwt = url.searchParams.get('jwt');
      const refuse = (status: number, text: string): void => {
        socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      };
      if (peer.refuseConnections) return refuse(503, 'Service Unavailable');
      if (!url.pathname.startsWith('/v2')) return refuse(404, 'Not Found');
      if (options.apiKey !== undefined && (jwt === null || !peer.issued.has(jwt))) return refuse(401, 'Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => peer.onConnection(ws, jwt));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/v2`;
  }

  get managementUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  /** Resolves with the n-th session (0-based) once its StartRecognition has arrived. */
  async session(index: number, timeoutMs = 5000): Promise<PeerSession> {
    await this.waitFor(() => this.sessions[index]?.start !== undefined, timeoutMs);
    return this.sessions[index] as PeerSession;
  }

  waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
    return waitForChange(this.changes, condition, timeoutMs, `Speechmatics peer`);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://peer');
    if (req.method !== 'POST' || url.pathname !== '/v1/api_keys' || url.searchParams.get('type') !== 'rt') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 422, message: 'bad json' }));
        return;
      }
      this.tokenRequests.push({ authorization: req.headers.authorization, body });
      if (this.options.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 403, message: 'unauthorized' }));
        return;
      }
      const key = `peer-jwt-${this.tokenRequests.length}`;
      this.issued.add(key);
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ apikey_id: null, key_value: key }));
    });
  }

  private onConnection(ws: WebSocket, jwt: string | null): void {
    const session = new PeerSession(ws, `peer-session-${this.nextId++}`, jwt);
    this.sessions.push(session);
    this.sockets.add(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        if (session.start === undefined) {
          session.error('protocol_error', 'audio before StartRecognition');
          ws.close(1011);
          return;
        }
        this.options.onAudio?.(session.id, data);
        session.handleAudio(data);
        return;
      }
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      } catch {
        session.error('invalid_message', 'not JSON');
        return;
      }
      if (message.message === 'StartRecognition') this.onStart(session, message);
      else session.handleMessage(message);
      this.changes.emit('change');
    });
    ws.on('close', () => {
      this.sockets.delete(ws);
      session.handleClose();
      this.changes.emit('change');
    });
    this.changes.emit('change');
  }

  private onStart(session: PeerSession, message: Record<string, unknown>): void {
    const config = message.transcription_config as { language?: unknown } | undefined;
    const format = message.audio_format as { type?: unknown } | undefined;
    if (session.start !== undefined) return session.error('protocol_error', 'StartRecognition sent twice');
    if (typeof config?.language !== 'string' || format === undefined) {
      return session.error('invalid_config', 'transcription_config.language and audio_format are required');
    }
    session.start = message;
    session.received.push(message);
    const behaviour = this.startBehaviours.shift() ?? { kind: 'ok' };
    if (behaviour.kind === 'silent') return;
    if (behaviour.kind === 'error') {
      session.error(behaviour.type, behaviour.reason);
      return;
    }
    session.send({ message: 'Info', type: 'recognition_quality', quality: 'telephony', reason: 'peer' });
    session.send({
      message: 'RecognitionStarted',
      id: session.id,
      orchestrator_version: 'peer',
      language_pack_info: { adapted: false, itn: true, language_description: config.language, word_delimiter: ' ', writing_direction: 'left-to-right' },
    });
    if (this.options.transcribeSpokenAudio === true) session.transcriber = transcriberFor(session, message);
  }
}

function transcriberFor(session: PeerSession, start: Record<string, unknown>): SpokenAudioTranscriber {
  const format = start.audio_format as { sample_rate?: unknown };
  const config = start.transcription_config as {
    language: string;
    enable_partials?: unknown;
    additional_vocab?: { content?: unknown }[];
    conversation_config?: { end_of_utterance_silence_trigger?: unknown };
  };
  const trigger = config.conversation_config?.end_of_utterance_silence_trigger;
  return new SpokenAudioTranscriber(
    {
      sampleRate: typeof format.sample_rate === 'number' ? format.sample_rate : 16000,
      endOfUtteranceSilenceSec: typeof trigger === 'number' ? trigger : 0.6,
      partials: config.enable_partials === true,
      vocabulary: (config.additional_vocab ?? []).flatMap((v) => (typeof v.content === 'string' ? [v.content] : [])),
      language: config.language,
    },
    (message) => session.send(message),
  );
}

/** Resolves once `condition` holds, re-checked on every 'change' of `changes`; rejects after `timeoutMs`. */
export function waitForChange(changes: EventEmitter, condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!condition()) return;
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      changes.off('change', check);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${what}: condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    changes.on('change', check);
  });
}
