// The simulated FreeSWITCH core: identity headers, the event sequence, the clock, a timer scheduler that
// honours timeScale and can cancel everything at stop(), and the event bus every ESL connection listens on.
import { randomUUID } from 'node:crypto';
import type { HeaderList, SimEvent } from './wire.ts';

export interface SimLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLogger: SimLogger = { debug() {}, info() {}, warn() {} };

export interface EventSink {
  deliver(event: SimEvent): void;
  /** log/data for connections that asked with `log N`. */
  deliverLog?(line: LogLine): void;
}

/** One FreeSWITCH console log line (what `log N` streams as log/data). */
export interface LogLine {
  level: number;
  /** Text-Channel: 0 session, 1 id (EXECUTE lines), 3 log. */
  channel: number;
  file: string;
  func: string;
  line: number;
  uuid: string;
  /** Without the timestamp prefix; `plain` lines (EXECUTE) are sent as they are. */
  text: string;
  plain?: boolean;
}

/** Where an event was raised in FreeSWITCH's sources (it shows up in every event). */
export interface CallSite {
  readonly file: string;
  readonly func: string;
  readonly line: number;
}

export interface CoreOptions {
  hostname: string;
  ipv4: string;
  ipv6: string;
  timeScale: number;
  logger: SimLogger;
  maxSessions: number;
  /** Real ms before a new channel appears in `show channels` (FreeSWITCH's asynchronous core db). */
  channelsDbLagMs: number;
  /** Whether record_session / uuid_record / record write their WAV files. */
  writeRecordings: boolean;
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export class SimCore {
  readonly coreUuid = randomUUID();
  readonly startedAt = Date.now();
  private readonly startedPerf = performance.now();
  readonly opts: CoreOptions;
  private sequence = 100;
  private readonly sinks = new Set<EventSink>();
  private readonly timers = new Set<NodeJS.Timeout>();
  sessionsSinceStartup = 0;
  sessionPeak = 0;
  activeSessions = 0;

  constructor(opts: CoreOptions) {
    this.opts = opts;
  }

  subscribe(sink: EventSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  /** Wall-clock microseconds, as Event-Date-Timestamp and the *-Time headers use. */
  nowMicros(): number {
    return Date.now() * 1000;
  }

  /** Simulated ms since the core started (real time divided by timeScale): the clock of media timelines. */
  simNowMs(): number {
    return (performance.now() - this.startedPerf) / this.opts.timeScale;
  }

  /** The standard block every event starts with, after Event-Name (and Event-Subclass for CUSTOM). */
  standardHeaders(site: CallSite, micros = this.nowMicros()): HeaderList {
    const d = new Date(Math.floor(micros / 1000));
    const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return [
      ['Core-UUID', this.coreUuid],
      ['FreeSWITCH-Hostname', this.opts.hostname],
      ['FreeSWITCH-Switchname', this.opts.hostname],
      ['FreeSWITCH-IPv4', this.opts.ipv4],
      ['FreeSWITCH-IPv6', this.opts.ipv6],
      ['Event-Date-Local', local],
      ['Event-Date-GMT', d.toUTCString()],
      ['Event-Date-Timestamp', String(micros)],
      ['Event-Calling-File', site.file],
      ['Event-Calling-Function', site.func],
      ['Event-Calling-Line-Number', String(site.line)],
      ['Event-Sequence', String(++this.sequence)],
    ];
  }

  fire(event: SimEvent): void {
    for (const sink of this.sinks) sink.deliver(event);
  }

  log(line: LogLine): void {
    for (const sink of this.sinks) sink.deliverLog?.(line);
  }

  /** Run fn after ms of simulated time (scaled by timeScale); stop() cancels every pending one. */
  schedule(ms: number, fn: () => void): { cancel(): void } {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms * this.opts.timeScale),
    );
    this.timers.add(t);
    return {
      cancel: () => {
        clearTimeout(t);
        this.timers.delete(t);
      },
    };
  }

  /** A promise for `ms` of simulated time that can be cut short with the returned cancel(). */
  sleep(ms: number): { done: Promise<'elapsed' | 'cancelled'>; cancel(): void } {
    let resolveFn: (v: 'elapsed' | 'cancelled') => void = () => {};
    const done = new Promise<'elapsed' | 'cancelled'>((r) => (resolveFn = r));
    const handle = this.schedule(ms, () => resolveFn('elapsed'));
    return {
      done,
      cancel: () => {
        handle.cancel();
        resolveFn('cancelled');
      },
    };
  }

  cancelAllTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  pendingTimers(): number {
    return this.timers.size;
  }
}
