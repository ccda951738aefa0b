// One ESL connection (inbound to FreeSWITCH's :8021, or one outbound socket per call). It owns the socket,
// the frame parser, the FIFO of commands waiting for replies and the waits for matched events.
//
// Contract:
// - each command is ONE socket write on a socket with Nagle off;
// - replies pair with commands by position only (FreeSWITCH does not tag them); a timed-out caller keeps
//   its slot until the late reply arrives, so replies never shift (see reply-queue.ts);
// - when the socket closes, every pending and every later command rejects at once with
//   EslConnectionClosedError, and every timer is cleared;
// - error messages and latency hooks name a command by its verb only ("api originate", "sendmsg"), never
//   by its arguments: those carry phone numbers and the ESL password.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { EslCommandError, EslConnectionClosedError } from '../core/errors.ts';
import { EventWaiters } from './event-waiters.ts';
import { EVENT_CONTENT_TYPES, parseEvent, type EslEvent, type EslEventFormat } from './protocol/event.ts';
import { EslFrameParser, type EslFrame } from './protocol/parser.ts';
import {
  sendmsgExecute,
  sendmsgHangup,
  serializeCommand,
  type EslCommandHeaders,
} from './protocol/serializer.ts';
import { ReplyQueue } from './reply-queue.ts';

export type DisconnectDisposition = 'linger' | 'disconnect' | undefined;

export type EslConnectionEvents = {
  event: [event: EslEvent];
  /** FreeSWITCH's text/disconnect-notice; 'linger' means events keep coming until we send `exit`. */
  disconnectNotice: [notice: EslFrame, disposition: DisconnectDisposition];
  log: [frame: EslFrame];
  /** The inbound banner: FreeSWITCH waits for `auth <password>`. */
  authRequest: [];
  /** A frame that could not be understood (bad event body, reply nobody waited for); the connection stays up. */
  warning: [error: Error];
  /** The socket is gone; `error` says why when it was not an orderly close. */
  close: [error: Error | undefined];
};

export interface EslConnectionOptions {
  /** Default wait for a command's reply (ms). */
  commandTimeoutMs?: number;
  /** Default wait for a BACKGROUND_JOB result (ms); originate can ring for a minute or more. */
  bgapiTimeoutMs?: number;
  /** How long close() lets the socket flush before destroying it (ms). */
  closeGraceMs?: number;
  /** Reply latency per command verb, for metrics (no http import here). */
  onCommandLatency?: (command: string, ms: number) => void;
}

export interface CommandOptions {
  timeoutMs?: number;
  headers?: EslCommandHeaders;
  body?: string;
}

export interface BgapiOptions {
  /** Our id for the job (FreeSWITCH uses it); generated when omitted. */
  jobUuid?: string;
  /** Wait for the BACKGROUND_JOB result. */
  timeoutMs?: number;
}

export interface ExecuteOptions {
  /** Channel to run on; omitted on an outbound socket (the controlled channel). */
  uuid?: string;
  app: string;
  arg?: string;
  eventLock?: boolean;
  loops?: number;
  /** Wait for CHANNEL_EXECUTE_COMPLETE: choose per application (a playback lasts as long as its audio). */
  timeoutMs: number;
}

export type ExecuteAsyncOptions = Omit<ExecuteOptions, 'timeoutMs'> & { timeoutMs?: number };

const DEFAULTS = { commandTimeoutMs: 5_000, bgapiTimeoutMs: 120_000, closeGraceMs: 500 };

export class EslConnection extends EventEmitter<EslConnectionEvents> {
  readonly #socket: Socket;
  readonly #parser = new EslFrameParser();
  readonly #replies: ReplyQueue;
  readonly #waiters = new EventWaiters();
  readonly #commandTimeoutMs: number;
  readonly #bgapiTimeoutMs: number;
  readonly #closeGraceMs: number;
  #closed = false;
  #closing: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(socket: Socket, options: EslConnectionOptions = {}) {
    super();
    this.#socket = socket;
    this.#replies = new ReplyQueue(options.onCommandLatency);
    this.#commandTimeoutMs = options.commandTimeoutMs ?? DEFAULTS.commandTimeoutMs;
    this.#bgapiTimeoutMs = options.bgapiTimeoutMs ?? DEFAULTS.bgapiTimeoutMs;
    this.#closeGraceMs = options.closeGraceMs ?? DEFAULTS.closeGraceMs;
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    if (socket.destroyed) this.#onClose();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Commands waiting for a reply plus bgapi/execute waits (tests assert it drops to 0). */
  get pending(): number {
    return this.#replies.length + this.#waiters.size;
  }

