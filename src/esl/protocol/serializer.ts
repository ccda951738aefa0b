// Builds the bytes of one ESL command. The whole command goes into ONE Buffer so the connection writes it
// in one socket write (several small writes with Nagle on cost ~44 ms per command in modesl).
// Anything that could smuggle a line break into the command is refused before a byte is sent: a value like
// "x\n\napi hupall" would otherwise become a second command.
import { EslInvalidCommandError } from '../../core/errors.ts';

export type EslCommandHeaders = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;

export interface SerializeOptions {
  headers?: EslCommandHeaders;
  /** Sent after the headers with a Content-Length (e.g. a long sendmsg argument, sendevent body). */
  body?: string;
}

const LINE_BREAK = /[\r\n]/;

export function serializeCommand(command: string, options: SerializeOptions = {}): Buffer {
  if (command.length === 0) throw new EslInvalidCommandError('Empty ESL command');
  assertSingleLine('command', command);
  let text = command + '\n';
  const pairs = options.headers === undefined ? [] : toPairs(options.headers);
  for (const [name, value] of pairs) {
    if (name.length === 0 || name.includes(':')) throw new EslInvalidCommandError(`Bad ESL header name "${name}"`);
    assertSingleLine(`header ${name}`, name);
    assertSingleLine(`header ${name}`, value);
    text += `${name}: ${value}\n`;
  }
  if (options.body !== undefined) {
    text += `Content-Length: ${Buffer.byteLength(options.body, 'utf8')}\n\n${options.body}`;
  } else {
    text += '\n';
  }
  return Buffer.from(text, 'utf8');
}

export interface SendmsgExecuteOptions {
  /** Target channel; omitted on an outbound socket (the controlled channel). */
  uuid?: string;
  app: string;
  arg?: string;
  /** Our id for this execution; FreeSWITCH echoes it as Application-UUID in EXECUTE/EXECUTE_COMPLETE. */
  eventUuid: string;
  /** Run the queued applications one after another instead of interrupting each other. */
  eventLock?: boolean;
  loops?: number;
}

/** `sendmsg` executing an application, with the headers in the order FreeSWITCH's own traces show. */
export function sendmsgExecute(options: SendmsgExecuteOptions): Buffer {
  const headers: Array<[string, string]> = [
    ['call-command', 'execute'],
    ['execute-app-name', options.app],
  ];
  if (options.arg !== undefined && options.arg !== '') headers.push(['execute-app-arg', options.arg]);
  if (options.loops !== undefined) {
    if (!Number.isInteger(options.loops) || options.loops < 1) {
      throw new EslInvalidCommandError(`sendmsg loops must be a positive integer, got ${options.loops}`);
    }
    headers.push(['loops', String(options.loops)]);
  }
  if (options.eventLock === true) headers.push(['event-lock', 'true']);
  headers.push(['Event-UUID', options.eventUuid]);
  return serializeCommand(sendmsgLine(options.uuid), { headers });
}

export interface SendmsgHangupOptions {
  uuid?: string;
  /** A Q.850 cause name such as NORMAL_CLEARING. */
  cause: string;
}

export function sendmsgHangup(options: SendmsgHangupOptions): Buffer {
  return serializeCommand(sendmsgLine(options.uuid), {
    headers: [
      ['call-command', 'hangup'],
      ['hangup-cause', options.cause],
    ],
  });
}

function sendmsgLine(uuid: string | undefined): string {
  if (uuid === undefined || uuid === '') return 'sendmsg';
  if (/\s/.test(uuid)) throw new EslInvalidCommandError('sendmsg uuid contains whitespace');
  return `sendmsg ${uuid}`;
}

function toPairs(headers: EslCommandHeaders): ReadonlyArray<readonly [string, string]> {
  return Array.isArray(headers) ? headers : Object.entries(headers as Record<string, string>);
}

function assertSingleLine(what: string, value: string): void {
  if (LINE_BREAK.test(value)) throw new EslInvalidCommandError(`ESL ${what} contains a line break`);
}
