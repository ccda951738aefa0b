// A stand-in for a call's ESL connection that records every command sent through ChannelControl, for fast
// unit tests of what a call does (conversation, hand-offs) without a socket or a simulator. Each command is
// kept as the text FreeSWITCH would receive (`uuid_break <uuid> all`, `execute playback <file>`), so tests
// read like the wire. An application sent with `execute` stays pending until the test completes it with the
// CHANNEL_EXECUTE_COMPLETE headers FreeSWITCH would send (Application-Response, playback_ms…).
import type { EslCommandSink } from './channel-control.ts';
import { EslHeaders, type EslEvent } from './protocol/index.ts';

export interface RecordedCommand {
  /** `api`, `bgapi`, `execute` (awaited), `executeAsync` (queued) or `hangup`. */
  kind: 'api' | 'bgapi' | 'execute' | 'executeAsync' | 'hangup';
  /** The command text: `uuid_kill <uuid>`, `playback /tts/a.wav`, `hangup NORMAL_CLEARING`. */
  text: string;
  uuid?: string;
}

interface PendingExecute {
  app: string;
  arg: string | undefined;
  resolve: (event: EslEvent) => void;
  reject: (error: Error) => void;
}

export class RecordingEsl implements EslCommandSink {
  readonly commands: RecordedCommand[] = [];
  closed = false;
  readonly #pending: PendingExecute[] = [];
  /** What an api verb answers; by default `+OK`. */
  apiReply: (command: string) => string | Error = () => '+OK\n';

  async api(command: string): Promise<string> {
    this.commands.push({ kind: 'api', text: command });
    return this.#reply(command);
  }

  async bgapi(command: string): Promise<string> {
    this.commands.push({ kind: 'bgapi', text: command });
    return this.#reply(command);
  }

  execute(options: { uuid?: string; app: string; arg?: string }): Promise<EslEvent> {
    this.commands.push({ kind: 'execute', text: appText(options), ...(options.uuid === undefined ? {} : { uuid: options.uuid }) });
    return new Promise((resolve, reject) => this.#pending.push({ app: options.app, arg: options.arg, resolve, reject }));
  }

  async executeAsync(options: { uuid?: string; app: string; arg?: string }): Promise<string> {
    this.commands.push({ kind: 'executeAsync', text: appText(options), ...(options.uuid === undefined ? {} : { uuid: options.uuid }) });
    return `event-uuid-${this.commands.length}`;
  }

  async hangup(options: { uuid?: string; cause: string }): Promise<void> {
    this.commands.push({ kind: 'hangup', text: `hangup ${options.cause}` });
  }

  /** The texts sent, in order (optionally of one kind). */
  sent(kind?: RecordedCommand['kind']): string[] {
    return this.commands.filter((c) => kind === undefined || c.kind === kind).map((c) => c.text);
  }

  /** Applications sent with `execute` still waiting for their CHANNEL_EXECUTE_COMPLETE. */
  get pending(): readonly { app: string; arg: string | undefined }[] {
    return this.#pending.map(({ app, arg }) => ({ app, arg }));
  }

  /** Completes the oldest pending `app` as FreeSWITCH would, with these CHANNEL_EXECUTE_COMPLETE headers. */
  complete(app: string, headers: Record<string, string> = {}): void {
    const index = this.#pending.findIndex((p) => p.app === app);
    if (index < 0) throw new Error(`no ${app} is waiting for its completion (pending: ${this.#pending.map((p) => p.app).join(', ') || 'none'})`);
    const [pending] = this.#pending.splice(index, 1);
    const pairs: [string, string][] = [
      ['Event-Name', 'CHANNEL_EXECUTE_COMPLETE'],
      ['Application', pending!.app],
      ...(pending!.arg === undefined ? [] : [['Application-Data', pending!.arg] as [string, string]]),
      ...Object.entries(headers),
    ];
    pending!.resolve({ name: 'CHANNEL_EXECUTE_COMPLETE', subclass: undefined, uniqueId: undefined, headers: new EslHeaders(pairs), body: undefined, format: 'plain' });
  }

  /** Fails every pending application, as a closed connection does. */
  close(): void {
    this.closed = true;
    for (const p of this.#pending.splice(0)) p.reject(new Error('ESL connection closed'));
  }

  #reply(command: string): string {
    const reply = this.apiReply(command);
    if (reply instanceof Error) throw reply;
    return reply;
  }
}

function appText(options: { app: string; arg?: string }): string {
  return options.arg === undefined ? options.app : `${options.app} ${options.arg}`;
}
