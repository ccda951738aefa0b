// Turns an event frame (text/event-plain|json|xml) into an EslEvent. The three formats carry the same
// headers; they differ in encoding (plain and xml values are URL-encoded, json values are not) and in how
// the body is attached (plain: inner Content-Length and a blank line; json: "_body"; xml: <body>).
import { EslProtocolError } from '../../core/errors.ts';
import { decodeValue } from './decode.ts';
import { EslHeaders } from './headers.ts';
import { parseJsonPairs } from './json-pairs.ts';
import type { EslFrame } from './parser.ts';
import { parseXmlEvent } from './xml-event.ts';

export type EslEventFormat = 'plain' | 'json' | 'xml';

export interface EslEvent {
  /** The FIRST Event-Name: the COMMAND event after uuid_broadcast carries a second one (PRIVATE_COMMAND). */
  name: string;
  subclass: string | undefined;
  uniqueId: string | undefined;
  /** Every header in order, values decoded, repeats kept (get() answers the last one). */
  headers: EslHeaders;
  /** The inner body (BACKGROUND_JOB result, CUSTOM event payload), or undefined. */
  body: string | undefined;
  format: EslEventFormat;
}

export const EVENT_CONTENT_TYPES: Readonly<Record<string, EslEventFormat>> = {
  'text/event-plain': 'plain',
  'text/event-json': 'json',
  'text/event-xml': 'xml',
};

/** True for frames that carry an event (as opposed to replies, logs and notices). */
export function isEventFrame(frame: EslFrame): boolean {
  return EVENT_CONTENT_TYPES[frame.contentType] !== undefined;
}

export function parseEvent(frame: EslFrame): EslEvent {
  const format = EVENT_CONTENT_TYPES[frame.contentType];
  if (format === undefined) throw new EslProtocolError(`Not an event frame: Content-Type "${frame.contentType}"`);
  const text = frame.body === undefined ? '' : frame.body.toString('utf8');
  if (format === 'plain') return parsePlain(text);
  if (format === 'json') return parseJson(text);
  const { headers, body } = parseXmlEvent(text);
  return finish(headers, body, 'xml');
}

/**
 * The channel data of the outbound `connect` reply (trace rule 8): ~160 channel headers come first in the
 * outer header block, then Content-Type/Reply-Text/Socket-Mode/Control. The parser already decoded them.
 */
export function parseOutboundConnectReply(frame: EslFrame): EslEvent {
  if (frame.contentType !== 'command/reply') {
    throw new EslProtocolError(`Expected the connect reply, got Content-Type "${frame.contentType}"`);
  }
  const headers = frame.headers;
  return {
    name: headers.getFirst('Event-Name') ?? 'CHANNEL_DATA',
    subclass: undefined,
    uniqueId: headers.get('Unique-ID') ?? headers.get('Channel-Unique-ID'),
    headers,
    body: undefined,
    format: 'plain',
  };
}

function parsePlain(text: string): EslEvent {
  const headers = new EslHeaders();
  let pos = 0;
  let body: string | undefined;
  const length = text.length;
  while (pos < length) {
    let eol = text.indexOf('\n', pos);
    if (eol === -1) eol = length;
    if (eol === pos) {
      // Blank line: what follows is the inner body (exactly the inner Content-Length bytes; the outer
      // Content-Length already bounded it, so no trailing blank line follows).
      if (eol + 1 < length) body = text.slice(eol + 1);
      break;
    }
    const colon = text.indexOf(': ', pos);
    if (colon !== -1 && colon < eol) {
      headers.add(text.slice(pos, colon), decodeValue(text.slice(colon + 2, eol)));
    } else {
      headers.add(text.slice(pos, eol).replace(/:$/, ''), '');
    }
    pos = eol + 1;
  }
  return finish(headers, body, 'plain');
}

function parseJson(text: string): EslEvent {
  const headers = new EslHeaders();
  let body: string | undefined;
  for (const [name, value] of parseJsonPairs(text)) {
    if (name === '_body') body = value;
    else headers.add(name, value);
  }
  return finish(headers, body, 'json');
}

function finish(headers: EslHeaders, body: string | undefined, format: EslEventFormat): EslEvent {
  // One pass instead of three lookups: building the name index for ~130 headers per event is wasted
  // work on the hot path when only these three are needed right away.
  let name: string | undefined;
  let subclass: string | undefined;
  let uniqueId: string | undefined;
  for (const [n, v] of headers.entries()) {
    if (n === 'Event-Name') {
      if (name === undefined) name = v;
    } else if (n === 'Unique-ID') uniqueId = v;
    else if (n === 'Event-Subclass') subclass = v;
  }
  return { name: name ?? '', subclass, uniqueId, headers, body, format };
}
