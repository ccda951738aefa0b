// Configuration: the one place that reads environment variables. Callers pass `process.env`; everything else
// receives the frozen Config object. Parsing happens once, at boot, and reports every problem at once by
// variable name, so an operator fixes the whole .env in one go instead of one restart per mistake.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.ts';

export type RunMode = 'production' | 'demo' | 'worker';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'json' | 'pretty';

export interface Config {
  readonly mode: RunMode;
  readonly freeswitch: {
    readonly eslHost: string;
    readonly eslPort: number;
    readonly eslPassword: string;
    readonly commandTimeoutMs: number;
    readonly reconnectMinMs: number;
    readonly reconnectMaxMs: number;
  };
  /** Where FreeSWITCH's `socket <host>:<port> async full` connects to (outbound ESL). */
  readonly controllerSocket: {
    readonly host: string;
    readonly port: number;
    /** How FreeSWITCH reaches it (the dialer's originate names it): the service name in compose. */
    readonly advertisedHost: string;
  };
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Bearer token for /v1; undefined only in worker mode without one configured (no /v1 served). */
    readonly apiToken: string | undefined;
    /** True when the demo made the token up; the demo prints it so the operator can use the API. */
    readonly apiTokenGenerated: boolean;
  };
  readonly database: {
    /** undefined → embedded PGlite in `pgliteDataDir`. */
    readonly url: string | undefined;
    readonly pgliteDataDir: string;
  };
  readonly redis: { readonly url: string | undefined };
  readonly log: { readonly level: LogLevel; readonly format: LogFormat };
  readonly greetingSound: string;
  readonly recordingsDir: string;
  /** The routing YAML admins edit; watched for changes. */
  readonly routingFile: string;
  /** Calls whose caller audio scores a MOS under this are flagged as poor quality. */
  readonly voiceQualityThreshold: number;
  /** FreeSWITCH gateway names (freeswitch/sip_profiles) for the 3CX trunk and the Twilio backup trunk. */
  readonly gateways: { readonly threecx: string; readonly twilio: string };
  readonly voice: VoiceConfig;
  /** Who an emergency reaches; unset values fall back to routing.yaml's `emergency` section. */
  readonly emergency: {
    readonly transferNumber: string | undefined;
    readonly managerExtension: string | undefined;
    /** Staff who get an SMS for every emergency (E.164). */
    readonly notifySms: readonly string[];
  };
  /** Twilio for SMS; `enabled` when the account, token and sending number are all set. */
  readonly twilio: {
    readonly enabled: boolean;
    readonly accountSid: string | undefined;
    readonly authToken: string | undefined;
    readonly phoneNumber: string | undefined;
    /** Base URL of the REST API (tests and the demo point it at a local stand-in). */
    readonly apiUrl: string | undefined;
  };
  /** How staff and Twilio reach this controller from outside (links in SMS, SIP headers, status callbacks). */
  readonly publicBaseUrl: string | undefined;
  /** Failover: the switch-over limit, and how often FreeSWITCH is asked about the 3CX gateway. */
  readonly failover: { readonly timeoutSeconds: number; readonly pollIntervalMs: number };
  /** Master key (base64, 32 bytes) for call recordings and transcripts at rest; unset → transcripts not kept. */
  readonly recordingKey: string | undefined;
  /** Earlier master keys (base64), still able to open what they wrapped until `keys rotate` has run. */
  readonly previousRecordingKeys: readonly string[];
  /** Encrypted recordings and transcripts (issue 7). */
  readonly recordingStorage: {
    /** Local directory holding the encrypted files (the default storage). */
    readonly dir: string;
    /** How many years a recording and its transcript are kept before the retention job deletes them. */
    readonly retentionYears: number;
  };
  /** The post-call queue and its workers. */
  readonly queue: {
    /** Jobs one worker process runs at once. */
    readonly concurrency: number;
    /** Tries per job before it is left failed (dead-lettered) with its reason. */
    readonly attempts: number;
    /** First retry delay; doubled each try. */
    readonly backoffMs: number;
    /** BullMQ key prefix in Redis: controllers, workers and `jobs` must agree (one per installation). */
    readonly prefix: string;
  };
  /** Speechmatics batch API (post-call transcription); the key is SPEECHMATICS_API_KEY. */
  readonly speechmaticsBatchUrl: string;
  /** Signed webhooks out (CALL_STARTED, …); none sent without URLs. */
  readonly webhooks: { readonly urls: readonly string[]; readonly secret: string | undefined };
  /** Shared secret 3CX signs its call notifications with (POST /v1/webhooks/3cx refuses all without it). */
  readonly threecxWebhookSecret: string | undefined;
}

