// ESL adapter: the protocol layer, one connection, the outbound-socket server and the inbound client.
export * from './protocol/index.ts';
export {
  EslConnection,
  replyText,
  verbOf,
  type BgapiOptions,
  type CommandOptions,
  type DisconnectDisposition,
  type EslConnectionEvents,
  type EslConnectionOptions,
  type ExecuteAsyncOptions,
  type ExecuteOptions,
} from './connection.ts';
export { OutboundSocketServer, type OutboundSocketServerEvents, type OutboundSocketServerOptions } from './outbound-server.ts';
export { InboundEslClient, type InboundEslClientEvents, type InboundEslClientOptions, type Timers } from './inbound-client.ts';
export { backoffDelay, resolveBackoff, type BackoffOptions } from './backoff.ts';
export { parseChannelRows, type ChannelRow } from './channels.ts';
export { gatewayStatusCommand, parseGatewayStatus, type GatewayRegState, type GatewayStatus, type GatewayStatusReply } from './gateway-status.ts';
