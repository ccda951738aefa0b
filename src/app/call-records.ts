// What the controller keeps and tells about its calls beyond handling them (issue 7), wired in one place:
// the system event bus and the audit trail following it, each call's life as system events, the dashboard's
// live stream, signed webhooks through the outbox, 3CX's own call events, recording capture with crash
// recovery, the post-call queue (relayed to BullMQ, or run here without Redis) and the recordings API.
import { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { Clock } from '../core/ports.ts';
import { DrizzleAuditStore, DrizzleRecordingStore, type Database } from '../db/index.ts';
import { DrizzleExternalEventStore } from '../db/external-event-store.ts';
import { DrizzleOutboxStore } from '../db/outbox-store.ts';
import type { MasterKeys } from '../recording/index.ts';
import type { Metrics } from '../http/index.ts';
import { AuditTrail } from './audit.ts';
import { CallEvents } from './call-events.ts';
import type { CallRegistry, RegisteredCall } from '../call/registry.ts';
import { CallSession } from '../call/call-session.ts';
import type { Config } from './config.ts';
import { EventBus } from './event-bus.ts';
import { LiveEvents, type LiveCallView } from './live-events.ts';
import { buildProcessors, buildVault, startOutboxRelay } from './post-call.ts';
import { RecordingCapture, type RecordingCaptureOptions } from './recording-capture.ts';
import { RecordingsService } from './recordings-api.ts';
import { ThreecxEvents } from './threecx-events.ts';
import { WebhookPublisher } from './webhook-publisher.ts';

export interface CallRecordsOptions {
  config: Config;
  database: Database;
  logger: Logger;
  clock: Clock;
  metrics: Metrics;
  registry: CallRegistry<RegisteredCall>;
  /** Registers a background service with the controller (closed in registration order at shutdown). */
  service: (name: string, close: () => Promise<unknown>) => void;
  recordingTiming?: Pick<RecordingCaptureOptions, 'retryDelaysMs' | 'rescanIntervalMs'>;
  /** The recordings' key ring, parsed once by the controller; undefined without a key. */
  keys: MasterKeys | undefined;
}

export interface CallRecords {
  events: EventBus;
  audit: AuditTrail;
  /** The journal's onAppend: calls' lives as system events. */
  callEvents: CallEvents;
  liveEvents: LiveEvents;
  threecx: ThreecxEvents;
  /** Undefined without CALL_RECORDING_ENCRYPTION_KEY: calls are then not recorded. */
  recordingCapture: RecordingCapture | undefined;
  /** Listing, audited playback and transcripts, legal holds (also needs the master key). */
  recordings: RecordingsService | undefined;
}

export async function startCallRecords(options: CallRecordsOptions): Promise<CallRecords> {
  const { config, database, logger, clock, metrics, registry, service } = options;
  const events = new EventBus(logger.child({ component: 'events' }));
  // Emergencies, transfers and mode changes go to the audit trail too (actor `system`).
  const audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock, logger: logger.child({ component: 'audit' }) });
  audit.follow(events);
  new Gauge({
    name: 'callbridge_audit_write_failures',
    help: 'Audit entries that could not be written since start (background entries; access to recordings is refused instead)',
    registers: [metrics.registry],
    collect() {
      this.set(audit.failedAppends);
    },
  });
  const liveSession = (callId: string): CallSession | undefined => {
    const call = registry.get(callId);
    return call instanceof CallSession ? call : undefined;
  };
  const callEvents = new CallEvents({ events, clock, call: (callId) => liveSession(callId)?.record });

  // Recording needs the master key: without one, calls are not recorded at all (a recording could not be
  // encrypted) and hand-offs keep no transcript. One vault serves capture, the post-call jobs and the API.
  const vault = buildVault(config, database, logger.child({ component: 'recordings' }), options.keys);
  if (vault === undefined) logger.warn('CALL_RECORDING_ENCRYPTION_KEY not set: calls are NOT recorded and hand-off transcripts are not kept');
  let kickPostCall = (): void => undefined;
  const recordingCapture =
    vault && RecordingCapture.create(vault, config, { logger, registry: metrics.registry, onStored: () => kickPostCall(), ...options.recordingTiming });
  if (recordingCapture) service('recording capture', () => recordingCapture.close());

  const liveEvents = new LiveEvents({ subscribe: (listener) => events.subscribe(listener), calls: () => liveCallViews(registry), clock });
  service('live events', async () => liveEvents.close());
  if (config.webhooks.urls.length > 0 && config.webhooks.secret === undefined) {
    logger.error('WEBHOOK_URLS is set but WEBHOOK_SECRET is not: no webhooks are sent unsigned');
  }
  const webhooks = new WebhookPublisher({
    subscribe: (listener) => events.subscribe(listener),
    outbox: new DrizzleOutboxStore(database.db),
    urls: config.webhooks.secret === undefined ? [] : config.webhooks.urls,
    logger: logger.child({ component: 'webhooks' }),
  });
  service('webhooks', () => webhooks.close());
  const threecx = new ThreecxEvents({
    store: new DrizzleExternalEventStore(database.db),
    liveCalls: () => registry.all().flatMap((call) => (call instanceof CallSession ? [{ ...call.record }] : [])),
    events,
    clock,
  });

  // Post-call jobs (transcription, webhooks): the outbox relay hands them to BullMQ for `callbridge worker`,
  // or, without REDIS_URL, runs them here in-process through the same processors.
  const postCall = await startOutboxRelay({
    config,
    database,
    logger,
    registry: metrics.registry,
    inProcess: () => buildProcessors({ config, database, logger, vault, kick: () => postCall.kick() }),
  });
  kickPostCall = () => postCall.kick();
  service('post-call queue', () => postCall.close(5000));
  // Entries still being written reach the database before it closes (services close in this order).
  service('audit trail', () => audit.settled());

  const recordings = vault && new RecordingsService({ vault, store: new DrizzleRecordingStore(database.db), audit, logger: logger.child({ component: 'recordings' }) });
  return { events, audit, callEvents, liveEvents, threecx, recordingCapture, recordings };
}

/** The calls live now as the dashboard's reset shows them (no numbers). */
function liveCallViews(registry: CallRegistry<RegisteredCall>): LiveCallView[] {
  return registry.all().flatMap((call) => {
    if (!(call instanceof CallSession)) return [];
    const r = call.record;
    return [{ callId: r.id, state: call.state, direction: r.direction, location: r.location, startedAt: r.startedAt.toISOString(), answeredAt: r.answeredAt?.toISOString() ?? null }];
  });
}