  /** Sends one command and resolves with its raw reply frame (command/reply or api/response). */
  command(command: string, options: CommandOptions = {}): Promise<EslFrame> {
    let bytes: Buffer;
    try {
      bytes = serializeCommand(command, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#send(verbOf(command), bytes, options.timeoutMs ?? this.#commandTimeoutMs);
  }

  /** `api <command>`: resolves with the response body; -ERR / -USAGE reject with EslCommandError. */
  async api(command: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const frame = await this.command(`api ${command}`, options);
    const text = replyText(frame);
    if (text.startsWith('-ERR') || text.startsWith('-USAGE')) throw new EslCommandError(verbOf(`api ${command}`), text);
    return text;
  }

  /**
   * `bgapi <command>`: resolves with the BACKGROUND_JOB result body (which may itself be `-ERR …`, e.g. a
   * failed originate: that is the result, not a failure of the request). The connection MUST be subscribed
   * to BACKGROUND_JOB (or ALL), otherwise FreeSWITCH never sends the result and this times out.
   */
  async bgapi(command: string, options: BgapiOptions = {}): Promise<string> {
    const jobUuid = options.jobUuid ?? randomUUID();
    const verb = verbOf(`bgapi ${command}`);
    const wait = this.#waiters.wait(`job:${jobUuid}`, verb, options.timeoutMs ?? this.#bgapiTimeoutMs);
    wait.promise.catch(() => undefined); // awaited below; avoids an unhandled rejection meanwhile
    try {
      const reply = await this.command(`bgapi ${command}`, { headers: [['Job-UUID', jobUuid]] });
      expectOk(verb, reply);
    } catch (error) {
      wait.cancel(error as Error);
      throw error;
    }
    const event = await wait.promise;
    return event.body ?? '';
  }

  /**
   * Runs a dialplan application with `sendmsg` and resolves with its CHANNEL_EXECUTE_COMPLETE event, matched
   * by the Application-UUID we chose (other events may come in between). This connection must receive that
   * event: `myevents` on an outbound socket, or an event subscription that includes it.
   */
  async execute(options: ExecuteOptions): Promise<EslEvent> {
    const eventUuid = randomUUID();
    const wait = this.#waiters.wait(`app:${eventUuid}`, `execute ${options.app}`, options.timeoutMs);
    wait.promise.catch(() => undefined);
    try {
      await this.#sendExecute(options, eventUuid, this.#commandTimeoutMs);
    } catch (error) {
      wait.cancel(error as Error);
      throw error;
    }
    return wait.promise;
  }

  /** Like execute() but resolves once FreeSWITCH accepted the sendmsg; returns the Application-UUID. */
  async executeAsync(options: ExecuteAsyncOptions): Promise<string> {
    const eventUuid = randomUUID();
    await this.#sendExecute(options, eventUuid, options.timeoutMs ?? this.#commandTimeoutMs);
    return eventUuid;
  }

  async hangup(options: { uuid?: string; cause: string; timeoutMs?: number }): Promise<void> {
    const bytes = sendmsgHangup(options);
    expectOk('sendmsg hangup', await this.#send('sendmsg', bytes, options.timeoutMs ?? this.#commandTimeoutMs));
  }

  /** `event <format> <names…>`. */
  async subscribe(format: EslEventFormat, events: readonly string[], options: { timeoutMs?: number } = {}): Promise<void> {
    const names = events.length === 0 ? 'ALL' : events.join(' ');
    expectOk('event', await this.command(`event ${format} ${names}`, options));
  }

  /** `myevents [uuid] [format]`: the events of one channel (on an outbound socket: the controlled one). */
  async myevents(options: { format?: EslEventFormat; uuid?: string; timeoutMs?: number } = {}): Promise<void> {
    const parts = ['myevents', options.uuid, options.format].filter((p) => p !== undefined && p !== '');
    expectOk('myevents', await this.command(parts.join(' '), options));
  }

  /** `linger [seconds]`: keep receiving events after hangup (bare `linger` = until we send exit). */
  async linger(options: { seconds?: number; timeoutMs?: number } = {}): Promise<void> {
    const cmd = options.seconds === undefined ? 'linger' : `linger ${Math.max(0, Math.floor(options.seconds))}`;
    expectOk('linger', await this.command(cmd, options));
  }

  /**
   * `resume` (outbound sockets): when this socket closes while the call is up, FreeSWITCH continues the
   * dialplan after the `socket` application instead of hanging up, so its fallback still reaches a human.
   */
  async resume(options: { timeoutMs?: number } = {}): Promise<void> {
    expectOk('resume', await this.command('resume', options));
  }

  /** `filter <header> <value>`: only events matching a filter are delivered. */
  async filter(options: { header: string; value: string; timeoutMs?: number }): Promise<void> {
    expectOk('filter', await this.command(`filter ${options.header} ${options.value}`, options));
  }

  /** `filter delete <header> [value]`. */
  async filterDelete(options: { header: string; value?: string; timeoutMs?: number }): Promise<void> {
    const value = options.value === undefined ? '' : ` ${options.value}`;
    expectOk('filter', await this.command(`filter delete ${options.header}${value}`, options));
  }

  /** `exit`: FreeSWITCH says +OK bye and closes the socket. A socket already closed counts as done. */
  async exit(options: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.command('exit', options);
    } catch (error) {
      if (!(error instanceof EslConnectionClosedError)) throw error;
    }
  }

  /** Closes the socket (idempotent). Resolves once it is closed, at most ~closeGraceMs later. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    if (this.#closed) return (this.#closing = Promise.resolve());
    this.#closing = new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#socket.destroy(), this.#closeGraceMs);
      this.#socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#socket.end();
    });
    return this.#closing;
  }

  async #sendExecute(options: ExecuteAsyncOptions, eventUuid: string, timeoutMs: number): Promise<void> {
    const bytes = sendmsgExecute({ ...options, eventUuid });
    expectOk(`sendmsg ${options.app}`, await this.#send('sendmsg', bytes, timeoutMs));
  }

  #send(verb: string, bytes: Buffer, timeoutMs: number): Promise<EslFrame> {
    if (this.#closed || this.#closing !== undefined || !this.#socket.writable) {
      return Promise.reject(new EslConnectionClosedError(`ESL connection closed; "${verb}" not sent`));
    }
    const reply = this.#replies.enqueue(verb, timeoutMs);
    this.#socket.write(bytes);
    return reply;
  }

  readonly #onData = (chunk: Buffer): void => {
    let frames: EslFrame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (error) {
      this.#socket.destroy(error as Error);
      return;
    }
    for (const frame of frames) this.#dispatch(frame);
  };

  #dispatch(frame: EslFrame): void {
    const type = frame.contentType;
    if (type === 'command/reply' || type === 'api/response') {
      if (!this.#replies.deliver(frame)) this.emit('warning', new Error(`ESL ${type} with no command waiting`));
      return;
    }
    if (EVENT_CONTENT_TYPES[type] !== undefined) {
      let event: EslEvent;
      try {
        event = parseEvent(frame);
      } catch (error) {
        this.emit('warning', error as Error);
        return;
      }
      if (this.#waiters.size > 0) {
        if (event.name === 'CHANNEL_EXECUTE_COMPLETE') this.#waiters.settle(`app:${event.headers.get('Application-UUID')}`, event);
        else if (event.name === 'BACKGROUND_JOB') this.#waiters.settle(`job:${event.headers.get('Job-UUID')}`, event);
      }
      this.emit('event', event);
      return;
    }
    if (type === 'log/data') this.emit('log', frame);
    else if (type === 'text/disconnect-notice') {
      const d = frame.headers.get('Content-Disposition');
      this.emit('disconnectNotice', frame, d === 'linger' || d === 'disconnect' ? d : undefined);
    } else if (type === 'auth/request') this.emit('authRequest');
    else this.emit('warning', new Error(`ESL frame with unexpected Content-Type "${type}"`));
  }

  readonly #onError = (error: Error): void => {
    this.#error ??= error;
  };

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.off('data', this.#onData);
    this.#parser.reset();
    const closedError = new EslConnectionClosedError(
      this.#error === undefined ? 'ESL connection closed' : `ESL connection closed: ${this.#error.message}`,
      this.#error === undefined ? {} : { cause: this.#error },
    );
    this.#replies.failAll(closedError);
    this.#waiters.failAll(closedError);
    this.emit('close', this.#error);
  };
}

/** The verb of a command for errors and metrics: "api originate", "sendmsg"; never its arguments. */
export function verbOf(command: string): string {
  const words = command.split(' ', 2);
  const first = words[0] ?? '';
  return (first === 'api' || first === 'bgapi') && words[1] !== undefined ? `${first} ${words[1]}` : first;
}

/** The text a reply carries: the api body, or a command/reply's Reply-Text. */
export function replyText(frame: EslFrame): string {
  if (frame.body !== undefined) return frame.body.toString('utf8');
  return frame.headers.get('Reply-Text') ?? '';
}

function expectOk(verb: string, frame: EslFrame): void {
  const text = replyText(frame);
  if (!text.startsWith('+OK')) throw new EslCommandError(verb, text);
}