/** The AI conversation: speech-to-text, text-to-speech, the AI engine and the audio fork (issue 5). */
export interface VoiceConfig {
  /**
   * True when both speech services have credentials. Without them AI calls are greeted and handed to the
   * number's ring group: a caller is never left with an agent that cannot hear or speak.
   */
  readonly enabled: boolean;
  readonly speechmatics: {
    readonly apiKey: string | undefined;
    readonly realtimeUrl: string;
    readonly managementUrl: string;
    readonly maxDelaySec: number;
    readonly endOfUtteranceSilenceSec: number;
    /** Caller audio per AddAudio message (20 ms frames joined: 20, 40, 60, 80 or 100). */
    readonly audioBatchMs: number;
  };
  readonly tts: {
    readonly url: string;
    /** X-Goog-Api-Key; without it Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS) are used. */
    readonly apiKey: string | undefined;
    /** Voice per language prefix (en, es). */
    readonly voices: { readonly en: string; readonly es: string };
    readonly encoding: 'LINEAR16' | 'MULAW';
    readonly sampleRate: 8000 | 16000;
    /** Where synthesized prompts are kept; FreeSWITCH plays them by path, so it must see the same path. */
    readonly cacheDir: string;
    /** A recorded generic prompt played when synthesis fails (otherwise FreeSWITCH's own voice says it). */
    readonly fallbackPrompt: string | undefined;
  };
  /** The external AI engine; without a URL the built-in scripted agent talks to callers. */
  readonly aiEngine: {
    readonly url: string | undefined;
    readonly token: string | undefined;
    readonly deadlineMs: number;
    /** Which version of docs/ai-engine-contract.md the engine speaks (v2: streamed turn replies). */
    readonly contract: 'v1' | 'v2';
  };
  readonly agentScriptFile: string;
  readonly vocabularyFile: string;
  /**
   * How FreeSWITCH reaches our audio fork WebSocket (ws://host:port; undefined → the HTTP server's own
   * address, right when FreeSWITCH runs beside us), how long a fork URL stays valid, restarts per call.
   */
  readonly audioFork: { readonly baseUrl: string | undefined; readonly tokenTtlMs: number; readonly maxRestarts: number };
  /** Continuous caller speech that interrupts the agent (shorter sounds are taken for noise). */
  readonly bargeInMinSpeechMs: number;
}

export interface LoadConfigOptions {
  mode: RunMode;
}

// A short rising three-note chime: audible proof that playback works before any TTS is configured.
export const DEFAULT_GREETING_SOUND = 'tone_stream://%(200,50,523);%(200,50,659);%(400,0,784)';
const DEMO_ESL_PASSWORD = 'ClueCon';
const MIN_API_TOKEN_LENGTH = 16;
const DEFAULT_RECONNECT_MIN_MS = 500;
const DEFAULT_RECONNECT_MAX_MS = 30_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Variables that were renamed. Still set, the old name is refused with the new one: ignoring it would leave
// the operator believing it is in force (the CLI once read its token from CALLBRIDGE_TOKEN).
const RENAMED: Readonly<Record<string, string>> = { CALLBRIDGE_TOKEN: 'CALLBRIDGE_API_TOKEN' };

// Compose files pass `VAR=${VAR:-}`, so an empty value means "not set", never "set to nothing".
const blankToUndefined = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());

