// What FreeSWITCH says about one SIP gateway: `api sofia xmlstatus gateway <name>` (or `sofia status gateway
// <name>`), parsed. Pure: text in, a typed status out.
//
// Based on mod_sofia's own printers (signalwire/freeswitch, src/mod/endpoints/mod_sofia/mod_sofia.c:
// `cmd_status` and `xml_gateway_status`/`cmd_xml_status`; the same text in the 1.10-era and later revisions read):
// - plain: a line of 97 '=', then `Name    \t<name>`, `Profile \t…`, … `PingFreq\t<s>`, `PingTime\t%0.2f`,
//   `PingState\t<min>/<count>/<max>`, `State   \t<reg state>`, `Status  \tUP|DOWN` plus ` (ping)` while an
//   OPTIONS ping is in flight, `Uptime  \t<n>s`, `CallsIN`, `CallsOUT`, `FailedCallsIN`, `FailedCallsOUT`,
//   and the '=' line again;
// - xml: `<?xml version="1.0" encoding="ISO-8859-1"?>` then `  <gateway>` with one element per line (`<name>`,
//   `<state>`, `<status>`, `<pingtime>`, `<pinging>0|1</pinging>`, `<uptime-usec>`, `<calls-out>`, …);
// - an unknown gateway, in both: the single line `Invalid Gateway!`.
// State is the registration state (`sofia_state_names`: UNREGED TRYING REGISTER REGED UNREGISTER FAILED
// FAIL_WAIT EXPIRED NOREG DOWN TIMEOUT); NOREG is normal for register=false trunks such as 3CX's. Status is
// what decides calls: `sofia_outgoing_channel` refuses a gateway whose status is not UP with GATEWAY_DOWN, and
// with `ping` configured the OPTIONS results move it between UP and DOWN (a register=false gateway without
// `ping` is always UP). `Ping-Status` is not a gateway field: it belongs to registrations (`sofia status
// profile <p> reg`).
export type GatewayRegState =
  | 'UNREGED'
  | 'TRYING'
  | 'REGISTER'
  | 'REGED'
  | 'UNREGISTER'
  | 'FAILED'
  | 'FAIL_WAIT'
  | 'EXPIRED'
  | 'NOREG'
  | 'DOWN'
  | 'TIMEOUT';

const REG_STATES: ReadonlySet<string> = new Set(['UNREGED', 'TRYING', 'REGISTER', 'REGED', 'UNREGISTER', 'FAILED', 'FAIL_WAIT', 'EXPIRED', 'NOREG', 'DOWN', 'TIMEOUT']);

export interface GatewayStatus {
  name: string;
  profile: string;
  state: GatewayRegState;
  /** UP: FreeSWITCH will send calls through it; DOWN: bridges fail at once with GATEWAY_DOWN. */
  status: 'UP' | 'DOWN';
  /** An OPTIONS ping is in flight right now. */
  pinging: boolean;
  /** Seconds between OPTIONS pings; 0 when the gateway is not pinged. */
  pingFreqSec: number;
  /** Round trip of the last answered OPTIONS ping, as FreeSWITCH prints it (ms). */
  pingTimeMs: number;
  /** ping-min / current count / ping-max: how many answered pings FreeSWITCH counts before UP or DOWN. */
  pingMin: number;
  pingCount: number;
  pingMax: number;
  /** How long it has been UP; 0 while DOWN. */
  uptimeMs: number;
  callsIn: number;
  callsOut: number;
  failedCallsIn: number;
  failedCallsOut: number;
}

export type GatewayStatusReply =
  | { kind: 'gateway'; gateway: GatewayStatus }
  /** FreeSWITCH has no gateway of that name (not configured, or its profile is not running). */
  | { kind: 'invalid_gateway' }
  /** Anything else, e.g. `-ERR sofia Command not found!` when mod_sofia is not loaded. */
  | { kind: 'unrecognised'; text: string };

