// A local stand-in for the Speechmatics batch API v2 (docs.speechmatics.com, batch API reference), for the
// real @speechmatics/batch-client: POST /v2/jobs (multipart: `config` JSON + `data_file`) → {id};
// GET /v2/jobs/:id → {job: {status: running → done after a delay}}; GET /v2/jobs/:id/transcript?format=json-v2
// → the transcript; DELETE /v2/jobs/:id. Bearer API key (401 otherwise); errors as {code, error, detail}.
// It transcribes WAV audio spoken with our codec (src/simulator/spoken-audio.ts), each channel on its own
// as channel diarization does: every result carries `channel` with the label from
// channel_diarization_labels. Hard medical words come out misheard unless in additional_vocab, like the
// real-time stand-in. Failures can be injected: refused uploads, 5xx answers, jobs that end 'rejected',
// jobs held 'running'. Tests, the demo and the bench only; never used in production.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { waitForChange } from './speechmatics-peer.ts';
import { SpokenAudioTranscriber } from './speechmatics-transcriber.ts';

export interface SpeechmaticsBatchPeerOptions {
  /** When set, every request needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** How long a job stays 'running' before it is 'done' (default 100 ms). */
  doneAfterMs?: number;
}

export interface BatchJob {
  id: string;
  createdAt: string;
  dataName: string;
  config: Record<string, unknown>;
  status: 'running' | 'done' | 'rejected' | 'deleted';
  errors: { timestamp: string; message: string }[];
  durationSec: number;
  results: Record<string, unknown>[];
  /** Channel count of the uploaded audio. */
  channels: number;
}

type Injection = { kind: 'refuse'; status: number; error: string; detail: string } | { kind: 'reject'; message: string };

const ERROR_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Permission Denied',
  403: 'Forbidden',
  404: 'Job not found',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  503: 'Internal Server Error',
};

export class SpeechmaticsBatchPeer {
  readonly jobs = new Map<string, BatchJob>();
  /** Every request seen (method and path), in order. */
  readonly requests: { method: string; path: string }[] = [];
  /** While true, jobs stay 'running' (a slow transcription, or a worker to kill mid-job). */
  holdJobs = false;
  readonly #http: Server;
  readonly #o: SpeechmaticsBatchPeerOptions;
  readonly #injections: Injection[] = [];
  readonly #changes = new EventEmitter();

  private constructor(http: Server, options: SpeechmaticsBatchPeerOptions) {
    this.#http = http;
    this.#o = options;
    this.#changes.setMaxListeners(100);
  }

  static async start(options: SpeechmaticsBatchPeerOptions = {}): Promise<SpeechmaticsBatchPeer> {
    const http = createServer();
    const peer = new SpeechmaticsBatchPeer(http, options);
    http.on('request', (req, res) => {
      peer.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) peer.#error(res, 500, `peer failure: ${(error as Error).message}`);
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.#http.address() as AddressInfo).port;
  }

  /** The client's apiUrl. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/v2`;
  }

  /** The next `count` uploads are answered with `status` (e.g. 500, or 400 for audio it will not take). */
  refuseNext(count: number, status: number, detail = 'injected failure'): void {
    const error = status === 400 ? 'Job rejected due to invalid audio' : (ERROR_NAMES[status] ?? 'Internal Server Error');
    for (let i = 0; i < count; i++) this.#injections.push({ kind: 'refuse', status, error, detail });
  }

  /** The next `count` jobs are accepted, then end with status 'rejected' and this message. */
  rejectNext(count: number, message: string): void {
    for (let i = 0; i < count; i++) this.#injections.push({ kind: 'reject', message });
  }

  /** Lets held jobs finish. */
  release(): void {
    this.holdJobs = false;
    this.#changes.emit('change');
  }

  /** Resolves once `condition` holds (checked after every request and job change). */
  waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
    return waitForChange(this.#changes, condition, timeoutMs, 'Speechmatics batch peer');
  }

  async close(): Promise<void> {
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://peer');
    const method = req.method ?? 'GET';
    this.requests.push({ method, path: url.pathname });
    this.#changes.emit('change');
    if (this.#o.apiKey !== undefined && req.headers.authorization !== `Bearer ${this.#o.apiKey}`) {
      req.resume();
      return this.#error(res, 401, 'invalid API key');
    }
    const parts = url.pathname.split('/').filter((p) => p !== '');
    if (parts[0] !== 'v2' || parts[1] !== 'jobs') return this.#error(res, 404, 'no such endpoint');
    if (parts.length === 2 && method === 'POST') return this.#create(req, res, url);
    const job = parts[2] === undefined ? undefined : this.jobs.get(parts[2]);
    if (job === undefined || job.status === 'deleted') return this.#error(res, 404, 'job not found');
    if (parts.length === 3 && method === 'GET') return this.#json(res, 200, { job: this.#details(job) });
    if (parts.length === 3 && method === 'DELETE') {
      job.status = 'deleted';
      this.#changes.emit('change');
      return this.#json(res, 200, { job: this.#details(job) });
    }
    if (parts.length === 4 && parts[3] === 'transcript' && method === 'GET') {
      if (job.status !== 'done') return this.#error(res, 404, 'Transcription not ready', 'Transcription not ready');
      if (url.searchParams.get('format') !== 'json-v2') return this.#error(res, 400, 'only json-v2 is spoken here', 'Format Not Supported');
      return this.#json(res, 200, {
        format: '2.9',
        job: { created_at: job.createdAt, data_name: job.dataName, duration: job.durationSec, id: job.id },
        metadata: { created_at: job.createdAt, type: 'transcription', transcription_config: job.config.transcription_config },
        results: job.results,
      });
    }
    return this.#error(res, 404, 'no such endpoint');
  }

  async #create(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const form = await new Request(url, {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: Readable.toWeb(req) as ReadableStream,
      duplex: 'half',
    } as RequestInit).formData();
    const injected = this.#injections.shift();
    if (injected?.kind === 'refuse') return this.#error(res, injected.status, injected.detail, injected.error);
    const configText = form.get('config');
    const data = form.get('data_file');
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(typeof configText === 'string' ? configText : '') as Record<string, unknown>;
    } catch {
      return this.#error(res, 400, 'config is not JSON', 'Malformed request');
    }
    const transcription = config.transcription_config as { language?: unknown } | undefined;
    if (typeof transcription?.language !== 'string') return this.#error(res, 400, 'transcription_config.language is required', 'No language selected');
    if (data === null || typeof data === 'string') return this.#error(res, 400, 'data_file is required', 'Missing data_file');
    const audio = Buffer.from(await data.arrayBuffer());
    const wav = parseWav(audio);
    if (wav === undefined) return this.#error(res, 400, 'the file is not audio we can read', 'Job rejected due to invalid audio');

    const id = randomBytes(5).toString('hex');
    const job: BatchJob = {
      id,
      createdAt: new Date().toISOString(),
      dataName: data.name,
      config,
      status: 'running',
      errors: [],
      durationSec: Math.round((wav.samples.length / wav.channels / wav.sampleRate) * 100) / 100,
      results: transcribe(wav, config),
      channels: wav.channels,
    };
    this.jobs.set(id, job);
    this.#changes.emit('change');
    const finish = (): void => {
      if (job.status !== 'running') return;
      if (this.holdJobs) {
        this.#changes.once('change', () => setImmediate(finish));
        return;
      }
      if (injected?.kind === 'reject') job.errors.push({ timestamp: new Date().toISOString(), message: injected.message });
      job.status = injected?.kind === 'reject' ? 'rejected' : 'done';
      this.#changes.emit('change');
    };
    setTimeout(finish, this.#o.doneAfterMs ?? 100).unref();
    this.#json(res, 201, { id });
  }

  #details(job: BatchJob): Record<string, unknown> {
    return {
      created_at: job.createdAt,
      data_name: job.dataName,
      duration: job.durationSec,
      id: job.id,
      status: job.status,
      config: job.config,
      ...(job.errors.length > 0 ? { errors: job.errors } : {}),
    };
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    this.#changes.emit('change');
  }

  #error(res: ServerResponse, status: number, detail: string, error = ERROR_NAMES[status] ?? 'Internal Server Error'): void {
    this.#json(res, status, { code: status, error, detail });
  }
}

