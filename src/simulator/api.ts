// API commands (`api X` / `bgapi X`) with the reply bodies recorded from FreeSWITCH 1.10.12.
import { SITE_API, SITE_BGJOB, SITE_HEARTBEAT, SITE_SCHEDULE } from './catalog.ts';
import type { SimCore } from './core.ts';
import type { ApiRunner } from './connection.ts';
import type { Engine } from './engine.ts';
import { markAnswered } from './apps.ts';
import type { AudioForks } from './audio-fork.ts';
import { uuidBridge } from './bridging.ts';
import type { SwitchState } from './switch-state.ts';

function localTime(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

function upTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `0 years, ${Math.floor(s / 86400)} days, ${Math.floor(s / 3600) % 24} hours, ${Math.floor(s / 60) % 60} minutes, ${s % 60} seconds, ${ms % 1000} milliseconds, 0 microseconds`;
}

/**
 * originate's argument split (switch_separate_string with a blank delimiter): spaces inside '…' do not
 * split, and the quotes and `\` escapes are removed from each argument, so `{var='a b'}sofia/…` is one
 * dial string whose variable is `a b`.
 */
function splitQuoted(args: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < args.length; i++) {
    const c = args[i] as string;
    if (c === '\\' && i + 1 < args.length) {
      word += args[++i];
      started = true;
    } else if (c === "'") {
      quoted = !quoted;
      started = true;
    } else if (c === ' ' && !quoted) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

const VERSION = 'FreeSWITCH Version 1.10.12-release~64bit ( 64bit)';

export class SimApi implements ApiRunner {
  private readonly core: SimCore;
  private readonly engine: Engine;

  private readonly forks: AudioForks;
  private readonly state: SwitchState;

  constructor(core: SimCore, engine: Engine, forks: AudioForks, state: SwitchState) {
    this.core = core;
    this.engine = engine;
    this.forks = forks;
    this.state = state;
  }

  fireApiEvent(command: string, args: string): void {
    const headers: Array<[string, string]> = [['Event-Name', 'API'], ...this.core.standardHeaders(SITE_API), ['API-Command', command]];
    if (args !== '') headers.push(['API-Command-Argument', args]);
    this.core.fire({ name: 'API', headers });
  }

  fireBackgroundJob(jobUuid: string, command: string, args: string, body: string): void {
    const headers: Array<[string, string]> = [
      ['Event-Name', 'BACKGROUND_JOB'],
      ...this.core.standardHeaders(SITE_BGJOB),
      ['Job-UUID', jobUuid],
      ['Job-Command', command],
    ];
    if (args !== '') headers.push(['Job-Command-Arg', args]);
    this.core.fire({ name: 'BACKGROUND_JOB', headers, body });
  }

  fireHeartbeat(): void {
    const c = this.core;
    const upMs = Date.now() - c.startedAt;
    c.fire({
      name: 'HEARTBEAT',
      headers: [
        ['Event-Name', 'HEARTBEAT'],
        ...c.standardHeaders(SITE_HEARTBEAT),
        ['Event-Info', 'System Ready'],
        ['Up-Time', upTime(upMs)],
        ['FreeSWITCH-Version', '1.10.12-release~64bit'],
        ['Uptime-msec', String(upMs)],
        ['Session-Count', String(c.activeSessions)],
        ['Max-Sessions', String(c.opts.maxSessions)],
        ['Session-Per-Sec', '1000'],
        ['Session-Per-Sec-Last', '0'],
        ['Session-Per-Sec-Max', '0'],
        ['Session-Per-Sec-FiveMin', '0'],
        ['Session-Since-Startup', String(c.sessionsSinceStartup)],
        ['Session-Peak-Max', String(c.sessionPeak)],
        ['Session-Peak-FiveMin', String(c.sessionPeak)],
        ['Idle-CPU', '99.000000'],
      ],
    });
  }

  fireReschedule(taskId: number, desc: string, inMs: number): void {
    const c = this.core;
    c.fire({
      name: 'RE_SCHEDULE',
      headers: [
        ['Event-Name', 'RE_SCHEDULE'],
        ...c.standardHeaders(SITE_SCHEDULE),
        ['Task-ID', String(taskId)],
        ['Task-Desc', desc],
        ['Task-Group', 'core'],
        ['Task-Runtime', String(Math.floor((Date.now() + inMs * c.opts.timeScale) / 1000))],
      ],
    });
  }

  async run(command: string, args: string, _opts: { background: boolean }): Promise<string> {
    const a = command === 'originate' ? splitQuoted(args) : args.split(/\s+/).filter((w) => w !== '');
    const e = this.engine;
    const session = (uuid: string | undefined) => (uuid === undefined ? undefined : e.get(uuid));
    // A command of a module that is not loaded does not exist (e.g. uuid_audio_fork without mod_audio_fork).
    if (!this.state.provides(command)) return `-ERR ${command} Command not found!\n`;
    switch (command) {
      case 'version':
        return `${VERSION}\n`;
      case 'status':
        return this.status();
      case 'show':
        return this.show(args);
      case 'originate': {
        if (a.length < 2) {
          return '-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n';
        }
        const result = await e.originate(a[0] ?? '', a.slice(1).join(' '));
        return result.reply;
      }
      case 'uuid_kill': {
        if (a[0] === undefined) return '-USAGE: <uuid> [cause]\n';
        const s = session(a[0]);
        if (s === undefined || !s.ch.isUp) return '-ERR No such channel!\n';
        s.hangup(a[1] ?? 'NORMAL_CLEARING');
        return '+OK\n';
      }
      case 'hupall': {
        const cause = a[0] ?? 'MANAGER_REQUEST';
        e.hangupAll(cause);
        return `+OK hangup all channels with cause ${cause}\n`;
      }
      case 'uuid_exists':
        return session(a[0])?.ch.isUp === true ? 'true' : 'false';
      case 'uuid_answer': {
        const s = session(a[0]);
        if (s === undefined) return '-ERR No such channel!\n';
        markAnswered(s);
        return '+OK\n';
      }
      case 'uuid_break': {
        const s = session(a[0]);
        if (s === undefined) return '-ERR No such channel!\n';
        s.breakMedia(a[1] === 'all');
        return '+OK\n';
      }
      case 'uuid_broadcast': {
        const s = session(a[0]);
        if (a.length < 2) return '-USAGE: <uuid> <path> [aleg|bleg|holdb|both]\n';
        if (s === undefined) return '-ERR No such channel!\n';
        const path = a[1] ?? '';
        s.enqueue({
          command: 'execute',
          app: 'playback',
          arg: path,
          loops: 1,
          headers: [['call-command', 'execute'], ['execute-app-name', 'playback'], ['execute-app-arg', path], ['event-lock', 'true'], ['lead-frames', '5']],
          raw: '',
          broadcast: { calledAtMicros: this.core.nowMicros() },
        });
        return '+OK Message sent\n';
      }
      case 'uuid_transfer': {
        if (a.length < 2) return '-USAGE: <uuid> [-bleg|-both] <dest-exten> [<dialplan>] [<context>]\n';
        const s = session(a[0]);
        if (s === undefined) return '-ERR No such channel!\n';
        const dest = a[1]?.startsWith('-') === true ? a[2] : a[1];
        s.transfer(dest ?? '');
        return '+OK\n';
      }
      case 'uuid_record': {
        if (a.length < 3) return '-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n';
        const s = session(a[0]);
        if (s === undefined) return '-ERR Cannot locate session!\n';
        if (a[1] === 'start') {
          s.startRecording(a[2] ?? '');
          return '+OK Success\n';
        }
        if (a[1] === 'stop') {
          if (s.recording === undefined) return '-ERR Cannot stop record session!\n';
          s.stopRecording('success-maxtime');
          return '+OK Success\n';
        }
        return '+OK Success\n';
      }
      case 'uuid_getvar': {
        const s = session(a[0]);
        if (s === undefined) return '-ERR No such channel!\n';
        return s.ch.getVar(a[1] ?? '') ?? '_undef_';
      }
      case 'uuid_setvar': {
        if (a.length < 2) return '-USAGE: <uuid> <var> [value]\n';
        const s = session(a[0]);
        if (s === undefined) return '-ERR No such channel!\n';
        const value = a.slice(2).join(' ');
        s.ch.setVar(a[1] ?? '', value === '' ? undefined : value);
        return '+OK\n';
      }
      case 'uuid_setvar_multi': {
        const s = session(a[0]);
        if (s === undefined) return '-ERR No such channel!\n';
        for (const kv of a.slice(1).join(' ').split(';')) {
          const i = kv.indexOf('=');
          if (i > 0) s.ch.setVar(kv.slice(0, i), kv.slice(i + 1));
        }
        return '+OK\n';
      }
      case 'uuid_hold': {
        const off = a[0] === 'off';
        const s = session(off ? a[1] : a[0]);
        if (s === undefined) return '-ERR Operation failed\n';
        if (off) {
          if (s.ch.callState !== 'HELD') return '-ERR Operation failed\n';
          s.ch.setCallState('UNHELD');
          s.ch.fire('CHANNEL_UNHOLD');
          this.core.schedule(40, () => s.ch.isUp && s.ch.setCallState('ACTIVE'));
        } else {
          s.ch.setCallState('HELD');
          s.ch.fire('CHANNEL_HOLD');
        }
        return '+OK Success\n';
      }
      case 'uuid_audio_fork':
        return this.forks.command(session(a[0]), a);
      case 'uuid_recv_dtmf':
      case 'uuid_send_dtmf': {
        const s = session(a[0]);
        if (s === undefined) return '-ERR Cannot locate session!\n';
        const spec = a[1] ?? '';
        const [digits = '', dur] = spec.split('@');
        if (!/^[0-9*#A-Da-dwW]+$/.test(digits)) return '-USAGE: <uuid> <dtmf_data>\n';
        if (command === 'uuid_send_dtmf') return `+OK ${s.ch.uuid} sent DTMF ${spec}.\n`;
        // Queued on the channel's read side: the running application dequeues them (DTMF-Source APP).
        const ms = dur === undefined ? 250 : Number(dur);
        for (const d of digits) {
          s.ch.fire('DTMF', { post: [['DTMF-Digit', d], ['DTMF-Duration', String(ms * 8)], ['DTMF-Source', 'APP']] });
        }
        return `+OK ${s.ch.uuid} received DTMF ${spec}.\n`;
      }
      case 'module_exists':
        return this.state.moduleExists(args);
      case 'global_getvar':
        return this.state.globalGetvar(args);
      case 'sofia':
        return this.engine.opts.gateways.command(a);
      case 'local_stream':
        return this.engine.opts.localStreams.command(a) ?? `-ERR ${command} Command not found!\n`;
      case 'uuid_bridge': {
        if (a.length < 2) return '-USAGE: <uuid> <other_uuid>\n';
        const x = session(a[0]);
        const y = session(a[1]);
        if (x === undefined || y === undefined) return '-ERR Invalid uuid\n';
        uuidBridge(e, x, y);
        return `+OK ${y.ch.uuid}\n`;
      }
      default:
        return `-ERR ${command} Command not found!\n`;
    }
  }

  private status(): string {
    return (
      `UP ${upTime(Date.now() - this.core.startedAt)}\n` +
      'FreeSWITCH (Version 1.10.12-release  64bit) is ready\n' +
      `${this.core.sessionsSinceStartup} session(s) since startup\n` +
      `${this.core.activeSessions} session(s) - peak ${this.core.sessionPeak}, last 5min ${this.core.sessionPeak} \n` +
      `0 session(s) per Sec out of max 1000, peak 0, last 5min 0 \n` +
      `${this.core.opts.maxSessions} session(s) max\nmin idle cpu 0.00/99.00\nCurrent Stack Size/Max 240K/8192K\n`
    );
  }

  private show(args: string): string {
    const json = / as json$/.test(args);
    const what = args.replace(/ as json$/, '').trim();
    if (what !== 'channels' && what !== 'calls') return `-USAGE: show ${what}\n`;
    // The rows come from FreeSWITCH's core database, written asynchronously: a channel only shows up a
    // little after it was created (rule 11), so a controller must not expect it right after originate.
    const visibleBefore = this.core.nowMicros() - this.core.opts.channelsDbLagMs * 1000;
    const rows = [...this.engine.sessions.values()].filter((s) => !s.ch.destroyed && s.ch.createdMicros <= visibleBefore).map((s) => {
      const ch = s.ch;
      const p = ch.profile;
      const last = s.executed.at(-1);
      return {
        uuid: ch.uuid, direction: ch.direction, created: localTime(ch.createdMicros), created_epoch: String(Math.floor(ch.createdMicros / 1e6)),
        name: ch.name, state: ch.state, cid_name: p?.callerIdName ?? '', cid_num: p?.callerIdNumber ?? '',
        ip_addr: p?.networkAddr ?? '', dest: p?.destinationNumber ?? '', application: last?.app ?? '',
        application_data: last?.arg ?? '', dialplan: p?.dialplan ?? '', context: p?.context ?? '',
        read_codec: ch.readCodec?.name ?? '', read_rate: String(ch.readCodec?.rate ?? ''), read_bit_rate: String(ch.readCodec?.bitRate ?? ''),
        write_codec: ch.writeCodec?.name ?? '', write_rate: String(ch.writeCodec?.rate ?? ''), write_bit_rate: String(ch.writeCodec?.bitRate ?? ''),
        secure: '', hostname: this.core.opts.hostname, presence_id: '', presence_data: '', accountcode: '',
        callstate: ch.callState, callee_name: p?.calleeIdName ?? '', callee_num: p?.calleeIdNumber ?? '', callee_direction: '',
        call_uuid: ch.callUuid === ch.uuid ? '' : ch.callUuid, sent_callee_name: '', sent_callee_num: '',
        initial_cid_name: p?.callerIdName ?? '', initial_cid_num: p?.callerIdNumber ?? '', initial_ip_addr: p?.networkAddr ?? '',
        initial_dest: p?.destinationNumber ?? '', initial_dialplan: p?.dialplan ?? '', initial_context: p?.context ?? '',
      };
    });
    // Idle: with a space and a newline; with rows: compact and NO trailing newline (both as recorded).
    if (json) return rows.length === 0 ? '{"row_count": 0}\n' : JSON.stringify({ row_count: rows.length, rows });
    if (rows.length === 0) return '\n0 total.\n';
    const cols = Object.keys(rows[0] ?? {});
    const lines = rows.map((r) => Object.values(r).join(','));
    return `${cols.join(',')}\n${lines.join('\n')}\n\n${rows.length} total.\n`;
  }
}
