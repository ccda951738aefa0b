// The SIP gateways the simulated switch knows (threecx, twilio by default), whether each is UP or DOWN, and
// `sofia status|xmlstatus gateway <name>` printed the way mod_sofia prints it (cmd_status / xml_gateway_status
// in mod_sofia.c). Both gateways are register=false trunks as in freeswitch/sip_profiles/threecx.xml, so their
// registration state is always NOREG; only `threecx` is OPTIONS-pinged (ping 30). A test takes one down with
// `FreeSwitchSimulator.setGateway`, which stands in for the pings failing: FreeSWITCH then refuses every call
// through it at once with GATEWAY_DOWN (sofia_outgoing_channel checks the status before sending anything).
import type { SimCore } from './core.ts';

interface GatewayConfig {
  host: string;
  /** OPTIONS ping interval (s); 0 = not pinged. */
  pingSec: number;
}

const KNOWN: Record<string, GatewayConfig> = {
  threecx: { host: '192.0.2.10', pingSec: 30 },
  twilio: { host: 'example.pstn.twilio.com', pingSec: 0 },
};

interface GatewayRecord {
  config: GatewayConfig;
  up: boolean;
  /** Simulated µs when it last came up. */
  upSinceMicros: number;
  callsOut: number;
  failedCallsOut: number;
}

const RULE = '='.repeat(97);
/** The SIP profile of freeswitch/sip_profiles/threecx.xml, which holds both gateways. */
const PROFILE = 'threecx';

export class SimGateways {
  private readonly core: SimCore;
  private readonly records = new Map<string, GatewayRecord>();

  constructor(core: SimCore, names: readonly string[]) {
    this.core = core;
    for (const name of names) {
      this.records.set(name, { config: KNOWN[name] ?? { host: `${name}.example.invalid`, pingSec: 0 }, up: true, upSinceMicros: core.nowMicros(), callsOut: 0, failedCallsOut: 0 });
    }
  }

  has(name: string): boolean {
    return this.records.has(name);
  }

  isUp(name: string): boolean {
    return this.records.get(name)?.up === true;
  }

  set(name: string, up: boolean): void {
    const record = this.records.get(name);
    if (record === undefined) throw new Error(`unknown gateway ${name}`);
    if (up && !record.up) record.upSinceMicros = this.core.nowMicros();
    record.up = up;
  }

  /** Counts an outgoing call the way mod_sofia does: a refused one (DOWN) as failed. */
  countCall(name: string, failed: boolean): void {
    const record = this.records.get(name);
    if (record === undefined) return;
    record.callsOut += failed ? 0 : 1;
    record.failedCallsOut += failed ? 1 : 0;
  }

  /**
   * `sofia status` (the profile and gateway summary) and `sofia status|xmlstatus gateway <name>`; any other
   * sofia command is not simulated and says so.
   */
  command(args: string[]): string {
    const [what, kind, name] = args;
    if (what === 'status' && args.length === 1) return this.summary();
    if ((what !== 'status' && what !== 'xmlstatus') || kind !== 'gateway' || name === undefined) {
      return `-ERR the simulator does not implement "sofia ${args.join(' ')}"\n`;
    }
    const record = this.records.get(name);
    if (record === undefined) return 'Invalid Gateway!\n';
    return what === 'xmlstatus' ? this.xml(name, record) : this.plain(name, record);
  }

  /**
   * `sofia status` as cmd_status prints it with no arguments: `%25s\t%s\t  %40s\t%s` rows under a header, the
   * running profile first (`RUNNING (<calls in use>)`), then each of its gateways as `<profile>::<gateway>` with
   * its registration state (NOREG for these register=false trunks; the summary does not show UP/DOWN), between
   * two lines of 97 '=', then the profile and alias count. Profiles that are not running are not listed at all.
   * In use is 0: the simulated calls from 3CX come in on another profile.
   */
  private summary(): string {
    const row = (a: string, type: string, data: string, state: string): string => `${a.padStart(25)}\t${type}\t  ${data.padStart(40)}\t${state}\n`;
    const gateways = [...this.records].map(([name, record]) => row(`${PROFILE}::${name}`, 'gateway', `sip:callbridge@${record.config.host}`, 'NOREG'));
    return (
      row('Name', '   Type', 'Data', 'State') +
      `${RULE}\n` +
      row(PROFILE, 'profile', 'sip:mod_sofia@127.0.0.1:5080', 'RUNNING (0)') +
      gateways.join('') +
      `${RULE}\n1 profile 0 aliases\n`
    );
  }