const port = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, { error: (issue) => `expected an integer port 1–65535, got ${JSON.stringify(issue.input)}` })
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65535, { error: (issue) => `expected an integer port 1–65535, got ${String(issue.input)}` })
      .optional()
      .transform((n) => n ?? fallback),
  );

const host = (fallback: string) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? undefined : v),
    z
      .string()
      .transform((s) => s.trim())
      .refine((s) => s.length > 0, { error: 'expected a non-empty host name or IP address' })
      .optional()
      .transform((s) => s ?? fallback),
  );

const positiveMs = (fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+$/, { error: (issue) => `expected a positive integer (milliseconds), got ${JSON.stringify(issue.input)}` })
      .transform(Number)
      .refine((n) => n > 0, { error: 'expected a positive integer (milliseconds)' })
      .optional()
      .transform((n) => n ?? fallback),
  );

const seconds = (fallback: number, range: { min: number; max: number }) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, { error: (issue) => `expected seconds, e.g. ${fallback}, got ${JSON.stringify(issue.input)}` })
      .transform(Number)
      .refine((n) => n >= range.min && n <= range.max, { error: `expected seconds between ${range.min} and ${range.max}` })
      .optional()
      .transform((n) => n ?? fallback),
  );

const E164 = /^\+[1-9][0-9]{6,14}$/;

