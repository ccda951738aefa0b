// FreeSWITCH-side ESL serialization: the bytes mod_event_socket writes. Written from the recorded traces
// (test/fixtures/freeswitch-traces, rules 1-20 of their README), independent of src/esl/ on purpose: the
// simulator must not share the controller's understanding of the protocol, or both could be wrong together.

/** One header line of an event; names repeat where FreeSWITCH repeats them (CODEC, HANGUP_COMPLETE). */
export type HeaderList = Array<[string, string]>;

export type EventFormat = 'plain' | 'json' | 'xml';

export interface SimEvent {
  /** Event-Name as FreeSWITCH reports it (first occurrence). */
  readonly name: string;
  readonly subclass?: string;
  /** Channel uuid, if the event belongs to a channel (used by myevents, filters and per-channel order). */
  readonly uniqueId?: string;
  /** Every header, in FreeSWITCH's order, values NOT encoded. */
  readonly headers: HeaderList;
  readonly body?: string;
}

// Characters FreeSWITCH's url encoder leaves alone besides letters and digits. Seen raw in the traces:
// ( ) * , - . / _ ~ ; seen encoded: space " # % & : ; < = > @ { | } + CR LF. `!` and `'` are guesses.
const KEEP = new Set('()*,-./_~!\''.split(''));

const encodeCache = new Map<string, string>();

/** URL-encode a header value the way FreeSWITCH does (per UTF-8 byte, upper-case hex). */
export function fsUrlEncode(value: string): string {
  // Most values are short and repeat across events (names, uuids, states): cache the small ones.
  const cached = encodeCache.get(value);
  if (cached !== undefined) return cached;
  let out = '';
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const isAlnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!isAlnum && !KEEP.has(value[i] ?? '')) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out = value;
  } else {
    for (const byte of Buffer.from(value, 'utf8')) {
      const ch = String.fromCharCode(byte);
      const isAlnum = (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122);
      out += byte < 128 && (isAlnum || KEEP.has(ch)) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (value.length <= 64) {
    if (encodeCache.size > 50_000) encodeCache.clear();
    encodeCache.set(value, out);
  }
  return out;
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The event body in one of the three formats (without the outer envelope). */
export function eventBody(event: SimEvent, format: EventFormat): string {
  const body = event.body;
  const bodyLength = body === undefined ? 0 : Buffer.byteLength(body);
  if (format === 'json') {
    // One object, all values strings, duplicate keys kept as they come, no trailing newline (rule 5).
    const parts: string[] = [];
    for (const [k, v] of event.headers) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    if (body !== undefined) {
      parts.push(`"Content-Length":${JSON.stringify(String(bodyLength))}`);
      parts.push(`"_body":${JSON.stringify(body)}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (format === 'xml') {
    // Values stay URL-encoded inside the XML (rule 6).
    let out = '<event>\n  <headers>\n';
    for (const [k, v] of event.headers) out += `    <${k}>${xmlEscape(fsUrlEncode(v))}</${k}>\n`;
    if (body !== undefined) out += `    <Content-Length>${bodyLength}</Content-Length>\n`;
    out += '  </headers>\n';
    if (body !== undefined) out += `  <body>${xmlEscape(body)}</body>\n`;
    return `${out}</event>\n`;
  }
  let out = '';
  for (const [k, v] of event.headers) out += `${k}: ${fsUrlEncode(v)}\n`;
  if (body !== undefined) return `${out}Content-Length: ${bodyLength}\n\n${body}`;
  return `${out}\n`;
}

/** A complete event frame: outer Content-Length first, then Content-Type (rule 2). */
export function eventFrame(event: SimEvent, format: EventFormat): Buffer {
  const body = Buffer.from(eventBody(event, format), 'utf8');
  const head = Buffer.from(`Content-Length: ${body.length}\nContent-Type: text/event-${format}\n\n`, 'latin1');
  return Buffer.concat([head, body]);
}

export function authRequest(): Buffer {
  return Buffer.from('Content-Type: auth/request\n\n');
}

export function commandReply(text: string, extra: HeaderList = []): Buffer {
  let out = `Content-Type: command/reply\nReply-Text: ${text}\n`;
  for (const [k, v] of extra) out += `${k}: ${v}\n`;
  return Buffer.from(`${out}\n`, 'utf8');
}

export function apiResponse(body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Type: api/response\nContent-Length: ${b.length}\n\n`), b]);
}

export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

/** Inbound `exit` / bad auth notice; outbound adds the controlled session (rule 9). */
export function disconnectNotice(controlledUuid?: string): Buffer {
  const mid =
    controlledUuid === undefined
      ? ''
      : `Controlled-Session-UUID: ${controlledUuid}\nContent-Disposition: disconnect\n`;
  return Buffer.from(
    `Content-Type: text/disconnect-notice\n${mid}Content-Length: ${Buffer.byteLength(GOODBYE)}\n\n${GOODBYE}`,
  );
}

/** Outbound linger notice: Channel-Name is NOT url-encoded here (rule 9). */
export function lingerNotice(uuid: string, channelName: string, lingerSeconds: number | undefined): Buffer {
  return Buffer.from(
    `Content-Type: text/disconnect-notice\nControlled-Session-UUID: ${uuid}\nContent-Disposition: linger\n` +
      `Channel-Name: ${channelName}\nLinger-Time: ${lingerSeconds ?? -1}\nContent-Length: 0\n\n`,
  );
}

/** Outbound `connect` reply: channel headers first, then the reply headers, no Content-Length (rule 8). */
export function channelDataReply(headers: HeaderList): Buffer {
  let out = '';
  for (const [k, v] of headers) out += `${k}: ${fsUrlEncode(v)}\n`;
  out += 'Content-Type: command/reply\nReply-Text: %2BOK%0A\nSocket-Mode: async\nControl: full\n\n';
  return Buffer.from(out, 'utf8');
}

const LEVEL_NAMES = ['CONSOLE', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'];

/**
 * log/data frame: every log field in the outer block (rule 2). The body is the console line: timestamp,
 * idle CPU, [LEVEL], file:line and the text — except EXECUTE lines, which FreeSWITCH sends bare.
 */
export function logFrame(l: { level: number; channel: number; file: string; func: string; line: number; uuid: string; text: string; plain?: boolean }): Buffer {
  const d = new Date();
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds() * 1000).padStart(6, '0')}`;
  const text = l.plain === true ? `${l.text}\n` : `${stamp} 99.00% [${LEVEL_NAMES[l.level] ?? 'DEBUG'}] ${l.file}:${l.line} ${l.text}\n`;
  const body = Buffer.from(text, 'utf8');
  const head =
    `Content-Type: log/data\nContent-Length: ${body.length}\nLog-Level: ${l.level}\nText-Channel: ${l.channel}\n` +
    `Log-File: ${l.file}\nLog-Func: ${l.func}\nLog-Line: ${l.line}\nUser-Data: ${l.uuid}\n\n`;
  return Buffer.concat([Buffer.from(head), body]);
}