  private fields(name: string, record: GatewayRecord) {
    const { host, pingSec } = record.config;
    const now = this.core.nowMicros();
    return {
      realm: host,
      username: 'callbridge',
      from: `<sip:callbridge@${host}>`,
      contact: `<sip:gw+${name}@127.0.0.1:5080;transport=udp;gw=${name}>`,
      to: `sip:callbridge@${host}`,
      proxy: `sip:${host}`,
      ping: pingSec === 0 ? '0' : String(Math.floor(now / 1e6) + pingSec),
      pingfreq: String(pingSec),
      pingcount: record.up ? '1' : '0',
      pingtime: record.up && pingSec > 0 ? '11.52' : '0.00',
      status: record.up ? 'UP' : 'DOWN',
      uptimeUsec: record.up ? String(now - record.upSinceMicros) : '0',
    };
  }

  private plain(name: string, record: GatewayRecord): string {
    const f = this.fields(name, record);
    const lines = [
      ['Name    ', name], ['Profile ', PROFILE], ['Scheme  ', 'Digest'], ['Realm   ', f.realm], ['Username', f.username],
      ['Password', 'no'], ['From    ', f.from], ['Contact ', f.contact], ['Exten   ', 'callbridge'], ['To      ', f.to],
      ['Proxy   ', f.proxy], ['Context ', 'public'], ['Expires ', '3600'], ['Freq    ', '3600'], ['Ping    ', f.ping],
      ['PingFreq', f.pingfreq], ['PingTime', f.pingtime], ['PingState', `1/${f.pingcount}/1`], ['State   ', 'NOREG'],
      ['Status  ', f.status], ['Uptime  ', `${Math.floor(Number(f.uptimeUsec) / 1e6)}s`], ['CallsIN ', '0'],
      ['CallsOUT', String(record.callsOut)], ['FailedCallsIN', '0'], ['FailedCallsOUT', String(record.failedCallsOut)],
    ];
    return `${RULE}\n${lines.map(([k, v]) => `${k}\t${v}`).join('\n')}\n${RULE}\n`;
  }

  private xml(name: string, record: GatewayRecord): string {
    const f = this.fields(name, record);
    const amp = (v: string): string => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const elements: Array<[string, string]> = [
      ['name', name], ['profile', PROFILE], ['scheme', 'Digest'], ['realm', f.realm], ['username', f.username],
      ['password', 'no'], ['from', amp(f.from)], ['contact', amp(f.contact)], ['exten', 'callbridge'], ['to', f.to],
      ['proxy', f.proxy], ['context', 'public'], ['expires', '3600'], ['freq', '3600'], ['ping', f.ping],
      ['pingfreq', f.pingfreq], ['pingmin', '1'], ['pingcount', f.pingcount], ['pingmax', '1'], ['pingtime', f.pingtime],
      ['pinging', '0'], ['state', 'NOREG'], ['status', f.status], ['uptime-usec', f.uptimeUsec], ['calls-in', '0'],
      ['calls-out', String(record.callsOut)], ['failed-calls-in', '0'], ['failed-calls-out', String(record.failedCallsOut)],
    ];
    const body = elements.map(([k, v]) => `    <${k}>${v}</${k}>\n`).join('');
    return `<?xml version="1.0" encoding="ISO-8859-1"?>\n  <gateway>\n${body}  </gateway>\n`;
  }
}
