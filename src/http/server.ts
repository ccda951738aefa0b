// Builds the HTTP API (not listening: the caller decides host/port and owns close()). Routes are one plugin
// per concern; /v1 sits behind API tokens and per-route permissions (auth.ts), the probes and /metrics stay open for orchestrators and
// scrapers. Request logging is our own: Fastify's default would log URLs, and query strings may hold numbers.
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { CallbridgeError, ErrorCode } from '../core/errors.ts';
import type { CallStore } from '../core/ports.ts';
import { installAccessControl, meRoutes, type TokenAuthenticator } from './auth.ts';
import { auditRequests, auditRoutes, type AuditApi } from './audit.ts';
import { callsRoutes } from './calls.ts';
import { healthRoutes } from './health.ts';
import { HttpError } from './http-error.ts';
import { metricsRoutes, type Metrics } from './metrics.ts';
import { readyRoutes, type ReadinessCheck } from './ready.ts';
import { routingRoutes, type RoutingApi } from './routing.ts';
import { twilioStatusRoutes, type TwilioStatusRoutesOptions } from './twilio.ts';
import { transfersRoutes, type CallCommands, type TransfersRoutesOptions } from './transfers.ts';
import { systemRoutes, type SystemModeApi } from './system.ts';
import { outboundRoutes, type OutboundService } from './outbound.ts';
import { liveEventsRoutes, type LiveEventsRoutesOptions } from './events.ts';
import { threecxWebhookRoutes, type ThreecxWebhookOptions } from './threecx-webhook.ts';
import { recordingsRoutes, type RecordingsApi } from './recordings.ts';

export interface BuildHttpServerOptions {
  logger: FastifyBaseLogger;
  callStore: CallStore;
  readinessChecks: readonly ReadinessCheck[];
  metrics: Metrics;
  /** Bootstrap bearer token for /v1, acting as an admin; with `tokens` also undefined /v1 is open (config refuses that in production). */
  apiToken: string | undefined;
  /** API tokens from the database (roles, expiry, revocation). */
  tokens?: TokenAuthenticator;
  /** The audit trail: GET /v1/audit, and an entry for every mutating /v1 request. */
  audit?: AuditApi;
  /** Live routing (absent in processes that do not route calls). */
  routing?: RoutingApi;
  /** Extra facts for /ready that do not make the controller unready (e.g. a rejected routing edit). */
  readinessDetails?: () => Record<string, unknown>;
  /** Twilio's message status callbacks: authenticated by Twilio's signature, not the bearer token. */
  twilioStatus?: TwilioStatusRoutesOptions;
  /** Transfer contexts and the dashboard's call commands (absent in processes that do not handle calls). */
  transfers?: TransfersRoutesOptions['transfers'];
  commands?: CallCommands;
  /** The failover mode: shown and forced by operators. */
  system?: SystemModeApi;
  /** Outbound follow-up calls and the do-not-call list. */
  outbound?: OutboundService;
  /** The dashboard's live stream (GET /v1/events, WebSocket /v1/events/ws). */
  liveEvents?: LiveEventsRoutesOptions;
  /** 3CX's call events (POST /v1/webhooks/3cx), authenticated by their signature. */
  threecxWebhook?: ThreecxWebhookOptions;
  /** Recordings and transcripts: listing, audited playback and legal holds. */
  recordings?: RecordingsApi;
}

// Probed every few seconds by orchestrators and scrapers: logged at debug so they don't drown real requests.
const QUIET_ROUTES = new Set(['/health', '/ready', '/metrics']);

export function buildHttpServer(options: BuildHttpServerOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    // close() must end in bounded time even with keep-alive or streaming clients attached.
    forceCloseConnections: true,
    bodyLimit: 64 * 1024,
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    // /ready's 503 is its answer, not a fault: the failing part's owner logs the cause once, not per probe.
    const fault = reply.statusCode >= 500 && !(route === '/ready' && reply.statusCode === 503);
    const level = fault ? 'error' : route !== undefined && QUIET_ROUTES.has(route) ? 'debug' : 'info';
    // The route pattern (/v1/calls/:id), never the URL: no ids or query values in the log line.
    request.log[level](
      { method: request.method, route: route ?? '(unmatched)', statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ error: error.errorCode, message: error.message });
    }
    if (error instanceof CallbridgeError && error.code === ErrorCode.DatabaseUnavailable) {
      request.log.error({ err: error }, 'database unavailable');
      return reply.code(503).send({ error: 'service_unavailable', message: 'The database is unavailable' });
    }
    // Fastify's own client errors (bad JSON, wrong content type, body too large) keep their status.
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: 'bad_request', message: error.message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'Internal error' });
  });

  const notFound = async (request: FastifyRequest, reply: FastifyReply) =>
    reply.code(404).send({ error: 'not_found', message: `No route for ${request.method} on this path` });
  app.setNotFoundHandler(notFound);

  void app.register(healthRoutes);
  void app.register(readyRoutes, {
    checks: options.readinessChecks,
    ...(options.readinessDetails ? { details: options.readinessDetails } : {}),
  });
  void app.register(metricsRoutes, { metrics: options.metrics });
  // Every /v1 route, wherever registered (Twilio's callback sits outside the scope below), declares what it needs.
  installAccessControl(app, { bootstrapToken: options.apiToken, ...(options.tokens ? { tokens: options.tokens } : {}) });
  if (options.audit) auditRequests(app, options.audit);
  if (options.twilioStatus) void app.register(twilioStatusRoutes, options.twilioStatus);
  void app.register(
    async (v1) => {
      v1.setNotFoundHandler(notFound);
      await v1.register(meRoutes);
      if (options.audit) await v1.register(auditRoutes, { audit: options.audit });
      await v1.register(callsRoutes, { callStore: options.callStore });
      if (options.routing) await v1.register(routingRoutes, { routing: options.routing });
      if (options.system) await v1.register(systemRoutes, { system: options.system });
      if (options.outbound) await v1.register(outboundRoutes, { outbound: options.outbound });
      if (options.liveEvents) await v1.register(liveEventsRoutes, options.liveEvents);
      if (options.threecxWebhook) await v1.register(threecxWebhookRoutes, options.threecxWebhook);
      if (options.recordings) await v1.register(recordingsRoutes, { recordings: options.recordings });
      if (options.transfers && options.commands) {
        await v1.register(transfersRoutes, { callStore: options.callStore, transfers: options.transfers, commands: options.commands });
      }
    },
    { prefix: '/v1' },
  );
  return app;
}
