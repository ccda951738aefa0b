// The WebSocket endpoint mod_audio_fork connects to, on the controller's existing HTTP server (Fastify's
// `fastify.server`): `GET /v1/audio-fork/<callId>?token=<token>` with subprotocol audio.drachtio.org.
// Each call is expected first (expect() hands out a single-use token); anything else is refused on the
// upgrade with an HTTP status and a log line: 401 bad/missing token, 404 unknown or ended call (or a path
// that is not ours when nobody else handles upgrades), 409 a second connection for the call, 400 without
// the subprotocol, 503 while closing. Plain HTTP requests never reach us: Fastify keeps them.
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { AudioFork } from './fork.ts';
import type { AudioForkLogger } from './logger.ts';
import { newToken, parseForkRequest, tokenMatches } from './tokens.ts';

export const AUDIO_FORK_SUBPROTOCOL = 'audio.drachtio.org';

export interface AudioForkServerOptions {
  /** The HTTP server to share (the controller's Fastify server). Its `upgrade` event is all we touch. */
  server: HttpServer;
  logger: AudioForkLogger;
  /** URL path prefix (default /v1/audio-fork); the call id is the next segment. */
  path?: string;
  /** Frames held per call while its consumer is paused (default 50 = 1 s of 20 ms frames). */
  maxBufferedFrames?: number;
  /** Largest WebSocket message accepted (default 64 KiB; a 20 ms stereo 64 kHz frame is 5 KiB). */
  maxPayloadBytes?: number;
  /** How long an expected fork's token waits for mod_audio_fork to connect (default 30 s). */
  tokenTtlMs?: number;
  /** How long close() waits for each close handshake before dropping the socket (default 1000 ms). */
  closeTimeoutMs?: number;
}

export interface AudioForkRefusal {
  status: 400 | 401 | 404 | 409 | 503;
  reason: string;
  /** Our call id from the URL ('' when absent); never a phone number. */
  callId: string;
}

export interface AudioForkServerEvents {
  connection: [fork: AudioFork];
  refused: [refusal: AudioForkRefusal];
}

export interface AudioForkStats {
  expected: number;
  connected: number;
  refused: Record<AudioForkRefusal['status'], number>;
}

export class AudioForkServer extends EventEmitter<AudioForkServerEvents> {
  readonly path: string;
  readonly #http: HttpServer;
  readonly #logger: AudioForkLogger;
  readonly #maxBufferedFrames: number;
  readonly #closeTimeoutMs: number;
  readonly #tokenTtlMs: number;
  readonly #wss: WebSocketServer;
  /** The fork each call id's URL currently reaches (a restarted fork replaces the previous one). */
  readonly #expected = new Map<string, AudioFork>();
  /** Every fork not yet closed or cancelled, including replaced ones still connected. */
  readonly #live = new Set<AudioFork>();
  readonly #refused: AudioForkStats['refused'] = { 400: 0, 401: 0, 404: 0, 409: 0, 503: 0 };
  #closing: Promise<void> | undefined;

  constructor(options: AudioForkServerOptions) {
    super();
    this.path = (options.path ?? '/v1/audio-fork').replace(/\/+$/, '');
    this.#http = options.server;
    this.#logger = options.logger;
    this.#maxBufferedFrames = options.maxBufferedFrames ?? 50;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 1_000;
    this.#tokenTtlMs = options.tokenTtlMs ?? 30_000;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxPayloadBytes ?? 64 * 1024,
      handleProtocols: (protocols) => (protocols.has(AUDIO_FORK_SUBPROTOCOL) ? AUDIO_FORK_SUBPROTOCOL : false),
    });
    this.#http.on('upgrade', this.#onUpgrade);
  }

  /**
   * Registers a call whose audio is about to be forked: the returned fork carries a fresh single-use token
   * and its URL. A waiting fork for the same call is superseded (its token stops working); one that is
   * still connected keeps running until it closes. After close() the fork comes back already cancelled.
   */
  expect(callId: string): AudioFork {
    const fork: AudioFork = new AudioFork({
      callId,
      token: newToken(),
      path: this.path,
      maxBufferedFrames: this.#maxBufferedFrames,
      ttlMs: this.#tokenTtlMs,
      logger: this.#logger,
      release: (f) => this.#forget(f),
    });
    if (this.#closing !== undefined) {
      void fork.shutdown({ code: 1001, reason: 'server closed', timeoutMs: 0 });
      return fork;
    }
    const previous = this.#expected.get(callId);
    if (previous?.state === 'waiting') previous.cancel();
    this.#expected.set(callId, fork);
    this.#live.add(fork);
    return fork;
  }

  get stats(): AudioForkStats {
    let connected = 0;
    for (const f of this.#live) if (f.state === 'connected') connected++;
    return { expected: this.#expected.size, connected, refused: { ...this.#refused } };
  }

  /** Stops accepting upgrades and closes every fork (1001), each bounded by closeTimeoutMs. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#http.off('upgrade', this.#onUpgrade);
      const forks = [...this.#live];
      await Promise.all(forks.map((f) => f.shutdown({ code: 1001, reason: 'server shutting down', timeoutMs: this.#closeTimeoutMs })));
      this.#expected.clear();
      this.#live.clear();
    })();
    return this.#closing;
  }

  #forget(fork: AudioFork): void {
    this.#live.delete(fork);
    if (this.#expected.get(fork.callId) === fork) this.#expected.delete(fork.callId);
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const parsed = parseForkRequest(req.url, this.path);
    if (parsed.kind === 'other') {
      // Another upgrade handler (a live-events WebSocket, say) owns every other path.
      if (this.#http.listenerCount('upgrade') > 1) return;
      this.#refuse(socket, req, { status: 404, reason: 'no websocket endpoint here', callId: '' });
      return;
    }
    const callId = parsed.callId;
    const refuse = (status: AudioForkRefusal['status'], reason: string): void => this.#refuse(socket, req, { status, reason, callId });
    if (this.#closing !== undefined) return refuse(503, 'server closing');
    const fork = this.#expected.get(callId);
    if (fork === undefined) return refuse(404, 'unknown or ended call');
    if (parsed.token === undefined || !tokenMatches(fork.token, parsed.token)) {
      return refuse(401, parsed.token === undefined ? 'missing token' : 'invalid token');
    }
    if (fork.state !== 'waiting') return refuse(409, 'call already has an audio fork');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    if (!offered.includes(AUDIO_FORK_SUBPROTOCOL)) return refuse(400, `subprotocol ${AUDIO_FORK_SUBPROTOCOL} not offered`);
    // Without verifyClient and compression, ws completes the upgrade synchronously: no second connection
    // can slip in between the state check above and attach().
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (fork.state !== 'waiting') {
        ws.terminate();
        return;
      }
      fork.attach(ws);
      this.#logger.info({ callId }, 'audio fork connected');
      this.emit('connection', fork);
    });
  };

  #refuse(socket: Duplex, req: IncomingMessage, refusal: AudioForkRefusal): void {
    this.#refused[refusal.status]++;
    // The token is a secret and the call id is ours: the id, the verdict and the peer's address are logged.
    this.#logger.warn(
      { callId: refusal.callId, status: refusal.status, reason: refusal.reason, remoteAddress: req.socket.remoteAddress },
      'audio fork connection refused',
    );
    socket.on('error', () => undefined);
    const body = `${refusal.reason}\n`;
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\nConnection: close\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        () => socket.destroy(),
      );
    } else socket.destroy();
    this.emit('refused', refusal);
  }
}
