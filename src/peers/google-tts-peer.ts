// A local stand-in for Google Cloud Text-to-Speech, speaking the REST surface the official client uses in
// fallback (HTTP/1.1) mode: `POST /v1/text:synthesize` (query `$alt=json;enum-encoding=int`) with
// `{input: {text|ssml}, voice: {languageCode, name}, audioConfig: {audioEncoding, sampleRateHertz}}`, answered
// with `{audioContent: <base64>}` or a Google error body `{error: {code, message, status}}`. Like the real
// service, LINEAR16 and MULAW audio come wrapped in a WAV header (unless `rawAudio` asks otherwise).
// The audio is a deterministic 440 Hz tone whose length follows the text (see `toneDurationMs`).
// A local stand-in for tests, the demo and the bench; never used in production.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GoogleTtsPeerOptions {
  /** When set, requests must carry it as X-Goog-Api-Key (403 otherwise). */
  apiKey?: string;
  /** Pace of the returned speech: ms of audio per character of text (default 40). */
  msPerChar?: number;
  /** Longest audio returned, in ms (default 3000; Infinity for no cap). */
  maxDurationMs?: number;
  /** How long every synthesis takes before the answer goes out, in ms (default 0): the real service's work. */
  latencyMs?: number;
}

export interface PeerRequest {
  path: string;
  apiKey: string | undefined;
  input: { text?: string; ssml?: string };
  voice: { languageCode?: string; name?: string };
  audioConfig: { audioEncoding?: number | string; sampleRateHertz?: number };
}

/** Milliseconds of tone the peer returns for a text: `msPerChar` per character, at least 200 ms, at most `maxMs`. */
export function toneDurationMs(text: string, msPerChar = 40, maxMs = 3000): number {
  return Math.min(maxMs, Math.max(200, text.length * msPerChar));
}

const ENCODINGS: Record<string, 'LINEAR16' | 'MULAW'> = { '1': 'LINEAR16', LINEAR16: 'LINEAR16', '5': 'MULAW', MULAW: 'MULAW' };

export class GoogleTtsPeer {
  readonly requests: PeerRequest[] = [];
  /** Answer the next N synthesize requests with this HTTP status (500 → INTERNAL). */
  failNext = 0;
  failStatus = 500;
  /** Answer with raw samples (no WAV header), as a misbehaving proxy might. */
  rawAudio = false;
  /** Hold every answer until release() is called. */
  #held: (() => void)[] | null = null;
  readonly #server: Server;
  readonly #apiKey: string | undefined;
  readonly #msPerChar: number;
  readonly #maxDurationMs: number;
  readonly #latencyMs: number;
  #arrivalWaiters: { count: number; resolve: () => void }[] = [];

  private constructor(server: Server, options: GoogleTtsPeerOptions) {
    this.#server = server;
    this.#apiKey = options.apiKey;
    this.#msPerChar = options.msPerChar ?? 40;
    this.#maxDurationMs = options.maxDurationMs ?? 3000;
    this.#latencyMs = options.latencyMs ?? 0;
  }

  static async start(options: GoogleTtsPeerOptions = {}): Promise<GoogleTtsPeer> {
    const server = createServer();
    // Google's front ends keep an idle connection open far longer than Node's default 5 s, which equals the
    // client agent's idle timeout: a request written on a socket the server is just closing failed with
    // ECONNRESET (a few synthesis failures a run in the streaming bench), which the real service does not cause.
    server.keepAliveTimeout = 60_000;
    const peer = new GoogleTtsPeer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void peer.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return peer;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const answer of held) answer();
  }

  /** Resolves once `count` requests have arrived in total (bounded by `timeoutMs`). */
  async waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    if (this.requests.length >= count) return;
    let timer: NodeJS.Timeout | undefined;
    let waiter: { count: number; resolve: () => void } | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        waiter = { count, resolve };
        this.#arrivalWaiters.push(waiter);
        timer = setTimeout(() => reject(new Error(`peer saw ${this.requests.length}/${count} requests`)), timeoutMs);
      });
    } finally {
      clearTimeout(timer);
      this.#arrivalWaiters = this.#arrivalWaiters.filter((w) => w !== waiter);
    }
  }

  async close(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method !== 'POST' || path !== '/v1/text:synthesize') {
      sendError(res, 404, 'NOT_FOUND', `No route ${req.method ?? ''} ${path}`);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Partial<PeerRequest>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<PeerRequest>;
    } catch {
      sendError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      return;
    }
    const header = req.headers['x-goog-api-key'];
    const request: PeerRequest = {
      path,
      apiKey: Array.isArray(header) ? header[0] : header,
      input: body.input ?? {},
      voice: body.voice ?? {},
      audioConfig: body.audioConfig ?? {},
    };
    this.requests.push(request);
    for (const waiter of this.#arrivalWaiters) if (this.requests.length >= waiter.count) waiter.resolve();

    const answer = (): void => {
      if (this.#latencyMs === 0) return this.answer(request, res);
      setTimeout(() => res.destroyed || this.answer(request, res), this.#latencyMs).unref();
    };
    if (this.#held !== null) this.#held.push(answer);
    else answer();
  }

  private answer(request: PeerRequest, res: ServerResponse): void {
    if (this.#apiKey !== undefined && request.apiKey !== this.#apiKey) {
      sendError(res, 403, 'PERMISSION_DENIED', 'The request is missing a valid API key.');
      return;
    }
    if (this.failNext > 0) {
      this.failNext -= 1;
      sendError(res, this.failStatus, this.failStatus === 503 ? 'UNAVAILABLE' : 'INTERNAL', 'Internal error encountered.');
      return;
    }
    const text = request.input.text ?? request.input.ssml;
    const encoding = ENCODINGS[String(request.audioConfig.audioEncoding)];
    const rate = request.audioConfig.sampleRateHertz ?? 24000;
    if (text === undefined || text === '' || request.voice.languageCode === undefined || encoding === undefined) {
      sendError(res, 400, 'INVALID_ARGUMENT', 'input, voice.languageCode and audioConfig.audioEncoding are required.');
      return;
    }
    const audio = tone(encoding, rate, toneDurationMs(text, this.#msPerChar, this.#maxDurationMs), !this.rawAudio);
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ audioContent: audio.toString('base64') }));
  }
}

function sendError(res: ServerResponse, code: number, status: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify({ error: { code, message, status } }));
}

function tone(encoding: 'LINEAR16' | 'MULAW', rate: number, durationMs: number, withHeader: boolean): Buffer {
  const samples = Math.round((rate * durationMs) / 1000);
  const bytesPerSample = encoding === 'MULAW' ? 1 : 2;
  const data = Buffer.alloc(samples * bytesPerSample);
  for (let i = 0; i < samples; i += 1) {
    const value = Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8000);
    if (encoding === 'MULAW') data[i] = muLaw(value);
    else data.writeInt16LE(value, i * 2);
  }
  if (!withHeader) return data;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(encoding === 'MULAW' ? 7 : 1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * bytesPerSample, 28);
  h.writeUInt16LE(bytesPerSample, 32);
  h.writeUInt16LE(bytesPerSample * 8, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

// G.711 mu-law companding of one 16-bit sample.
function muLaw(sample: number): number {
  const BIAS = 0x84;
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), 32635) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}
