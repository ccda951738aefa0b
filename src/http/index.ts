// The HTTP adapter's public surface; src/app/ wires it.
export { buildHttpServer, type BuildHttpServerOptions } from './server.ts';
export { createMetrics, type CreateMetricsOptions, type Metrics } from './metrics.ts';
export { runReadinessChecks, ReadinessProblem, type ReadinessCheck, type ReadinessReport, type CheckOutcome } from './ready.ts';
export { MAX_PAGE_SIZE } from './calls.ts';
export { type RoutingApi, type RoutingStatusView } from './routing.ts';
export { twilioStatusRoutes, TWILIO_STATUS_PATH, type TwilioStatusRoutesOptions, type TwilioStatus, type TwilioFormParams } from './twilio.ts';
export {
  transfersRoutes,
  type CallCommandResult,
  type CallCommands,
  type TransferCommand,
  type TransferContext,
  type TransfersRoutesOptions,
} from './transfers.ts';
export {
  outboundRoutes,
  MAX_CONTEXT_BYTES,
  type OutboundCallView,
  type OutboundRequestInput,
  type OutboundRequestResult,
  type OutboundRoutesOptions,
  type OutboundService,
} from './outbound.ts';
export { systemRoutes, type SystemModeApi } from './system.ts';
export { bearerToken, tokenMatches, type TokenAuthenticator } from './auth.ts';
export { type AuditApi } from './audit.ts';
