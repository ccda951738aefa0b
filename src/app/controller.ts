// The composition root: the one place that builds the adapters and wires them together. Everything a
// running controller holds is created here and released by close(), in reverse order, each step guarded so
// a failing step cannot keep the rest from closing.
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CallStore, Clock } from '../core/ports.ts';
import type { SystemMode } from '../core/routing/types.ts';
import { DrizzleCallStore, DrizzleOutboundStore, DrizzleTokenStore, DrizzleTransferStore, migrate, openDatabase, type Database } from '../db/index.ts';
import { ChannelControl } from '../esl/channel-control.ts';
import { InboundEslClient, OutboundSocketServer, type EslConnection, type EslEvent } from '../esl/index.ts';
import { buildHttpServer, createMetrics, TWILIO_STATUS_PATH, type Metrics, type TwilioStatusRoutesOptions } from '../http/index.ts';
import { verifyTwilioSignature } from '../twilio/index.ts';
import { AdoptedCall } from '../call/adopted-call.ts';
import { CallerHistory } from '../call/caller-history.ts';
import type { CallSession, Pickup } from '../call/call-session.ts';
import { CallJournal } from '../call/journal.ts';
import { CallRegistry, type RegisteredCall } from '../call/registry.ts';
import { resync } from '../call/resync.ts';
import { rescueStrandedCalls } from '../call/stranded-calls.ts';
import { startCallRecords } from './call-records.ts';
import { createRoutingApi } from './call-routing.ts';
import { CallServices, staffCommands } from './call-services.ts';
import { twilioSms } from './call-wiring.ts';
import { systemClock } from './clock.ts';
import type { Config } from './config.ts';
import { EmergencyAlerts } from './emergency-alerts.ts';
import { EslLinkStatus } from './esl-link.ts';
import { FailoverMonitor } from './failover-monitor.ts';
import { staffNumbers } from './hand-off-policy.ts';
import { OutboundDialer } from './outbound-dialer.ts';
import type { RecordingCaptureOptions } from './recording-capture.ts';
import { fieldCipherFor, optionalMasterKeys } from './recording-keys.ts';
import { RoutingService } from './routing-service.ts';
import { HealthProber } from './service-health.ts';
import { buildVoicePipeline, type VoicePipeline } from './voice-pipeline.ts';

export interface ControllerOptions {
  config: Config;
  logger: Logger;
  clock?: Clock;
  /** An already open database (tests, demo); otherwise opened from the configuration and closed by us. */
  database?: Database;
  /** Called with each new session (the demo follows its calls this way). */
  onSession?: (session: CallSession) => void;
  /** Time from FreeSWITCH's socket being accepted to the call's greeting command (benchmark and demo figures). */
  onPickup?: (session: CallSession, pickup: Pickup) => void;
  /** Retry and re-scan timing of recording storage (tests shorten them). */
  recordings?: Pick<RecordingCaptureOptions, 'retryDelaysMs' | 'rescanIntervalMs'>;
}

export interface ControllerAddresses {
  http: { host: string; port: number };
  outboundSocket: { host: string; port: number };
}

/** How far back caller history is loaded at start; the repeat-caller rule's own window is in routing. */
const CALLER_HISTORY_DAYS = 30;
/** Longer than an outbound handshake may take (the outbound server's connect timeout, 5 s). */
const STRANDED_GRACE_MS = 6000;
/** Events the long-lived inbound connection needs: bgapi results, adopted calls' ends, liveness, and the
 * end of a whisper played to an agent during a warm transfer. */
const INBOUND_EVENTS = ['BACKGROUND_JOB', 'CHANNEL_HANGUP_COMPLETE', 'HEARTBEAT', 'PLAYBACK_STOP'];

export class Controller {
  readonly registry: CallRegistry<RegisteredCall>;
  readonly routing: RoutingService;
  readonly metrics: Metrics;
  readonly store: CallStore;
  readonly addresses: ControllerAddresses;
  readonly #database: Database;
  readonly #journal: CallJournal;
  readonly #ownsDatabase: boolean;
  readonly #outbound: OutboundSocketServer;
  readonly #inbound: InboundEslClient;
  readonly #http: FastifyInstance;
  readonly #redis: Redis | undefined;
  readonly #voice: VoicePipeline | undefined;
  readonly #services: readonly { name: string; close: () => Promise<unknown> }[];
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;
  readonly #firstResync: Promise<void>;

