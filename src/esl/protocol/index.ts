// The pure ESL protocol layer: bytes in, messages out, and commands to bytes. No sockets here.
export { EslHeaders, type EslHeaderPair } from './headers.ts';
export { EslFrameParser, type EslFrame, type EslFrameParserOptions } from './parser.ts';
export {
  parseEvent,
  parseOutboundConnectReply,
  isEventFrame,
  EVENT_CONTENT_TYPES,
  type EslEvent,
  type EslEventFormat,
} from './event.ts';
export {
  serializeCommand,
  sendmsgExecute,
  sendmsgHangup,
  type SerializeOptions,
  type EslCommandHeaders,
  type SendmsgExecuteOptions,
  type SendmsgHangupOptions,
} from './serializer.ts';
export { decodeValue } from './decode.ts';
export { parseJsonPairs } from './json-pairs.ts';
