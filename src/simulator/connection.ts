// One ESL TCP connection, FreeSWITCH side. Inbound connections start with `auth/request`; outbound ones
// (the `socket` application) are already "authenticated" and control one session. Reply texts are the
// ones recorded in the traces (README rules 9, 10, inbound-misc-commands).
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { KNOWN_EVENTS, MYEVENTS, SITE_SENDEVENT } from './catalog.ts';
import { CommandReader, header, type ClientCommand } from './command-reader.ts';
import type { EventSink, LogLine, SimCore } from './core.ts';
import type { Engine } from './engine.ts';
import type { CallSession } from './session.ts';
import type { QueuedMessage } from './session-events.ts';
import {
  authRequest,
  commandReply,
  disconnectNotice,
  eventFrame,
  lingerNotice,
  logFrame,
  channelDataReply,
  type EventFormat,
  type SimEvent,
} from './wire.ts';

// Several connections usually receive the same event (the controller's inbound ALL plus the call's own
// outbound socket): serialize each event once per format.
const frameCache = new WeakMap<SimEvent, Partial<Record<EventFormat, Buffer>>>();

function frameFor(event: SimEvent, format: EventFormat): Buffer {
  let byFormat = frameCache.get(event);
  if (byFormat === undefined) {
    byFormat = {};
    frameCache.set(event, byFormat);
  }
  return (byFormat[format] ??= eventFrame(event, format));
}

export interface ApiRunner {
  /** Runs an api command; resolves with the api/response body. */
  run(command: string, args: string, opts: { background: boolean }): Promise<string>;
  fireApiEvent(command: string, args: string): void;
  fireBackgroundJob(jobUuid: string, command: string, args: string, body: string): void;
}

export interface ConnectionOptions {
  core: SimCore;
  engine: Engine;
  api: ApiRunner;
  password: string;
  /** Outbound mode: the session this socket controls. */
  controlled?: CallSession;
  onClose(conn: EslConnection): void;
}