  private constructor(parts: {
    registry: CallRegistry<RegisteredCall>;
    routing: RoutingService;
    journal: CallJournal;
    database: Database;
    ownsDatabase: boolean;
    store: CallStore;
    metrics: Metrics;
    outbound: OutboundSocketServer;
    inbound: InboundEslClient;
    http: FastifyInstance;
    redis: Redis | undefined;
    voice: VoicePipeline | undefined;
    services: readonly { name: string; close: () => Promise<unknown> }[];
    logger: Logger;
    addresses: ControllerAddresses;
    firstResync: Promise<void>;
  }) {
    this.registry = parts.registry;
    this.routing = parts.routing;
    this.#journal = parts.journal;
    this.#database = parts.database;
    this.#ownsDatabase = parts.ownsDatabase;
    this.store = parts.store;
    this.metrics = parts.metrics;
    this.#outbound = parts.outbound;
    this.#inbound = parts.inbound;
    this.#http = parts.http;
    this.#redis = parts.redis;
    this.#voice = parts.voice;
    this.#services = parts.services;
    this.#logger = parts.logger;
    this.addresses = parts.addresses;
    this.#firstResync = parts.firstResync;
  }

  static async start(options: ControllerOptions): Promise<Controller> {
    const { config, logger } = options;
    const clock = options.clock ?? systemClock;
    // Routing first: without a routing file it trusts, the controller must not take calls (or touch anything).
    const metrics = createMetrics();
    const routing = await RoutingService.load({
      file: config.routingFile,
      logger,
      onReloadFailed: () => {
        metrics.routingFileValid.set(0);
        metrics.routingReloadFailuresTotal.inc();
      },
      onReloaded: () => metrics.routingFileValid.set(1),
    });
    metrics.routingFileValid.set(1);
    const ownsDatabase = options.database === undefined;
    const database = options.database ?? (await openDatabase({
      url: config.database.url,
      pgliteDataDir: config.database.pgliteDataDir,
      onIdleError: (error) => logger.warn({ err: error }, 'idle database connection failed'),
    }));
    const opened: { close(): Promise<unknown> }[] = [{ close: async () => routing.close() }];
    if (ownsDatabase) opened.push(database);
    try {
      await migrate(database);
      await mkdir(config.recordingsDir, { recursive: true });
      const store = new DrizzleCallStore({ db: database.db });
      // The key ring is parsed once: the transcripts' column cipher and the recordings' vault share it.
      const keys = optionalMasterKeys(config);
      const cipher = keys && fieldCipherFor(keys);
      const transferStore = new DrizzleTransferStore({ db: database.db, ...(cipher ? { cipher } : {}) });
      const registry = new CallRegistry<RegisteredCall>();
      // Background services, stopped on shutdown once the calls are let go (before the ESL connection goes).
      const services: { name: string; close: () => Promise<unknown> }[] = [];
      const service = (name: string, close: () => Promise<unknown>): void => {
        services.push({ name, close });
        opened.push({ close });
      };
      // Records, audit, live events, webhooks, recording capture and the post-call queue (issue 7).
      const { events, audit, callEvents, liveEvents, threecx, recordingCapture, recordings } = await startCallRecords({
        config,
        keys,
        database,
        logger,
        clock,
        metrics,
        registry,
        service,
        ...(options.recordings ? { recordingTiming: options.recordings } : {}),
      });
      const journal = new CallJournal({
        store,
        logger,
        onWriteFailed: () => metrics.journalWritesLostTotal.inc(),
        onAppend: (event) => callEvents.journaled(event),
      });
      const connectionOptions = {
        commandTimeoutMs: config.freeswitch.commandTimeoutMs,
        onCommandLatency: (command: string, ms: number) => metrics.eslCommandDuration.observe({ command }, ms / 1000),
      };

      // Event-Date-Timestamp is FreeSWITCH's wall clock in microseconds; both clocks are the host's (NTP).
      const observeEventLag = (event: EslEvent): void => {
        const sentMicros = Number(event.headers.get('Event-Date-Timestamp'));
        if (Number.isFinite(sentMicros) && sentMicros > 0) {
          metrics.eventLag.observe(Math.max(0, Date.now() / 1000 - sentMicros / 1e6));
        }
      };

      // Built now, started once the outbound socket listens: failover, the dialer and warm transfers use it.
      const inbound = new InboundEslClient({
        host: config.freeswitch.eslHost,
        port: config.freeswitch.eslPort,
        password: config.freeswitch.eslPassword,
        events: INBOUND_EVENTS,
        backoff: { initialMs: config.freeswitch.reconnectMinMs, maxMs: config.freeswitch.reconnectMaxMs },
        connection: connectionOptions,
      });

      routing.watch();
      const history = new CallerHistory();
      await history.preload(store, { days: CALLER_HISTORY_DAYS, now: clock.now() });
      // Failover: the 3CX gateway's state from FreeSWITCH, the AI side's health from its use and probes.
      const failover = new FailoverMonitor({
        api: (command) => {
          const connection = inbound.current();
          return connection === undefined ? Promise.reject(new Error('inbound ESL connection is down')) : connection.api(command);
        },
        gateways: config.gateways,
        pollIntervalMs: config.failover.pollIntervalMs,
        clock,
        // Detection plus up to two polls stays inside the switch-over limit.
        machine: { detectMs: Math.max(1000, config.failover.timeoutSeconds * 1000 - 2 * config.failover.pollIntervalMs) },
      });
      service('failover monitor', () => failover.close());
      const mode = (): SystemMode => failover.mode();
      const showMode = (current: SystemMode): void => {
        for (const m of ['normal', 'ai-down', '3cx-down'] as const) metrics.systemMode.set({ mode: m }, m === current ? 1 : 0);
      };
      showMode('normal');

      // Follow-up calls: placed by the dialer, answered legs come back through the outbound socket.
      const outboundStore = new DrizzleOutboundStore({ db: database.db, ...(cipher ? { cipher } : {}) });
      const firstDid = Object.keys(routing.config.numbers)[0] ?? '';
      const dialer = new OutboundDialer({
        store: outboundStore,
        connection: () => inbound.current(),
        clock,
        logger: logger.child({ component: 'dialer' }),
        callerIdNumber: config.twilio.phoneNumber ?? firstDid,
        gateway: () => (mode() === '3cx-down' ? config.gateways.twilio : config.gateways.threecx),
        socketTarget: { host: config.controllerSocket.advertisedHost, port: config.controllerSocket.port },
        defaultTimeZone: Object.values(routing.config.locations)[0]?.timezone ?? 'America/New_York',
      });
      service('outbound dialer', () => dialer.stop());

      // Redis carries the post-call queue; the controller also checks it for readiness.
      const redis =
        config.redis.url === undefined
          ? undefined
          : new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
      redis?.on('error', (error: Error) => logger.debug({ err: error }, 'redis connection error'));
      if (redis) {
        opened.push({ close: () => closeRedis(redis) });
        await redis.connect().catch((error: unknown) => logger.warn({ err: error }, 'redis not reachable at start'));
      }
      // Twilio texts staff in emergencies and patients when the agent confirms a request.
      const twilioStatusUrl = config.publicBaseUrl === undefined ? undefined : `${config.publicBaseUrl}${TWILIO_STATUS_PATH}`;
      const sms = twilioSms(config, twilioStatusUrl, logger);
      if (sms) service('twilio', async () => sms.close());
      const authToken = config.twilio.authToken;
      const twilioStatus: TwilioStatusRoutesOptions | undefined =
        sms && twilioStatusUrl && authToken
          ? {
              publicUrl: twilioStatusUrl,
              verifySignature: (request) => verifyTwilioSignature({ authToken, ...request }),
              onStatus: (status) => logger.info({ sid: status.sid, status: status.status, errorCode: status.errorCode }, 'text message status'),
            }
          : undefined;

      // Built before any call is taken: the audio fork endpoint shares its server. Readiness checks look at
      // the ESL link made below, only once requests come in.
      const http = buildHttpServer({
        logger,
        callStore: store,
        metrics,
        apiToken: config.http.apiToken,
        tokens: new DrizzleTokenStore({ db: database.db }),
        audit,
        ...(recordings ? { recordings } : {}),
        routing: createRoutingApi(routing),
        // A rejected edit does not make the controller unready (the last good routing is live); only the
        // count is shown here, unauthenticated. The errors themselves are at GET /v1/routing.
        readinessDetails: () => {
          const status = routing.status();
          const system = failover.state();
          return {
            system: { mode: system.mode, detected: system.detected, override: system.override?.mode ?? null, changes: failover.history().slice(-10) },
            routing: {
              version: status.version,
              lastEditRejected: status.lastError !== null,
              errors: status.lastError?.errors.length ?? 0,
            },
          };
        },
        ...(twilioStatus ? { twilioStatus } : {}),
        transfers: transferStore,
        liveEvents: { source: liveEvents, upgradePathsElsewhere: [AUDIO_FORK_PATH] },
        threecxWebhook: { secret: config.threecxWebhookSecret, receive: (event) => threecx.receive(event) },
        outbound: dialer,
        system: {
          status: () => {
            const state = failover.state();
            return {
              mode: state.mode,
              detected: state.detected,
              override: state.override && { mode: state.override.mode, by: state.override.by, at: new Date(state.override.at).toISOString() },
              history: [...failover.history()],
            };
          },
          override: (forced, by) => failover.override(forced, by),
        },
        commands: staffCommands(registry),
        readinessChecks: [
          { name: 'esl', check: () => eslLink.check() },
          { name: 'database', check: () => store.ping() },
          ...(redis ? [{ name: 'redis', check: async () => void (await redis.ping()) }] : []),
        ],
      });
      opened.push({ close: () => http.close() });
      let httpPort = config.http.port;
      const voice = config.voice.enabled
        ? await buildVoicePipeline({
            config: config.voice,
            server: http.server,
            forkBaseUrl: () => config.voice.audioFork.baseUrl ?? `ws://${reachableHost(config.http.host)}:${httpPort}`,
            routing: routing.config,
            metrics,
            logger,
            report: (source, healthy, detail) => failover.report(source, healthy, detail),
          })
        : undefined;
      const prober =
        voice === undefined
          ? undefined
          : new HealthProber({
              probes: voice.probes,
              intervalMs: 3000,
              isFailing: (source) => {
                const health = failover.state().sources[source];
                return health.status === 'down' || health.last?.healthy === false;
              },
            });
      if (prober) service('health probes', async () => prober.close());
      if (voice) opened.push(voice);
      else logger.warn("voice pipeline off (no SPEECHMATICS_API_KEY, or no GOOGLE_TTS_API_KEY / GOOGLE_APPLICATION_CREDENTIALS): AI calls are greeted and held, and announcements are spoken by FreeSWITCH's own voice (mod_flite, US English only)");
      // An edited announcement is synthesized as soon as the edit is live, not when the next caller waits for it.
      if (voice) {
        routing.onChange((changed) => {
          void voice.prewarmAnnouncements(changed).then((result) => logger.info({ ...result }, 'announcements of the new routing cached'));
        });
      }
      const alerts = new EmergencyAlerts({
        sms,
        recipients: () => staffNumbers(config, routing),
        publicBaseUrl: config.publicBaseUrl,
        practiceName: () => routing.config.practice,
        events,
        metrics,
        logger,
      });
      // Texts already on their way are sent (or given up) before the Twilio client closes.
      services.unshift({ name: 'emergency texts', close: () => alerts.settled() });
      // The call policy every session shares: built once, now that each adapter it uses exists.
      const calls = new CallServices({
        config,
        routing,
        voice,
        inbound,
        transferStore,
        alerts,
        metrics,
        clock,
        logger,
        mode,
        journal,
        registry,
        history,
        dialer,
        sms,
        events,
        callEvents,
        recordingCapture,
        onEslEvent: observeEventLag,
        onPickup: options.onPickup,
      });
      failover.on('modeChanged', (from, to, reason) => {
        showMode(to);
        events.publish({ type: 'SYSTEM_MODE_CHANGED', at: clock.now(), data: { from, to, reason } });
        logger.warn({ from, to, reason }, 'system mode changed');
        calls.modeChanged(to);
      });

      const outbound = new OutboundSocketServer({ connection: connectionOptions });
      outbound.on('call', (connection: EslConnection, channelData: EslEvent, acceptedAtMs: number) => {
        const session = calls.newSession(connection, channelData, acceptedAtMs);
        registry.add(session);
        threecx.noteCall(session.callId, channelData.headers.get('variable_sip_call_id'));
        metrics.activeCalls.set(registry.size);
        options.onSession?.(session);
        session.start();
      });
      outbound.on('connectFailed', (error) => logger.warn({ err: error }, 'outbound socket connection failed before the call was handed over'));
      opened.push(outbound);
      const outboundAddress = await outbound.listen(config.controllerSocket);

      let everConnected = false;
      inbound.on('connected', () => {
        if (everConnected) metrics.eslReconnectsTotal.inc();
        everConnected = true;
      });
      // Logs each change of the link once (a refused password as an error) and answers /ready's esl check.
      const eslLink = new EslLinkStatus(inbound, logger, { host: config.freeswitch.eslHost, port: config.freeswitch.eslPort });
      let resolveFirstResync!: () => void;
      const firstResync = new Promise<void>((resolve) => (resolveFirstResync = resolve));
      // Calls stranded in `socket` by a controller that went away before `connect` (see stranded-calls.ts).
      const strandedWatch = new AbortController();
      service('stranded calls', async () => strandedWatch.abort());
      inbound.on('resync', () => {
        inbound
          .showChannels()
          .then(async (rows) => {
            await resync(rows, {
              store,
              journal,
              registry,
              clock,
              logger,
              onAdoptedEnded: (call: AdoptedCall) => calls.ended('adopted', call),
            });
            const stranded = { store, registry, logger, graceMs: STRANDED_GRACE_MS, signal: strandedWatch.signal };
            const transfer = (uuid: string, destination: string, dialplan: string, context: string): Promise<string> => {
              const connection = inbound.current();
              return connection === undefined ? Promise.reject(new Error('inbound ESL connection is down')) : new ChannelControl(connection).transfer(uuid, destination, dialplan, context);
            };
            rescueStrandedCalls(rows, { ...stranded, showChannels: () => inbound.showChannels(), transfer }).catch(
              (error: unknown) => logger.error({ err: error }, 'looking for calls stranded in the socket application failed'),
            );
          })
          .then(() => metrics.activeCalls.set(registry.size))
          .catch((error: unknown) => logger.error({ err: error }, 'resync with FreeSWITCH failed'))
          .finally(resolveFirstResync);
      });
      inbound.on('event', (event) => {
        observeEventLag(event);
        if (event.name !== 'CHANNEL_HANGUP_COMPLETE' || event.uniqueId === undefined) return;
        const call = registry.getByFsUuid(event.uniqueId);
        // Sessions hear their own hangup on their outbound socket; only adopted calls rely on this one.
        if (call instanceof AdoptedCall) call.hungUp(event.headers.get('Hangup-Cause') ?? 'NORMAL_CLEARING');
      });
      opened.push({ close: () => inbound.stop() });
      await inbound.start();
      // Crash recovery once the live calls are known: their spool files are still being written.
      recordingCapture?.recoverAfter(firstResync, (callId) => registry.get(callId) !== undefined);
      failover.start();
      dialer.start();

      await http.listen({ host: config.http.host, port: config.http.port });
      const httpAddress = http.server.address() as AddressInfo;
      httpPort = httpAddress.port;

      return new Controller({
        registry,
        routing,
        journal,
        database,
        ownsDatabase,
        store,
        metrics,
        outbound,
        inbound,
        http,
        redis,
        voice,
        services,
        logger,
        firstResync,
        addresses: {
          http: { host: config.http.host, port: httpAddress.port },
          outboundSocket: { host: config.controllerSocket.host, port: outboundAddress.port },
        },
      });
    } catch (error) {
      for (const part of opened.reverse()) await part.close().catch(() => undefined);
      throw error;
    }
  }

