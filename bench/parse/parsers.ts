// The three ESL parsers under test, each behind the same tiny interface: feed one TCP read, count what came
// out. Each is driven the way its library drives it in production:
// - ours: EslFrameParser.push() per read, then parseEvent() for every event frame (plain, json, xml);
// - modesl: its Parser listens for 'data' on the socket object it is given and emits 'esl::event' with a
//   parsed Event (plain/json/xml bodies parsed) — we hand it an EventEmitter instead of a net.Socket;
// - esl: its parser is internal; the exported FreeSwitchResponse attaches it to the socket it is given and
//   parses each message's body (plain/json) in process() — same EventEmitter stand-in for the socket.
// No TCP is involved for any of them, so the figures are parse cost alone.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { FreeSwitchResponse } from 'esl';
import { EslFrameParser, isEventFrame, parseEvent } from '../../src/esl/protocol/index.ts';

export type ParserName = 'ours' | 'modesl' | 'esl';
export const PARSER_NAMES: readonly ParserName[] = ['ours', 'modesl', 'esl'];

export interface ParserCounts {
  /** Every message the parser handed to its user (replies, api responses, logs, notices, events). */
  messages: number;
  /** Of those, events (text/event-plain|json|xml). */
  events: number;
  /** Exceptions thrown or error events emitted while parsing. */
  errors: number;
  /** Messages framed but not handed over as what they are (esl has no path for XML events). */
  dropped: number;
}

export interface ParserUnderTest {
  feed(chunk: Buffer): void;
  counts(): ParserCounts;
}

/** The socket surface modesl's Parser and esl's FreeSwitchResponse touch; reads are emitted as 'data'. */
class FakeSocket extends EventEmitter {
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  write(): boolean {
    return true;
  }
  end(): this {
    return this;
  }
}

function ours(): ParserUnderTest {
  const parser = new EslFrameParser();
  const counts: ParserCounts = { messages: 0, events: 0, errors: 0, dropped: 0 };
  return {
    feed(chunk) {
      try {
        for (const frame of parser.push(chunk)) {
          counts.messages++;
          if (isEventFrame(frame) && parseEvent(frame).name !== '') counts.events++;
        }
      } catch {
        counts.errors++;
      }
    },
    counts: () => ({ ...counts }),
  };
}

interface ModeslParserModule {
  new (socket: EventEmitter): EventEmitter;
}

function modesl(): ParserUnderTest {
  const require = createRequire(import.meta.url);
  // Not part of modesl's documented surface, but it is the module its Connection uses for every socket.
  const Parser = require('modesl/lib/esl/Parser.js') as ModeslParserModule;
  const socket = new FakeSocket();
  const parser = new Parser(socket);
  const counts: ParserCounts = { messages: 0, events: 0, errors: 0, dropped: 0 };
  parser.on('esl::event', (_event: unknown, headers: Record<string, unknown>) => {
    counts.messages++;
    const type = headers['Content-Type'];
    if (typeof type === 'string' && type.startsWith('text/event-')) counts.events++;
  });
  parser.on('error', () => counts.errors++);
  return {
    feed(chunk) {
      try {
        socket.emit('data', chunk);
      } catch {
        counts.errors++;
      }
    },
    counts: () => ({ ...counts }),
  };
}

const quietLogger = { debug() {}, info() {}, error() {} };

function esl(): ParserUnderTest {
  const socket = new FakeSocket();
  const response = new FreeSwitchResponse(socket as never, quietLogger);
  let errors = 0;
  return {
    feed(chunk) {
      try {
        socket.emit('data', chunk);
      } catch {
        errors++;
      }
    },
    counts(): ParserCounts {
      const s = response.stats;
      // Every framed message lands in exactly one of these counters (unhandled = XML events: esl has no
      // XML path, so they are framed and then dropped with an error event).
      const messages =
        s.missing_content_type + s.auth_request + s.command_reply + s.events + s.log_data + s.disconnect +
        s.api_responses + s.rude_rejections + s.unhandled;
      return {
        messages: Number(messages),
        events: Number(s.events - s.json_parse_errors - s.missing_event_name),
        errors: errors + Number(s.json_parse_errors + s.missing_event_name),
        dropped: Number(s.unhandled),
      };
    },
  };
}

export function createParser(name: ParserName): ParserUnderTest {
  if (name === 'ours') return ours();
  if (name === 'modesl') return modesl();
  return esl();
}