// URL values can carry passwords, so messages never echo them.
const url = (schemes: readonly string[]) =>
  z
    .string()
    .refine(
      (s) => {
        try {
          return schemes.includes(new URL(s).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      },
      { error: `expected a ${schemes.map((s) => `${s}://`).join(' or ')} URL` },
    );

// Gateway names end up inside FreeSWITCH dial strings: letters, digits, `_`, `-` and `.` only.
const gatewayName = (fallback: string) =>
  optional(z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a FreeSWITCH gateway name (letters, digits, _ - .)' })).transform(
    (s) => s ?? fallback,
  );

function envSchema(mode: RunMode) {
  const secretRequired = (what: string) =>
    z.string({ error: `is required in ${mode} mode (${what})` }).min(1, { error: `is required (${what})` });
  return z.object({
    FREESWITCH_ESL_HOST: host('127.0.0.1'),
    FREESWITCH_ESL_PORT: port(8021),
    // The worker and the admin commands never talk to FreeSWITCH, so only the controller needs it.
    FREESWITCH_ESL_PASSWORD:
      mode === 'production'
        ? z.preprocess(blankToUndefined, secretRequired('the event socket password of FreeSWITCH'))
        : optional(z.string()).transform((s) => s ?? (mode === 'demo' ? DEMO_ESL_PASSWORD : '')),
    CONTROLLER_SOCKET_HOST: host('127.0.0.1'),
    CONTROLLER_SOCKET_PORT: port(8084),
    CONTROLLER_SOCKET_ADVERTISED_HOST: optional(z.string().regex(/^[A-Za-z0-9.-]+$/, { error: 'expected a host name or IP address' })),
    HTTP_HOST: host('127.0.0.1'),
    HTTP_PORT: port(8080),
    DATABASE_URL: optional(url(['postgres', 'postgresql'])),
    PGLITE_DATA_DIR: optional(z.string()).transform((s) => s ?? './data/pglite'),
    REDIS_URL: optional(url(['redis', 'rediss'])),
    LOG_LEVEL: optional(
      z.enum(LOG_LEVELS, { error: (issue) => `expected one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(issue.input)}` }),
    ).transform((s) => s ?? (mode === 'demo' ? 'warn' : 'info')),
    LOG_FORMAT: optional(
      z.enum(['json', 'pretty'], { error: (issue) => `expected json|pretty, got ${JSON.stringify(issue.input)}` }),
    ).transform((s) => s ?? (mode === 'demo' ? 'pretty' : 'json')),
    ESL_COMMAND_TIMEOUT_MS: positiveMs(5000),
    ESL_RECONNECT_MIN_MS: positiveMs(DEFAULT_RECONNECT_MIN_MS),
    ESL_RECONNECT_MAX_MS: positiveMs(DEFAULT_RECONNECT_MAX_MS),
    GREETING_SOUND: optional(z.string()).transform((s) => s ?? DEFAULT_GREETING_SOUND),
    RECORDINGS_DIR: optional(z.string()).transform((s) => s ?? './data/recordings'),
    ROUTING_FILE: optional(z.string()).transform((s) => s ?? './dialplan/routing.yaml'),
    VOICE_QUALITY_THRESHOLD: optional(
      z
        .string()
        .regex(/^\d+(\.\d+)?$/, { error: (issue) => `expected a MOS between 1 and 5, e.g. 3.5, got ${JSON.stringify(issue.input)}` })
        .transform(Number)
        .refine((n) => n >= 1 && n <= 5, { error: 'expected a MOS between 1 and 5, e.g. 3.5' }),
    ).transform((n) => n ?? 3.5),
    THREECX_GATEWAY: gatewayName('threecx'),
    TWILIO_GATEWAY: gatewayName('twilio'),
    SPEECHMATICS_API_KEY: optional(z.string()),
    SPEECHMATICS_URL: optional(url(['wss', 'ws'])).transform((s) => s ?? 'wss://eu2.rt.speechmatics.com/v2'),
    SPEECHMATICS_MP_URL: optional(url(['https', 'http'])).transform((s) => s ?? 'https://mp.speechmatics.com/v1'),
    SPEECHMATICS_MAX_DELAY: seconds(0.7, { min: 0.7, max: 4 }),
    SPEECHMATICS_EOU_SILENCE: seconds(0.6, { min: 0, max: 2 }),
    SPEECHMATICS_AUDIO_BATCH_MS: optional(
      z.enum(['20', '40', '60', '80', '100'], { error: (issue) => `expected 20, 40, 60, 80 or 100 (ms of audio per message), got ${JSON.stringify(issue.input)}` }),
    ).transform((s) => Number(s ?? '60')),
    GOOGLE_TTS_URL: optional(url(['https', 'http'])).transform((s) => s ?? 'https://texttospeech.googleapis.com'),
    GOOGLE_TTS_API_KEY: optional(z.string()),
    GOOGLE_APPLICATION_CREDENTIALS: optional(z.string()),
    GOOGLE_TTS_VOICE: optional(z.string()).transform((s) => s ?? 'en-US-Neural2-F'),
    GOOGLE_TTS_VOICE_ES: optional(z.string()).transform((s) => s ?? 'es-US-Neural2-A'),
    TTS_ENCODING: optional(z.enum(['LINEAR16', 'MULAW'], { error: 'expected LINEAR16 or MULAW' })).transform((s) => s ?? 'LINEAR16'),
    TTS_SAMPLE_RATE: optional(z.enum(['8000', '16000'], { error: 'expected 8000 or 16000' })).transform((s) => (s === '8000' ? 8000 : 16000)),
    TTS_CACHE_DIR: optional(z.string()).transform((s) => s ?? './data/tts-cache'),
    TTS_FALLBACK_PROMPT: optional(z.string()),
    AI_ENGINE_URL: optional(url(['https', 'http'])),
    AI_ENGINE_TOKEN: optional(z.string()),
    AI_ENGINE_DEADLINE_MS: positiveMs(3000),
    AI_ENGINE_CONTRACT: optional(z.enum(['v1', 'v2'], { error: (issue) => `expected v1 or v2, got ${JSON.stringify(issue.input)}` })).transform((s) => s ?? 'v1'),
    AGENT_SCRIPT_FILE: optional(z.string()).transform((s) => s ?? './dialplan/agent.yaml'),
    VOCABULARY_FILE: optional(z.string()).transform((s) => s ?? './dialplan/vocabulary.yaml'),
    AUDIO_FORK_BASE_URL: optional(url(['ws', 'wss'])),
    AUDIO_FORK_TOKEN_TTL_MS: positiveMs(30_000),
    AUDIO_FORK_MAX_RESTARTS: optional(z.string().regex(/^\d+$/, { error: 'expected a whole number' }).transform(Number)).transform((n) => n ?? 2),
    BARGE_IN_MIN_SPEECH_MS: positiveMs(120),
    EMERGENCY_TRANSFER_NUMBER: optional(z.string().regex(E164, { error: 'expected an E.164 number such as +17045550911' })),
    EMERGENCY_MANAGER_EXTENSION: optional(z.string().regex(/^[0-9]{2,8}$/, { error: 'expected a 3CX extension (digits)' })),
    EMERGENCY_NOTIFICATION_SMS: optional(z.string())
      .transform((s) => (s ?? '').split(',').map((n) => n.trim()).filter((n) => n !== ''))
      .refine((list) => list.every((n) => E164.test(n)), { error: 'expected comma-separated E.164 numbers' }),
    TWILIO_ACCOUNT_SID: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/, { error: 'expected an account SID (AC + 32 hex digits)' })),
    TWILIO_AUTH_TOKEN: optional(z.string()),
    TWILIO_PHONE_NUMBER: optional(z.string().regex(E164, { error: 'expected an E.164 number' })),
    TWILIO_API_URL: optional(url(['https', 'http'])),
    PUBLIC_BASE_URL: optional(url(['https', 'http'])),
    FAILOVER_TIMEOUT_SECONDS: optional(
      z.string().regex(/^\d+$/, { error: 'expected whole seconds' }).transform(Number).refine((n) => n >= 3 && n <= 120, { error: 'expected 3 to 120 seconds' }),
    ).transform((n) => n ?? 10),
    GATEWAY_POLL_INTERVAL_MS: positiveMs(2000),
    CALL_RECORDING_ENCRYPTION_KEY: optional(
      z.string().refine((s) => /^[A-Za-z0-9+/]{43}=$/.test(s) && Buffer.from(s, 'base64').length === 32, {
        error: 'expected 32 random bytes in base64 (openssl rand -base64 32)',
      }),
    ),
    CALL_RECORDING_PREVIOUS_KEYS: optional(z.string())
      .transform((s) => (s ?? '').split(',').map((k) => k.trim()).filter((k) => k !== ''))
      .refine((list) => list.every((k) => /^[A-Za-z0-9+/]{43}=$/.test(k) && Buffer.from(k, 'base64').length === 32), {
        error: 'expected comma-separated base64 keys of 32 bytes each',
      }),
    RECORDING_STORAGE_DIR: optional(z.string()).transform((s) => s ?? './data/recording-store'),
    RETENTION_PERIOD_YEARS: optional(
      z.string().regex(/^\d+$/, { error: 'expected whole years' }).transform(Number).refine((n) => n >= 1 && n <= 100, { error: 'expected 1 to 100 years' }),
    ).transform((n) => n ?? 7),
    WORKER_CONCURRENCY: optional(
      z.string().regex(/^\d+$/, { error: 'expected a whole number' }).transform(Number).refine((n) => n >= 1 && n <= 64, { error: 'expected 1 to 64' }),
    ).transform((n) => n ?? 2),
    JOB_ATTEMPTS: optional(
      z.string().regex(/^\d+$/, { error: 'expected a whole number' }).transform(Number).refine((n) => n >= 1 && n <= 50, { error: 'expected 1 to 50' }),
    ).transform((n) => n ?? 5),
    JOB_BACKOFF_MS: positiveMs(2000),
    QUEUE_PREFIX: optional(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected 1-64 letters, digits, _ or -' })).transform((s) => s ?? 'callbridge'),
    SPEECHMATICS_BATCH_URL: optional(url(['https', 'http'])).transform((s) => s ?? 'https://asr.api.speechmatics.com/v2'),
    WEBHOOK_URLS: optional(z.string())
      .transform((s) => (s ?? '').split(',').map((u) => u.trim()).filter((u) => u !== ''))
      .refine((list) => list.every((u) => url(['https', 'http']).safeParse(u).success), { error: 'expected comma-separated http(s) URLs' }),
    WEBHOOK_SECRET: optional(z.string().min(16, { error: 'must be at least 16 characters' })),
    THREECX_WEBHOOK_SECRET: optional(z.string().min(16, { error: 'must be at least 16 characters' })),
    CALLBRIDGE_API_TOKEN:
      mode === 'production'
        ? z.preprocess(
            blankToUndefined,
            secretRequired(`bearer token for the /v1 API, at least ${MIN_API_TOKEN_LENGTH} characters`).min(
              MIN_API_TOKEN_LENGTH,
              { error: `must be at least ${MIN_API_TOKEN_LENGTH} characters` },
            ),
          )
        : optional(z.string().min(MIN_API_TOKEN_LENGTH, { error: `must be at least ${MIN_API_TOKEN_LENGTH} characters` })),
  });
}

/** Parses and validates the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions): Config {
  const { mode } = options;
  const parsed = envSchema(mode).safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.map(String).join('.') || '(environment)';
      problems.push(`${name}: ${issue.message}`);
    }
  }
  // Checked on the raw values so that it is reported together with any other problem.
  const minMs = Number(blankToUndefined(env.ESL_RECONNECT_MIN_MS) ?? DEFAULT_RECONNECT_MIN_MS);
  const maxMs = Number(blankToUndefined(env.ESL_RECONNECT_MAX_MS) ?? DEFAULT_RECONNECT_MAX_MS);
  if (minMs > maxMs) problems.push(`ESL_RECONNECT_MIN_MS: must not exceed ESL_RECONNECT_MAX_MS (${minMs} > ${maxMs})`);
  for (const [old, name] of Object.entries(RENAMED)) {
    if (blankToUndefined(env[old]) !== undefined) problems.push(`${old}: renamed to ${name}; set ${name} instead and remove ${old}`);
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);

  const e = parsed.data;
  const generateToken = mode === 'demo' && e.CALLBRIDGE_API_TOKEN === undefined;
  const config: Config = {
    mode,
    freeswitch: {
      eslHost: e.FREESWITCH_ESL_HOST,
      eslPort: e.FREESWITCH_ESL_PORT,
      eslPassword: e.FREESWITCH_ESL_PASSWORD,
      commandTimeoutMs: e.ESL_COMMAND_TIMEOUT_MS,
      reconnectMinMs: e.ESL_RECONNECT_MIN_MS,
      reconnectMaxMs: e.ESL_RECONNECT_MAX_MS,
    },
    controllerSocket: {
      host: e.CONTROLLER_SOCKET_HOST,
      port: e.CONTROLLER_SOCKET_PORT,
      advertisedHost: e.CONTROLLER_SOCKET_ADVERTISED_HOST ?? (['0.0.0.0', '::'].includes(e.CONTROLLER_SOCKET_HOST) ? '127.0.0.1' : e.CONTROLLER_SOCKET_HOST),
    },
    http: {
      host: e.HTTP_HOST,
      port: e.HTTP_PORT,
      apiToken: generateToken ? randomBytes(24).toString('base64url') : e.CALLBRIDGE_API_TOKEN,
      apiTokenGenerated: generateToken,
    },
    database: { url: e.DATABASE_URL, pgliteDataDir: e.PGLITE_DATA_DIR },
    redis: { url: e.REDIS_URL },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    greetingSound: e.GREETING_SOUND,
    // FreeSWITCH writes the files: it needs an absolute path (its working directory is not ours). The same
    // path must exist on FreeSWITCH's side (compose mounts one volume at the same place in both).
    recordingsDir: resolve(e.RECORDINGS_DIR),
    routingFile: e.ROUTING_FILE,
    voiceQualityThreshold: e.VOICE_QUALITY_THRESHOLD,
    gateways: { threecx: e.THREECX_GATEWAY, twilio: e.TWILIO_GATEWAY },
    voice: {
      enabled: e.SPEECHMATICS_API_KEY !== undefined && (e.GOOGLE_TTS_API_KEY !== undefined || e.GOOGLE_APPLICATION_CREDENTIALS !== undefined),
      speechmatics: {
        apiKey: e.SPEECHMATICS_API_KEY,
        realtimeUrl: e.SPEECHMATICS_URL,
        managementUrl: e.SPEECHMATICS_MP_URL,
        maxDelaySec: e.SPEECHMATICS_MAX_DELAY,
        endOfUtteranceSilenceSec: e.SPEECHMATICS_EOU_SILENCE,
        audioBatchMs: e.SPEECHMATICS_AUDIO_BATCH_MS,
      },
      tts: {
        url: e.GOOGLE_TTS_URL,
        apiKey: e.GOOGLE_TTS_API_KEY,
        voices: { en: e.GOOGLE_TTS_VOICE, es: e.GOOGLE_TTS_VOICE_ES },
        encoding: e.TTS_ENCODING,
        // MULAW is always 8 kHz (a PCMU call plays it without transcoding).
        sampleRate: e.TTS_ENCODING === 'MULAW' ? 8000 : e.TTS_SAMPLE_RATE,
        // FreeSWITCH opens the files by path: absolute, like the recordings.
        cacheDir: resolve(e.TTS_CACHE_DIR),
        fallbackPrompt: e.TTS_FALLBACK_PROMPT === undefined ? undefined : resolve(e.TTS_FALLBACK_PROMPT),
      },
      aiEngine: { url: e.AI_ENGINE_URL, token: e.AI_ENGINE_TOKEN, deadlineMs: e.AI_ENGINE_DEADLINE_MS, contract: e.AI_ENGINE_CONTRACT },
      agentScriptFile: e.AGENT_SCRIPT_FILE,
      vocabularyFile: e.VOCABULARY_FILE,
      audioFork: {
        baseUrl: e.AUDIO_FORK_BASE_URL,
        tokenTtlMs: e.AUDIO_FORK_TOKEN_TTL_MS,
        maxRestarts: e.AUDIO_FORK_MAX_RESTARTS,
      },
      bargeInMinSpeechMs: e.BARGE_IN_MIN_SPEECH_MS,
    },
    emergency: {
      transferNumber: e.EMERGENCY_TRANSFER_NUMBER,
      managerExtension: e.EMERGENCY_MANAGER_EXTENSION,
      notifySms: e.EMERGENCY_NOTIFICATION_SMS,
    },
    twilio: {
      enabled: e.TWILIO_ACCOUNT_SID !== undefined && e.TWILIO_AUTH_TOKEN !== undefined && e.TWILIO_PHONE_NUMBER !== undefined,
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      phoneNumber: e.TWILIO_PHONE_NUMBER,
      apiUrl: e.TWILIO_API_URL,
    },
    publicBaseUrl: e.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
    recordingKey: e.CALL_RECORDING_ENCRYPTION_KEY,
    previousRecordingKeys: e.CALL_RECORDING_PREVIOUS_KEYS,
    recordingStorage: { dir: resolve(e.RECORDING_STORAGE_DIR), retentionYears: e.RETENTION_PERIOD_YEARS },
    queue: { concurrency: e.WORKER_CONCURRENCY, attempts: e.JOB_ATTEMPTS, backoffMs: e.JOB_BACKOFF_MS, prefix: e.QUEUE_PREFIX },
    speechmaticsBatchUrl: e.SPEECHMATICS_BATCH_URL.replace(/\/+$/, ''),
    webhooks: { urls: e.WEBHOOK_URLS, secret: e.WEBHOOK_SECRET },
    threecxWebhookSecret: e.THREECX_WEBHOOK_SECRET,
    failover: { timeoutSeconds: e.FAILOVER_TIMEOUT_SECONDS, pollIntervalMs: e.GATEWAY_POLL_INTERVAL_MS },
  };
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