interface Wav {
  channels: number;
  sampleRate: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
}

function parseWav(file: Buffer): Wav | undefined {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  let format: { channels: number; sampleRate: number; bits: number } | undefined;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= file.length) {
      format = { channels: file.readUInt16LE(body + 2), sampleRate: file.readUInt32LE(body + 4), bits: file.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (format === undefined || format.bits !== 16 || format.channels < 1 || format.sampleRate < 8000) return undefined;
      const end = size === 0 || body + size > file.length ? file.length : body + size;
      const bytes = file.subarray(body, end - ((end - body) % 2));
      const samples = new Int16Array(bytes.length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      return { channels: format.channels, sampleRate: format.sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}

/** Each channel through the spoken-audio transcriber; results labelled by channel, in time order. */
function transcribe(wav: Wav, config: Record<string, unknown>): Record<string, unknown>[] {
  const tc = config.transcription_config as {
    language: string;
    diarization?: unknown;
    channel_diarization_labels?: unknown;
    additional_vocab?: { content?: unknown }[];
  };
  const byChannel = tc.diarization === 'channel';
  const labels = Array.isArray(tc.channel_diarization_labels) ? tc.channel_diarization_labels.map(String) : [];
  const vocabulary = (tc.additional_vocab ?? []).flatMap((v) => (typeof v.content === 'string' ? [v.content] : []));
  const results: Record<string, unknown>[] = [];
  const frameSamples = wav.sampleRate / 50;
  for (let channel = 0; channel < (byChannel ? wav.channels : 1); channel++) {
    const label = labels[channel] ?? `Channel ${channel + 1}`;
    const transcriber = new SpokenAudioTranscriber(
      { sampleRate: wav.sampleRate, endOfUtteranceSilenceSec: 0.6, partials: false, vocabulary, language: tc.language },
      (message) => {
        if (message.message !== 'AddTranscript') return;
        for (const result of message.results as Record<string, unknown>[]) results.push(byChannel ? { ...result, channel: label } : result);
      },
    );
    // The channel's samples in one buffer: the transcriber cuts it into 20 ms frames itself.
    const samples = Math.floor(wav.samples.length / wav.channels / frameSamples) * frameSamples;
    const audio = Buffer.alloc(samples * 2);
    for (let i = 0; i < samples; i++) audio.writeInt16LE(wav.samples[i * wav.channels + channel] ?? 0, i * 2);
    transcriber.push(audio);
    transcriber.flush();
  }
  return results.sort((a, b) => Number(a.start_time) - Number(b.start_time));
}