export class EslConnection implements EventSink {
  private readonly sock: Socket;
  private readonly opts: ConnectionOptions;
  private readonly reader = new CommandReader();
  private authed: boolean;
  private format: EventFormat = 'plain';
  private all = false;
  private readonly names = new Set<string>();
  private readonly subclasses = new Set<string>();
  private allCustom = false;
  private myUuid: string | undefined;
  private readonly filters: Array<[string, string]> = [];
  private unsubscribe: (() => void) | undefined;
  /** `log N`: the highest level streamed, or undefined when not logging. */
  private logLevel: number | undefined;
  /** Outbound: undefined = no linger; -1 = until exit; N = seconds. */
  linger: number | undefined;
  lingerNoticeSent = false;
  private resume = false;
  /** Outbound: the controller has sent `connect` (mod_event_socket's LFLAG_CONNECTED). */
  connected = false;
  private announceConnected: () => void = () => {};
  /** Outbound: resolves when the controller sends `connect`; never, if the socket closes first. */
  readonly whenConnected = new Promise<void>((resolve) => (this.announceConnected = resolve));
  closed = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(sock: Socket, opts: ConnectionOptions) {
    this.sock = sock;
    this.opts = opts;
    this.authed = opts.controlled !== undefined;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      for (const cmd of this.reader.push(chunk)) {
        // Commands are answered strictly in order, like mod_event_socket's single reader thread.
        this.chain = this.chain.then(() => this.handle(cmd)).catch(() => undefined);
      }
    });
    sock.on('error', () => this.close());
    sock.on('close', () => this.close());
    if (opts.controlled === undefined) this.write(authRequest());
  }

  get controlsSession(): CallSession | undefined {
    return this.opts.controlled;
  }

  get wantsResume(): boolean {
    return this.resume;
  }

  write(buf: Buffer): void {
    if (!this.closed && this.sock.writable) this.sock.write(buf);
  }

  /** Close the socket (after flushing what was written). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.sock.end();
    this.sock.destroySoon?.();
    this.opts.onClose(this);
  }

  destroy(): void {
    this.close();
    this.sock.destroy();
  }

  deliver(event: SimEvent): void {
    if (this.closed) return;
    // myevents = its event list plus a filter on the session's uuid; later `event` commands add names to
    // the same list and stay limited to that uuid.
    if (this.myUuid !== undefined && event.uniqueId !== this.myUuid) return;
    if (!this.all && !this.names.has(event.name)) {
      if (event.name !== 'CUSTOM' || !(this.allCustom || this.subclasses.has(event.subclass ?? ''))) return;
    }
    if (this.filters.length > 0) {
      const ok = this.filters.some(([k, v]) => event.headers.some(([hk, hv]) => hk === k && hv === v));
      if (!ok) return;
    }
    this.write(frameFor(event, this.format));
  }

  deliverLog(line: LogLine): void {
    if (this.closed || this.logLevel === undefined || line.level > this.logLevel) return;
    this.write(logFrame(line));
  }

  private subscribe(): void {
    if (this.unsubscribe === undefined) this.unsubscribe = this.opts.core.subscribe(this);
  }

  private reply(text: string): void {
    this.write(commandReply(text));
  }

  private async handle(cmd: ClientCommand): Promise<void> {
    if (this.closed) return;
    const line = cmd.line.trim();
    const sp = line.indexOf(' ');
    const verb = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp + 1).trim();
    if (!this.authed) {
      if (verb !== 'auth') return this.reply('-ERR command not found');
      if (rest === this.opts.password) {
        this.authed = true;
        return this.reply('+OK accepted');
      }
      this.reply('-ERR invalid');
      this.write(disconnectNotice());
      this.close();
      return;
    }
    const outbound = this.opts.controlled !== undefined;
    switch (verb) {
      case 'api':
        return this.api(rest);
      case 'bgapi':
        return this.bgapi(rest, header(cmd, 'Job-UUID'));
      case 'event':
        return this.event(rest);
      case 'myevents':
        return this.myevents(rest);
      case 'nixevent':
        for (const n of rest.split(/\s+/)) this.names.delete(n);
        if (rest.split(/\s+/).includes('ALL')) this.all = false;
        return this.reply('+OK events nixed');
      case 'noevents':
        this.all = false;
        this.names.clear();
        this.subclasses.clear();
        this.myUuid = undefined;
        return this.reply('+OK no longer listening for events');
      case 'filter':
        return this.filter(rest);
      case 'linger':
        if (!outbound) return this.reply('-ERR not controlling a session');
        this.linger = rest === '' ? -1 : Number.parseInt(rest, 10);
        return this.reply(rest === '' ? '+OK will linger' : `+OK will linger ${this.linger} seconds`);
      case 'nolinger':
        if (!outbound) return this.reply('-ERR not controlling a session');
        this.linger = undefined;
        return this.reply('+OK will not linger');
      case 'divert_events':
        if (!outbound) return this.reply('-ERR not controlling a session.');
        return this.reply(`+OK events ${rest === 'on' ? 'diverted' : 'not diverted'}`);
      case 'resume':
        if (!outbound) return this.reply('-ERR command not found');
        this.resume = true;
        return this.reply('+OK');
      case 'connect':
        if (!outbound || this.opts.controlled === undefined) return this.reply('-ERR command not found');
        this.connected = true;
        this.announceConnected();
        return this.write(channelDataReply(this.opts.controlled.ch.channelDataHeaders()));
      case 'getvar':
        if (!outbound || this.opts.controlled === undefined) return this.reply('-ERR command not found');
        return this.reply(this.opts.controlled.ch.getVar(rest) ?? '');
      case 'sendmsg':
        return this.sendmsg(rest, cmd);
      case 'sendevent':
        return this.sendevent(rest, cmd);
      case 'log': {
        const level = rest === '' ? 7 : Number.parseInt(rest, 10);
        if (!Number.isFinite(level)) return this.reply('-ERR invalid log level');
        this.logLevel = level;
        this.subscribe();
        return this.reply(`+OK log level ${level} [${level}]`);
      }
      case 'nolog':
        if (this.logLevel === undefined) return this.reply('-ERR not loging');
        this.logLevel = undefined;
        return this.reply('+OK no longer logging');
      case 'exit':
        this.reply('+OK bye');
        this.write(disconnectNotice(this.opts.controlled?.ch.uuid));
        this.close();
        return;
      default:
        return this.reply('-ERR command not found');
    }
  }

  private async api(rest: string): Promise<void> {
    if (rest === '') return this.reply('-ERR command not found');
    const [command = '', ...args] = rest.split(' ');
    const body = await this.opts.api.run(command, args.join(' '), { background: false });
    this.write(Buffer.concat([Buffer.from(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n`), Buffer.from(body)]));
    this.opts.api.fireApiEvent(command, args.join(' '));
  }

  private bgapi(rest: string, jobUuid: string | undefined): void {
    const job = jobUuid ?? randomUUID();
    this.write(commandReply(`+OK Job-UUID: ${job}`, [['Job-UUID', job]]));
    const [command = '', ...args] = rest.split(' ');
    void this.opts.api.run(command, args.join(' '), { background: true }).then((body) => {
      this.opts.api.fireBackgroundJob(job, command, args.join(' '), body);
    });
  }

  private event(rest: string): void {
    const words = rest.split(/\s+/).filter((w) => w !== '');
    let fmt: EventFormat = 'plain';
    if (words[0] === 'json' || words[0] === 'xml' || words[0] === 'plain') fmt = words.shift() as EventFormat;
    else if (words.length > 0 && !KNOWN_EVENTS.has(words[0] ?? '')) words.shift(); // unknown format → plain
    let any = false;
    let custom = false;
    for (const w of words) {
      if (custom && !KNOWN_EVENTS.has(w)) {
        this.subclasses.add(w);
        any = true;
        continue;
      }
      if (w === 'ALL') {
        this.all = true;
        any = true;
      } else if (w === 'CUSTOM') {
        custom = true;
        any = true;
        this.names.add('CUSTOM');
      } else if (KNOWN_EVENTS.has(w)) {
        this.names.add(w);
        any = true;
      }
    }
    if (!any) return this.reply('-ERR no keywords supplied');
    if (this.names.has('CUSTOM') && this.subclasses.size === 0) this.allCustom = true;
    this.format = fmt;
    this.subscribe();
    this.reply(`+OK event listener enabled ${fmt}`);
  }

  private myevents(rest: string): void {
    const words = rest.split(/\s+/).filter((w) => w !== '');
    let uuid = this.opts.controlled?.ch.uuid;
    for (const w of words) {
      if (w === 'plain' || w === 'json' || w === 'xml') this.format = w;
      else uuid = w;
    }
    if (uuid === undefined) return this.reply('-ERR command not found');
    this.myUuid = uuid;
    for (const name of MYEVENTS) this.names.add(name);
    this.subscribe();
    this.reply('+OK Events Enabled');
  }

  private filter(rest: string): void {
    const words = rest.split(/\s+/);
    if (words[0] === 'delete') {
      if (words[1] === 'all' || words[1] === undefined) {
        this.filters.length = 0;
        return this.reply('+OK filter deleted. [all][]');
      }
      const name = words[1];
      const value = words.slice(2).join(' ');
      for (let i = this.filters.length - 1; i >= 0; i--) {
        const f = this.filters[i];
        if (f !== undefined && f[0] === name && (value === '' || f[1] === value)) this.filters.splice(i, 1);
      }
      return this.reply(`+OK filter deleted. [${name}][${value}]`);
    }
    const name = words[0] ?? '';
    const value = words.slice(1).join(' ');
    this.filters.push([name, value]);
    this.reply(`+OK filter added. [${name}]=[${value}]`);
  }

  private sendmsg(rest: string, cmd: ClientCommand): void {
    const uuid = rest !== '' ? rest : this.opts.controlled?.ch.uuid;
    const session = uuid === undefined ? undefined : this.opts.engine.get(uuid);
    if (session === undefined || !session.ch.isUp) return this.reply(`-ERR invalid session id [${uuid ?? ''}]`);
    const callCommand = header(cmd, 'call-command') ?? '';
    const message: QueuedMessage = {
      command: callCommand === 'execute' ? 'execute' : callCommand === 'hangup' ? 'hangup' : 'other',
      app: header(cmd, 'execute-app-name'),
      arg: header(cmd, 'execute-app-arg') ?? (cmd.body !== undefined && cmd.body !== '' ? cmd.body : undefined),
      eventUuid: header(cmd, 'Event-UUID'),
      cause: header(cmd, 'hangup-cause'),
      loops: Number.parseInt(header(cmd, 'loops') ?? '1', 10) || 1,
      headers: cmd.headers,
      raw: cmd.raw,
      fromController: session === this.opts.controlled,
    };
    session.enqueue(message);
    this.reply('+OK');
  }

  private sendevent(rest: string, cmd: ClientCommand): void {
    const name = rest.split(/\s+/)[0] ?? 'CUSTOM';
    const uuid = randomUUID();
    const core = this.opts.core;
    const subclass = header(cmd, 'Event-Subclass');
    const own = cmd.headers.filter(([k]) => k !== 'Event-Subclass');
    const headers: Array<[string, string]> = [];
    if (subclass !== undefined) headers.push(['Event-Subclass', subclass]);
    headers.push(['Command', `sendevent ${name}`], ...own, ['Event-UUID', uuid], ['Event-Name', name], ...core.standardHeaders(SITE_SENDEVENT));
    core.fire({ name, subclass, headers, body: cmd.body });
    this.reply(`+OK ${uuid}`);
  }

  /** Outbound: the controlled channel hung up. */
  sendLingerNotice(): void {
    const s = this.opts.controlled;
    if (s === undefined || this.lingerNoticeSent || this.linger === undefined) return;
    this.lingerNoticeSent = true;
    this.write(lingerNotice(s.ch.uuid, s.ch.name, this.linger));
    if (this.linger >= 0) {
      this.opts.core.schedule(this.linger * 1000, () => {
        this.write(disconnectNotice(s.ch.uuid));
        this.close();
      });
    }
  }

  /** Outbound without linger: disconnect right after HANGUP_COMPLETE. */
  sendFinalDisconnect(): void {
    const s = this.opts.controlled;
    if (s === undefined) return;
    this.write(disconnectNotice(s.ch.uuid));
    this.close();
  }
}
