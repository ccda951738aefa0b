// Google Cloud Text-to-Speech through the official client (`@google-cloud/text-to-speech` 6.x).
//
// Transport: `fallback: true` makes the client use google-gax's REST transport (HTTP/1.1 + JSON) instead of
// gRPC. It then sends `POST {protocol}://{apiEndpoint}:{port}/v1/text:synthesize?$alt=json;enum-encoding=int`
// with `{input, voice, audioConfig}` (enums as numbers) and reads `{audioContent: <base64>}`. google-gax
// takes `protocol` ('https' by default) from the client options, which is how `baseUrl: http://127.0.0.1:N`
// reaches a local peer in tests and the demo.
//
// Auth: with `apiKey`, google-auth-library sends it as `X-Goog-Api-Key` and fetches no token (simplest for
// production and what the local peer checks). Without it, `credentials` (a service-account key) or, when
// both are absent, Application Default Credentials are used and an OAuth bearer token is attached.
// A project id is always passed: without one google-auth-library looks it up, ending with a probe of the GCE
// metadata server (169.254.169.254) that cost ~420 ms on the first request here and leaves the process.
import { TextToSpeechClient, protos } from '@google-cloud/text-to-speech';
import { TtsSynthesisError } from '../../core/errors.ts';
import type { TtsEncoding } from './wav.ts';

const { AudioEncoding } = protos.google.cloud.texttospeech.v1;

export const GOOGLE_TTS_DEFAULT_URL = 'https://texttospeech.googleapis.com';
const DEFAULT_TIMEOUT_MS = 10_000;

export interface GoogleTtsOptions {
  /** Scheme, host and optional port of the API; default https://texttospeech.googleapis.com. */
  baseUrl?: string;
  apiKey?: string;
  /** A service-account key (client_email, private_key) when no API key is used. */
  credentials?: { client_email: string; private_key: string; project_id?: string };
  /** Only names the project to the auth library (no request carries it); default from credentials or 'callbridge'. */
  projectId?: string;
  /** Per request; the caller is waiting in silence, so this is short (default 10 s). No retries. */
  timeoutMs?: number;
}

export interface SynthesisInput {
  text: string;
  ssml: boolean;
  voice: string;
  language: string;
  sampleRate: number;
  encoding: TtsEncoding;
}

/** Anything that turns text into audio bytes; GoogleTts is the production one. */
export interface SpeechSynthesizer {
  synthesize(input: SynthesisInput): Promise<Uint8Array>;
}

export class GoogleTts implements SpeechSynthesizer {
  readonly #client: TextToSpeechClient;
  readonly #timeoutMs: number;
  #closing: Promise<void> | null = null;

  constructor(options: GoogleTtsOptions = {}) {
    const url = new URL(options.baseUrl ?? GOOGLE_TTS_DEFAULT_URL);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const auth = options.apiKey !== undefined && options.apiKey !== ''
      ? { apiKey: options.apiKey }
      : options.credentials !== undefined ? { credentials: options.credentials } : {};
    this.#client = new TextToSpeechClient({
      apiEndpoint: url.hostname,
      port,
      // `protocol` is read by google-gax's REST transport but is not in the client's option types.
      ...({ protocol } as object),
      fallback: true,
      projectId: options.projectId ?? options.credentials?.project_id ?? 'callbridge',
      ...auth,
    });
  }

  async synthesize(input: SynthesisInput): Promise<Uint8Array> {
    if (this.#closing !== null) throw new TtsSynthesisError('Google TTS client is closed', { retryable: false });
    const request = {
      input: input.ssml ? { ssml: input.text } : { text: input.text },
      voice: { name: input.voice, languageCode: input.language },
      audioConfig: {
        audioEncoding: input.encoding === 'MULAW' ? AudioEncoding.MULAW : AudioEncoding.LINEAR16,
        sampleRateHertz: input.sampleRate,
      },
    };
    let timer: NodeJS.Timeout | undefined;
    // gax's own timeout aborts the HTTP request; ours guarantees the promise settles whatever gax does.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TtsSynthesisError(`Google TTS gave no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      const call = this.#client.synthesizeSpeech(request, { timeout: this.#timeoutMs, maxRetries: 0 });
      const [response] = await Promise.race([call, deadline]);
      const audio = response.audioContent;
      if (audio === null || audio === undefined || audio.length === 0) {
        throw new TtsSynthesisError('Google TTS returned no audio');
      }
      return typeof audio === 'string' ? Buffer.from(audio, 'base64') : audio;
    } catch (error) {
      if (error instanceof TtsSynthesisError) throw error;
      throw new TtsSynthesisError(`Google TTS failed: ${describe(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Builds the REST stub and the auth client now, so the first caller does not pay for it. */
  async ready(): Promise<void> {
    await this.#client.initialize();
  }

  /** Idempotent; the REST transport holds no sockets of its own beyond keep-alive. */
  close(): Promise<void> {
    this.#closing ??= this.#client.close().catch(() => undefined);
    return this.#closing;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return code === undefined ? error.message : `${String(code)} ${error.message}`;
  }
  return String(error);
}
