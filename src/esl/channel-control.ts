// Typed FreeSWITCH verbs: every command the controller sends to a channel, built in one place. Callers say
// what they want (answer, play this prompt, break, bridge these two legs) and never write command strings,
// so a verb's spelling, its argument order and its reply are known once, and nothing a caller passes can
// change a command's meaning: a space in a uuid would shift the arguments of an api command, a newline in
// any argument would end the sendmsg or api line and start another command.
import type { EslEvent } from './protocol/index.ts';

/** The part of an ESL connection the verbs use (EslConnection on a call's outbound socket or inbound). */
export interface EslCommandSink {
  /** True once the connection is gone: commands then fail, and a caller may skip them. */
  readonly closed: boolean;
  api(command: string, options?: { timeoutMs?: number }): Promise<string>;
  bgapi(command: string, options?: { timeoutMs?: number }): Promise<string>;
  execute(options: { uuid?: string; app: string; arg?: string; eventLock?: boolean; timeoutMs: number }): Promise<EslEvent>;
  executeAsync(options: { uuid?: string; app: string; arg?: string; eventLock?: boolean }): Promise<string>;
  hangup(options: { uuid?: string; cause: string }): Promise<void>;
}

/** What the caller hears: a sound file (`playback`) or FreeSWITCH's own voice (`speak`, mod_flite). */
export interface MediaPrompt {
  app: 'playback' | 'speak';
  arg: string;
}

/** mod_audio_fork's `mix` argument: the caller alone (`mono`), both sides mixed, or one per channel. */
export type ForkMix = 'mono' | 'mixed' | 'stereo';
export type ForkRate = '8k' | '16k';

/** A broadcast's leg: the channel itself (`aleg`), its bridged partner (`bleg`), or both. */
export type BroadcastLeg = 'aleg' | 'bleg' | 'both';

/** A command was refused before it was sent: an argument would have changed its meaning. */
export class ChannelCommandError extends Error {
  override readonly name = 'ChannelCommandError';
}

/** Sent on the controlled channel of an outbound socket (no uuid) or on `uuid`. */
export interface ChannelTarget {
  uuid?: string;
}

/**
 * The verbs, over one ESL connection. Applications (answer, playback, bridge…) run on the connection's
 * controlled channel through sendmsg, queued behind what it runs now; the `uuid_*` api verbs act on any
 * channel at once, which is what a barge-in or a hangup during a bridge needs.
 */
export class ChannelControl {
  readonly #esl: EslCommandSink;
  readonly #target: ChannelTarget;

  constructor(esl: EslCommandSink, target: ChannelTarget = {}) {
    this.#esl = esl;
    this.#target = target;
  }

  /** The connection is gone (the call hung up and FreeSWITCH let go, or the socket broke). */
  get closed(): boolean {
    return this.#esl.closed;
  }

  // --- applications on the channel (sendmsg execute, event-lock: they run in the order sent) ---

  async answer(): Promise<string> {
    return this.#app('answer');
  }

  async park(): Promise<string> {
    return this.#esl.executeAsync({ ...this.#target, app: 'park' });
  }

