// Wiring of the post-call queue: the job processors (transcription, webhook delivery, retention), the
// outbox relay, and where the relay puts jobs: BullMQ when REDIS_URL is set, otherwise an in-process
// runner that calls the same processors (the demo and single-box default). The controller and the worker
// both build it from here.
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { DrizzleAuditStore, DrizzleCallStore, DrizzleOutboxStore, DrizzleRecordingStore, type Database } from '../db/index.ts';
import { LocalRecordingStorage } from '../recording/index.ts';
import { BullMqSink } from '../queue/bullmq-sink.ts';
import { InProcessRunner } from '../queue/in-process-runner.ts';
import type { Processor } from '../queue/jobs.ts';
import { OutboxRelay } from '../queue/outbox-relay.ts';
import { transcribeProcessor } from '../queue/transcribe-processor.ts';
import { WEBHOOKS_QUEUE, webhookDeliveryProcessor } from '../queue/webhook-delivery.ts';
import { loadVocabulary } from '../voice/stt/index.ts';
import { AuditTrail } from './audit.ts';
import { systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { optionalMasterKeys } from './recording-keys.ts';
import { POST_CALL_QUEUE, RecordingVault } from './recording-vault.ts';
import { RETENTION_SCHEDULE, retentionProcessor } from './retention.ts';
import { webhookOutboxRows } from './webhook-publisher.ts';

export const MAINTENANCE_QUEUE = RETENTION_SCHEDULE.queue;
const IN_PROCESS_RETENTION_DELAY_MS = 60_000;
export const QUEUES = [POST_CALL_QUEUE, WEBHOOKS_QUEUE, MAINTENANCE_QUEUE] as const;
/** The transcript language of a call that held no conversation (people-first lines) or is gone from the database. */
const TRANSCRIPT_LANGUAGE = 'en';

/** Knobs tests turn; production uses the defaults. */
export interface PostCallTuning {
  prefix?: string;
  relayPollIntervalMs?: number;
  relayBackoff?: { initialMs: number; maxMs: number };
  transcribePollIntervalMs?: number;
}

export interface ProcessorDeps {
  config: Config;
  database: Database;
  logger: Logger;
  /** Called when a job wrote outbox rows (the relay sends them at once). */
  kick: () => void;
  /** The process's vault, when it already has one (else built from the configuration). */
  vault?: RecordingVault | undefined;
  tuning?: PostCallTuning;
}

/** The processors this configuration can run, by queue; a queue is left out (with a warning) when it cannot. */
export async function buildProcessors(deps: ProcessorDeps): Promise<Partial<Record<(typeof QUEUES)[number], Processor>>> {
  const { config, database, logger } = deps;
  const processors: Partial<Record<(typeof QUEUES)[number], Processor>> = {};
  // Without a master key nothing is recorded (the process says so once, at start): nothing to transcribe.
  const vault = deps.vault ?? buildVault(config, database, logger);
  const store = new DrizzleRecordingStore(database.db);
  const calls = new DrizzleCallStore({ db: database.db });
  const apiKey = config.voice.speechmatics.apiKey;
  if (vault !== undefined && apiKey === undefined) logger.warn('SPEECHMATICS_API_KEY not set: recordings are not transcribed');
  if (vault !== undefined && apiKey !== undefined) {
    const vocabulary = await loadVocabulary(config.voice.vocabularyFile);
    processors[POST_CALL_QUEUE] = transcribeProcessor({
      ports: {
        hasTranscript: async (id) => (await store.getTranscript(id)) !== undefined,
        openAudio: async (id) => (await vault.openAudio(id)).stream,
        saveTranscript: (id, transcript, meta, jobs) => vault.saveTranscript(id, transcript, meta, jobs),
        transcribedJobs: (event) =>
          webhookOutboxRows(
            {
              id: event.eventId,
              type: 'CALL_TRANSCRIBED',
              occurredAt: event.occurredAt,
              callId: event.callId,
              data: { recordingId: event.recordingId, language: event.language, wordCount: event.wordCount, durationMs: event.durationMs, talkMs: event.talkMs, silenceMs: event.silenceMs },
            },
            // Unsigned webhooks are never sent (the controller's publisher does the same).
            config.webhooks.secret === undefined ? [] : config.webhooks.urls,
          ),
        onStored: deps.kick,
        // The conversation's language, as its journal recorded it: a Spanish call is transcribed as Spanish.
        callLanguage: async (callId) => {
          const call = await calls.getCall(callId);
          const started = call?.events.find((e) => e.type === 'conversation_started');
          return typeof started?.data.language === 'string' ? started.data.language : undefined;
        },
      },
      speechmatics: { apiKey, apiUrl: config.speechmaticsBatchUrl },
      language: TRANSCRIPT_LANGUAGE,
      vocabulary,
      ...(deps.tuning?.transcribePollIntervalMs === undefined ? {} : { pollIntervalMs: deps.tuning.transcribePollIntervalMs }),
      logger: logger.child({ component: 'transcribe' }),
    });
  }
  const secret = config.webhooks.secret;
  if (secret !== undefined) processors[WEBHOOKS_QUEUE] = webhookDeliveryProcessor({ secret });
  else if (config.webhooks.urls.length > 0) logger.warn('WEBHOOK_SECRET not set: webhooks wait in their queue unsent');
  if (vault !== undefined) {
    const audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock: systemClock, logger });
    processors[MAINTENANCE_QUEUE] = retentionProcessor({ vault, store, audit, outbox: new DrizzleOutboxStore(database.db), batchSize: 100, logger: logger.child({ component: 'retention' }) });
  }
  return processors;
}

