// Trace tools for the simulator conformance tests: frame ESL bytes, describe each frame by what must match
// FreeSWITCH (outer header order, reply text, event name, per-event header NAME order), and normalise what
// may differ. Normalised (documented list): uuids; Event-Date-*, timestamps, Event-Sequence and other
// counters (values only, names are compared); host-specific values (hostname, IPs, ports, SIP/RTP/codec
// values negotiated from SIP); numbers inside `status` bodies. The channel-variable block (variable_*) is
// compared by presence only: its members come from SIP/RTP negotiation and dialplan history.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRACE_DIR = join(import.meta.dirname, '..', 'fixtures', 'freeswitch-traces');

export function readTrace(name: string): { fs: Buffer; client: Buffer } {
  return {
    fs: readFileSync(join(TRACE_DIR, `${name}.fs-to-client.raw`)),
    client: readFileSync(join(TRACE_DIR, `${name}.client-to-fs.raw`)),
  };
}

export interface Frame {
  outer: Array<[string, string]>;
  body: string;
}

/** Frame a byte stream (rule 1). Incomplete trailing bytes are left out. */
export function frames(buf: Buffer): Frame[] {
  const out: Frame[] = [];
  let i = 0;
  while (i < buf.length) {
    const end = buf.indexOf('\n\n', i);
    if (end < 0) break;
    const outer = buf
      .toString('utf8', i, end)
      .split('\n')
      .map((l): [string, string] => {
        const j = l.indexOf(': ');
        return j < 0 ? [l, ''] : [l.slice(0, j), l.slice(j + 2)];
      });
    i = end + 2;
    const cl = outer.find(([k]) => k === 'Content-Length');
    let body = '';
    if (cl !== undefined) {
      const n = Number(cl[1]);
      if (i + n > buf.length) break;
      body = buf.toString('utf8', i, i + n);
      i += n;
    }
    out.push({ outer, body });
  }
  return out;
}

/** Event header list (name, value) in order, for plain, json (duplicates kept) and xml bodies. */
export function eventHeaders(f: Frame): Array<[string, string]> {
  const ct = f.outer.find(([k]) => k === 'Content-Type')?.[1] ?? '';
  if (ct === 'text/event-plain') {
    const head = f.body.split('\n\n')[0] ?? '';
    return head.split('\n').filter((l) => l !== '').map((l): [string, string] => {
      const j = l.indexOf(': ');
      return [l.slice(0, j), decodeURIComponent(l.slice(j + 2))];
    });
  }
  if (ct === 'text/event-json') {
    const out: Array<[string, string]> = [];
    // Values are strings, or arrays of strings for multi-valued variables (transfer_history …).
    const re = /"((?:[^"\\]|\\.)*)":("(?:[^"\\]|\\.)*"|\[(?:"(?:[^"\\]|\\.)*",?)*\])/gy;
    let pos = 1;
    for (;;) {
      re.lastIndex = pos;
      const m = re.exec(f.body);
      if (m === null) break;
      out.push([JSON.parse(`"${m[1] ?? ''}"`) as string, String(JSON.parse(m[2] ?? '""') as string | string[])]);
      pos = re.lastIndex + 1;
    }
    return out.filter(([k]) => k !== '_body');
  }
  if (ct === 'text/event-xml') {
    const head = /<headers>([\s\S]*)<\/headers>/.exec(f.body)?.[1] ?? '';
    return [...head.matchAll(/<([A-Za-z0-9_-]+)>([^<]*)<\/\1>/g)].map((m): [string, string] => [m[1] ?? '', decodeURIComponent(m[2] ?? '')]);
  }
  return [];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export function normalise(text: string): string {
  return text.replace(UUID, '<uuid>');
}

export interface Described {
  kind: 'event' | 'other';
  /** For non-events: outer header names + normalised reply text / api body. */
  key: string;
  eventName?: string;
  uniqueId?: string;
  /** Header names without variable_*, plus a marker where the variable block sits. */
  names?: string[];
  /** PRIVATE_COMMAND / COMMAND are told apart by their first header. */
  first?: string;
  /** The inner body of a plain event (BACKGROUND_JOB result), normalised. */
  innerBody?: string;
  channelState?: string;
}

export function describe(f: Frame): Described {
  const ct = f.outer.find(([k]) => k === 'Content-Type')?.[1] ?? '';
  if (ct.startsWith('text/event-')) {
    const hs = eventHeaders(f);
    const names: string[] = [];
    for (const [k] of hs) {
      if (k.startsWith('variable_')) {
        if (names.at(-1) !== '<variables>') names.push('<variables>');
      } else names.push(k);
    }
    const first = hs[0]?.[0];
    const evName = hs.find(([k]) => k === 'Event-Name')?.[1];
    return {
      kind: 'event',
      key: `event ${ct}`,
      eventName: first === 'Command' ? 'PRIVATE_COMMAND' : evName,
      uniqueId: hs.find(([k]) => k === 'Unique-ID')?.[1],
      channelState: hs.find(([k]) => k === 'Channel-State')?.[1],
      names,
      first,
      innerBody: ct === 'text/event-plain' ? normalise(f.body.split('\n\n').slice(1).join('\n\n')) : undefined,
    };
  }
  const outerNames = f.outer.map(([k]) => k).join(',');
  const reply = f.outer.find(([k]) => k === 'Reply-Text')?.[1];
  let body = ct === 'api/response' ? f.body : '';
  if (/^UP \d+ years/.test(body)) body = body.replace(/\d+/g, '<n>');
  if (body.startsWith('{"row_count":')) body = body.replace(/"rows":\[.*\]/, '"rows":[…]').replace(/"row_count":\d+/, '"row_count":<n>');
  if (ct === 'command/reply' && f.outer.some(([k]) => k === 'Event-Name')) {
    // Outbound connect reply: channel headers first, then the four reply headers (rule 8).
    const tail = f.outer.slice(-4).map(([k, v]) => `${k}: ${v}`).join('|');
    return { kind: 'other', key: normalise(`channel-data ${f.outer[0]?.[0]} … ${tail}`) };
  }
  return { kind: 'other', key: normalise(`${outerNames} | ${reply ?? ''} | ${body}`) };
}

/** Events grouped per channel (in order of first appearance), channel-less events under ''. */
export function perChannel(ds: Described[]): Array<{ uuid: string; events: Described[] }> {
  const groups = new Map<string, Described[]>();
  for (const d of ds) {
    if (d.kind !== 'event') continue;
    const k = d.uniqueId ?? '';
    const g = groups.get(k) ?? [];
    g.push(d);
    groups.set(k, g);
  }
  return [...groups].map(([uuid, events]) => ({ uuid, events }));
}