  /** The voice pipeline (undefined when it is not configured). */
  get voice(): VoicePipeline | undefined {
    return this.#voice;
  }

  /** Resolves once the inbound ESL connection is up and the first resync is done (rejects after timeoutMs). */
  async waitForFreeSwitch(options: { timeoutMs: number }): Promise<void> {
    await this.#inbound.waitConnected(options);
    await this.#firstResync;
  }

  /** Stops taking calls, ends the calls in progress, closes every connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // The calls go back to the dialplan first, and their audio forks are closed (bounded) before the HTTP
    // server: a fork's WebSocket is an upgraded connection of that server, which Fastify's close does not
    // force, so closing HTTP first waited for the live calls' forks forever.
    const steps: [string, () => Promise<unknown>][] = [
      ['calls', () => this.registry.closeAll('controller shutdown')],
      ['outbound socket', () => this.#outbound.close()],
      ...this.#services.map((s): [string, () => Promise<unknown>] => [s.name, s.close]),
      ['voice pipeline', async () => this.#voice?.close()],
      ['http', () => this.#http.close()],
      ['inbound ESL', () => this.#inbound.stop()],
      ['routing watch', async () => this.routing.close()],
    ];
    // Whatever the calls wrote on their way out reaches the database before it closes.
    steps.push(['journal', () => this.#journal.flush()]);
    const redis = this.#redis;
    if (redis) steps.push(['redis', () => closeRedis(redis)]);
    if (this.#ownsDatabase) steps.push(['database', () => this.#database.close()]);
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.#logger.warn({ err: error, step: name }, 'shutdown step failed');
      }
    }
  }
}

/** The audio fork's WebSocket endpoint (voice/audio-fork/server.ts): its upgrades are not Fastify's. */
const AUDIO_FORK_PATH = '/v1/audio-fork/';

/** A wildcard listen address is not something FreeSWITCH can connect to; the loopback is. */
function reachableHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/** QUIT when connected (clean), otherwise drop the socket: a dead Redis must not hold up shutdown. */
async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}