/** The vault, when a master key is configured; `keys` when the caller parsed the ring already. */
export function buildVault(config: Config, database: Database, logger: Logger, keys = optionalMasterKeys(config)): RecordingVault | undefined {
  if (keys === undefined) return undefined;
  return new RecordingVault({
    storage: new LocalRecordingStorage(config.recordingStorage.dir),
    store: new DrizzleRecordingStore(database.db),
    keys,
    retentionYears: config.recordingStorage.retentionYears,
    logger,
  });
}

/** The outbox relay and its sink, started; `close()` stops both (in-process jobs get `graceMs` to finish). */
export interface PostCallQueue {
  readonly relay: OutboxRelay;
  readonly mode: 'bullmq' | 'in-process';
  kick(): void;
  close(graceMs?: number): Promise<void>;
}

export interface StartRelayOptions {
  config: Config;
  database: Database;
  logger: Logger;
  /** Where the outbox-pending gauge goes (the controller's metrics registry). */
  registry?: Registry;
  /** Processors for the in-process runner (used only without REDIS_URL). */
  inProcess?: () => Promise<Partial<Record<string, Processor>>>;
  tuning?: PostCallTuning;
}

export async function startOutboxRelay(options: StartRelayOptions): Promise<PostCallQueue> {
  const { config, logger } = options;
  const log = logger.child({ component: 'outbox-relay' });
  const gauge =
    options.registry === undefined
      ? undefined
      : new Gauge({ name: 'callbridge_outbox_pending', help: 'Outbox rows not yet handed to the job queue', registers: [options.registry] });
  const retry = { attempts: config.queue.attempts, backoffMs: config.queue.backoffMs };
  let sink: BullMqSink | InProcessRunner;
  if (config.redis.url !== undefined) {
    sink = new BullMqSink({
      redisUrl: config.redis.url,
      prefix: options.tuning?.prefix ?? config.queue.prefix,
      retry,
      onError: (error) => log.debug({ err: error }, 'redis connection error'),
    });
  } else {
    const processors = (await options.inProcess?.()) ?? {};
    sink = new InProcessRunner({
      processors: Object.fromEntries(Object.entries(processors).filter((e): e is [string, Processor] => e[1] !== undefined)),
      retry,
      concurrency: config.queue.concurrency,
      onEvent: (event) => {
        if (event.kind === 'completed') log.info({ queue: event.queue, jobId: event.jobId, attempts: event.attempts }, 'job completed (in-process)');
        else log.warn({ queue: event.queue, jobId: event.jobId, attempt: event.attempts, willRetry: event.willRetry, reason: event.reason }, 'job attempt failed (in-process)');
      },
    });
  }
  const relay = new OutboxRelay({
    outbox: new DrizzleOutboxStore(options.database.db),
    sink,
    ...(options.tuning?.relayPollIntervalMs === undefined ? {} : { pollIntervalMs: options.tuning.relayPollIntervalMs }),
    ...(options.tuning?.relayBackoff === undefined ? {} : { backoff: options.tuning.relayBackoff }),
    logger: log,
    ...(gauge ? { onPending: (n: number) => gauge.set(n) } : {}),
  });
  relay.start();
  // Without Redis there is no BullMQ scheduler: the controller runs the daily retention job itself, once at
  // start (after a minute, so it never competes with boot) and every day after; one job id per day.
  let retentionTimer: NodeJS.Timeout | undefined;
  if (sink instanceof InProcessRunner && sink.queues.includes(MAINTENANCE_QUEUE)) {
    const runner = sink;
    const runRetention = (): void => {
      const day = new Date().toISOString().slice(0, 10);
      runner
        .add({ queue: MAINTENANCE_QUEUE, jobName: RETENTION_SCHEDULE.jobName, jobId: `${RETENTION_SCHEDULE.jobName}-${day}`, payload: {} })
        .catch((error: unknown) => log.error({ err: error }, 'retention job could not start'));
    };
    retentionTimer = setTimeout(function tick() {
      runRetention();
      retentionTimer = setTimeout(tick, RETENTION_SCHEDULE.every).unref();
    }, IN_PROCESS_RETENTION_DELAY_MS).unref();
  }
  let closing: Promise<void> | undefined;
  return {
    relay,
    mode: sink instanceof BullMqSink ? 'bullmq' : 'in-process',
    kick: () => relay.kick(),
    close: (graceMs = 10_000) => {
      closing ??= (async () => {
        clearTimeout(retentionTimer);
        await relay.close();
        await (sink instanceof InProcessRunner ? sink.close(graceMs) : sink.close());
      })();
      return closing;
    },
  };
}