/** The api command (without `api `) asking for one gateway, XML by default (stable element names). */
export function gatewayStatusCommand(name: string, format: 'xml' | 'plain' = 'xml'): string {
  // The name goes into a command line: nothing that could end or extend it.
  if (!/^[\w.-]+$/.test(name)) throw new RangeError(`Not a gateway name: ${JSON.stringify(name)}`);
  return `sofia ${format === 'xml' ? 'xmlstatus' : 'status'} gateway ${name}`;
}

export function parseGatewayStatus(reply: string): GatewayStatusReply {
  const text = reply.trim();
  if (text === 'Invalid Gateway!') return { kind: 'invalid_gateway' };
  const fields = text.includes('<gateway>') ? xmlFields(text) : plainFields(text);
  const gateway = fields === null ? null : toStatus(fields);
  return gateway === null ? { kind: 'unrecognised', text: reply } : { kind: 'gateway', gateway };
}

/** Normalised field names → raw values. */
type Fields = Map<string, string>;

function xmlFields(text: string): Fields | null {
  const body = /<gateway>([\s\S]*?)<\/gateway>/.exec(text)?.[1];
  if (body === undefined) return null;
  const fields: Fields = new Map();
  // The element names are the keys; the plain reader maps its labels onto the same names.
  for (const m of body.matchAll(/<([\w-]+)>([^<]*)<\/\1>/g)) fields.set(m[1] as string, unescapeXml(m[2] as string));
  return fields;
}

const PLAIN_KEYS: Record<string, string> = {
  Name: 'name',
  Profile: 'profile',
  PingFreq: 'pingfreq',
  PingTime: 'pingtime',
  State: 'state',
  CallsIN: 'calls-in',
  CallsOUT: 'calls-out',
  FailedCallsIN: 'failed-calls-in',
  FailedCallsOUT: 'failed-calls-out',
};

function plainFields(text: string): Fields | null {
  const fields: Fields = new Map();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const key = line.slice(0, tab).trim();
    const value = line.slice(tab + 1).trim();
    if (key === 'Status') {
      // `UP (ping)`: the suffix is the pinging flag.
      fields.set('status', value.replace(/\s*\(ping\)$/, ''));
      fields.set('pinging', value.endsWith('(ping)') ? '1' : '0');
    } else if (key === 'PingState') {
      const [min = '', count = '', max = ''] = value.split('/');
      fields.set('pingmin', min);
      fields.set('pingcount', count);
      fields.set('pingmax', max);
    } else if (key === 'Uptime') {
      fields.set('uptime-usec', String(Number(value.replace(/s$/, '')) * 1_000_000));
    } else if (PLAIN_KEYS[key] !== undefined) {
      fields.set(PLAIN_KEYS[key], value);
    }
  }
  return fields.size === 0 ? null : fields;
}

function toStatus(fields: Fields): GatewayStatus | null {
  const name = fields.get('name');
  const state = fields.get('state');
  const status = fields.get('status');
  if (name === undefined || state === undefined || !REG_STATES.has(state) || (status !== 'UP' && status !== 'DOWN')) return null;
  const num = (key: string): number => {
    const n = Number(fields.get(key) ?? '0');
    return Number.isFinite(n) ? n : 0;
  };
  return {
    name,
    profile: fields.get('profile') ?? '',
    state: state as GatewayRegState,
    status,
    pinging: fields.get('pinging') === '1',
    pingFreqSec: num('pingfreq'),
    pingTimeMs: num('pingtime'),
    pingMin: num('pingmin'),
    pingCount: num('pingcount'),
    pingMax: num('pingmax'),
    uptimeMs: Math.floor(num('uptime-usec') / 1000),
    callsIn: num('calls-in'),
    callsOut: num('calls-out'),
    failedCallsIn: num('failed-calls-in'),
    failedCallsOut: num('failed-calls-out'),
  };
}

/** switch_amp_encode's five entities. */
function unescapeXml(value: string): string {
  return value.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[e] as string);
}