  /** A channel variable, set in order with the applications around it. */
  async setVar(name: string, value: string): Promise<string> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ChannelCommandError(`not a channel variable name: ${JSON.stringify(name)}`);
    return this.#app('set', `${name}=${oneLine(value, 'variable value')}`);
  }

  async recordSession(path: string): Promise<string> {
    return this.#app('record_session', oneLine(path, 'recording path'));
  }

  /** Plays a prompt and resolves at its CHANNEL_EXECUTE_COMPLETE (Application-Response, playback_ms…). */
  async play(prompt: MediaPrompt, timeoutMs: number): Promise<EslEvent> {
    return this.#esl.execute({ ...this.#target, app: prompt.app, arg: oneLine(prompt.arg, 'prompt'), eventLock: true, timeoutMs });
  }

  /** Queues a prompt without waiting for it to end (an announcement before what follows). */
  async playQueued(prompt: MediaPrompt): Promise<string> {
    return this.#app(prompt.app, oneLine(prompt.arg, 'prompt'));
  }

  /** Dials `dialString` and connects the channel to it; resolves when the bridge application returns. */
  async bridge(dialString: string, timeoutMs: number): Promise<EslEvent> {
    return this.#esl.execute({ ...this.#target, app: 'bridge', arg: oneLine(dialString, 'dial string'), timeoutMs });
  }

  /** Hangs the controlled channel up once what it runs now returns. */
  async hangup(cause: string): Promise<void> {
    return this.#esl.hangup({ ...this.#target, cause: hangupCause(cause) });
  }

  // --- api verbs on any channel, at once ---

  /** Hangs `uuid` up now, even in the middle of an application (a bridge still dialling). */
  async kill(uuid: string, cause?: string): Promise<string> {
    return this.#api('uuid_kill', channelId(uuid), ...(cause === undefined ? [] : [hangupCause(cause)]));
  }

  /** Stops whatever `uuid` plays now and everything queued behind it (`all`). */
  async breakAll(uuid: string): Promise<string> {
    return this.#api('uuid_break', channelId(uuid), 'all');
  }

  /** Joins two live channels (both leave their applications). */
  async uuidBridge(a: string, b: string): Promise<string> {
    return this.#api('uuid_bridge', channelId(a), channelId(b));
  }

  /** Plays `path` on `uuid` over what it is doing (hold music to a parked caller, a whisper to an agent). */
  async broadcast(uuid: string, path: string, leg: BroadcastLeg): Promise<string> {
    return this.#api('uuid_broadcast', channelId(uuid), word(path, 'broadcast path'), leg);
  }

  /** mod_audio_fork: streams the channel's audio to `url` over a WebSocket. */
  async audioForkStart(uuid: string, url: string, mix: ForkMix, rate: ForkRate): Promise<string> {
    if (!/^wss?:\/\//.test(url)) throw new ChannelCommandError('an audio fork streams to a ws:// or wss:// address');
    return this.#api('uuid_audio_fork', channelId(uuid), 'start', word(url, 'fork address'), mix, rate);
  }

  async audioForkStop(uuid: string): Promise<string> {
    return this.#api('uuid_audio_fork', channelId(uuid), 'stop');
  }

  /** Sends `uuid` through the dialplan again at `destination`. */
  async transfer(uuid: string, destination: string, dialplan: string, context: string): Promise<string> {
    return this.#api('uuid_transfer', channelId(uuid), word(destination, 'destination'), word(dialplan, 'dialplan'), ...(context === '' ? [] : [word(context, 'context')]));
  }

  /** Whether FreeSWITCH still has the channel (`uuid_exists` answers true or false). */
  async exists(uuid: string): Promise<boolean> {
    return (await this.#api('uuid_exists', channelId(uuid))).trim() === 'true';
  }

  /**
   * Places a new leg (bgapi: FreeSWITCH answers when it was answered or failed). `dialString` is built by
   * the caller from vetted parts (it carries `{vars}` and may hold spaces in quoted parts); only line breaks
   * are refused here.
   */
  async originate(dialString: string, application: string, timeoutMs: number): Promise<string> {
    return this.#esl.bgapi(`originate ${oneLine(dialString, 'dial string')} ${oneLine(application, 'application')}`, { timeoutMs });
  }

  #app(app: string, arg?: string): Promise<string> {
    return this.#esl.executeAsync({ ...this.#target, app, ...(arg === undefined ? {} : { arg }), eventLock: true });
  }

  #api(verb: string, ...args: string[]): Promise<string> {
    return this.#esl.api([verb, ...args].join(' '));
  }
}

/** FreeSWITCH channel ids: a uuid, or an origination_uuid of the same alphabet. */
function channelId(uuid: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(uuid)) throw new ChannelCommandError(`not a channel id: ${JSON.stringify(uuid.slice(0, 80))}`);
  return uuid;
}

/** Q.850 cause names are upper-case words (NORMAL_CLEARING, USER_BUSY…). */
function hangupCause(cause: string): string {
  if (!/^[A-Z_]{1,40}$/.test(cause)) throw new ChannelCommandError(`not a hangup cause: ${JSON.stringify(cause.slice(0, 80))}`);
  return cause;
}

/** One argument of an api command: no whitespace, or it would become two. */
function word(value: string, what: string): string {
  if (value === '' || /\s/.test(value)) throw new ChannelCommandError(`${what} must be one word: ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

/** An application argument may hold spaces, never a line break (it would end the sendmsg header). */
function oneLine(value: string, what: string): string {
  if (/[\r\n]/.test(value)) throw new ChannelCommandError(`${what} holds a line break`);
  return value;
}
