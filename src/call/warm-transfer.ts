// Warm transfer on the inbound ESL connection: while the caller hears hold music, ring the chosen agents one
// at a time with `bgapi originate` (our own uuid for the leg, the context as SIP X-headers), whisper the
// summary to the agent who answers, then `uuid_bridge` the caller to them. An agent who does not answer,
// refuses, or hangs up before the bridge is skipped for the next one. If the caller hangs up meanwhile, any
// agent leg we made is killed: nobody is left ringing or talking to nobody.
//
// FreeSWITCH facts relied on (../shared/freeswitch-traces/README.md): a bgapi originate's BACKGROUND_JOB body
// is `+OK <uuid>\n` once the far end answered and `-ERR <CAUSE>\n` otherwise (NO_ANSWER after
// originate_timeout, USER_BUSY, NORMAL_TEMPORARY_FAILURE, INVALID_GATEWAY, …); `uuid_broadcast <uuid> <file>
// aleg` answers `+OK Message sent` and the playback ends with PLAYBACK_STOP; `uuid_bridge <a> <b>` answers
// `+OK <b>` or `-ERR Invalid uuid`.
//
// The connection must be subscribed to BACKGROUND_JOB, CHANNEL_HANGUP_COMPLETE (or CHANNEL_HANGUP) and
// PLAYBACK_STOP.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { withSipHeaders } from '../core/sip-headers.ts';
import type { RoutedAgent } from '../core/routing/types.ts';
import { ChannelControl, type EslCommandSink } from '../esl/channel-control.ts';
import type { EslConnection, EslEvent } from '../esl/index.ts';

export interface WarmTransferOptions {
  /** The inbound ESL connection (subscribed as said above). */
  connection: EslCommandSink & Pick<EslConnection, 'on' | 'off'>;
  /** The caller's FreeSWITCH channel uuid. */
  callerUuid: string;
  /** In ringing order (see core/agent-selection.ts). */
  agents: readonly RoutedAgent[];
  /** FreeSWITCH gateway to 3CX. */
  gateway: string;
  ringSeconds: number;
  /** X-Callbridge-* headers for the agent's phone (sanitised by withSipHeaders). */
  sipHeaders: Readonly<Record<string, string>>;
  /** The spoken summary for the agent, already synthesized; undefined bridges without a whisper. */
  whisperFile?: string;
  /** Longest wait for the whisper's PLAYBACK_STOP before bridging anyway (default 30 s). */
  whisperMaxMs?: number;
  /** What the caller hears meanwhile (default `local_stream://moh`). */
  holdAudio?: string;
  /** The whole transfer, all agents included, gives up after this long. */
  deadlineMs: number;
  /** Abort when the caller hangs up (the session knows first); the agent leg is then killed. */
  signal?: AbortSignal;
}

export type WarmTransferResult =
  | { outcome: 'bridged'; agent: RoutedAgent; agentUuid: string; ms: number }
  /** Nobody took the call; the caller still hears hold audio, ready for the group's fallback. */
  | { outcome: 'no_answer'; tried: Array<{ extension: string; cause: string }> }
  | { outcome: 'caller_gone' };

/**
 * mod_local_stream's `moh` stream, defined by freeswitch/autoload_configs/local_stream.conf.xml (a FreeSWITCH
 * without it answers the playback with FILE NOT FOUND and the caller waits in silence).
 */
export const DEFAULT_HOLD_AUDIO = 'local_stream://moh';
const DEFAULT_WHISPER_MAX_MS = 30_000;
/** Beyond the ring time: FreeSWITCH's own setup and the BACKGROUND_JOB trip. */
const ORIGINATE_GRACE_MS = 10_000;
/** After killing a ringing leg, how long to wait for its originate to report. */
const KILL_SETTLE_MS = 5_000;

type Attempt = { kind: 'bridged'; agentUuid: string } | { kind: 'skipped'; cause: string } | { kind: 'caller_gone' };

export async function runWarmTransfer(options: WarmTransferOptions): Promise<WarmTransferResult> {
  const started = performance.now();
  const deadline = started + options.deadlineMs;
  const legs = new LegWatcher(options.connection, options.signal);
  const channel = new ChannelControl(options.connection);
  try {
    if (legs.callerGone(options.callerUuid)) return { outcome: 'caller_gone' };
    if (!(await succeeds(channel.broadcast(options.callerUuid, options.holdAudio ?? DEFAULT_HOLD_AUDIO, 'aleg')))) {
      return { outcome: 'caller_gone' };
    }
    const tried: Array<{ extension: string; cause: string }> = [];
    for (const agent of options.agents) {
      const remainingMs = deadline - performance.now();
      if (remainingMs < 1000) break;
      const attempt = await tryAgent(options, channel, legs, agent, remainingMs);
      if (attempt.kind === 'caller_gone') return { outcome: 'caller_gone' };
      if (attempt.kind === 'bridged') {
        return { outcome: 'bridged', agent, agentUuid: attempt.agentUuid, ms: Math.round(performance.now() - started) };
      }
      tried.push({ extension: agent.extension, cause: attempt.cause });
    }
    return { outcome: 'no_answer', tried };
  } finally {
    legs.dispose();
  }
}

async function tryAgent(options: WarmTransferOptions, channel: ChannelControl, legs: LegWatcher, agent: RoutedAgent, remainingMs: number): Promise<Attempt> {
  const { callerUuid } = options;
  const agentUuid = randomUUID();
  const ring = Math.max(1, Math.min(options.ringSeconds, Math.floor(remainingMs / 1000)));
  const extension = agent.extension.replace(/[^0-9+*#]/g, '');
  const dial = withSipHeaders(
    `{origination_uuid=${agentUuid},originate_timeout=${ring},ignore_early_media=true}sofia/gateway/${options.gateway}/${extension}`,
    options.sipHeaders,
  );
  // The job's body, or undefined when no BACKGROUND_JOB came (timeout, connection lost).
  const originate = channel.originate(dial, '&park()', ring * 1000 + ORIGINATE_GRACE_MS).then(
    (body) => body.trim(),
    () => undefined,
  );
  const callerLeft = legs.until(() => legs.callerGone(callerUuid), Number.POSITIVE_INFINITY);
  const first = await Promise.race([originate.then((reply) => ({ reply })), callerLeft.promise.then(() => 'caller_gone' as const)]);
  callerLeft.cancel();
  if (first === 'caller_gone') {
    // The caller left while the agent's phone rang: stop it ringing, and if it was answered just now, hang up.
    await succeeds(channel.kill(agentUuid));
    const settled = legs.until(() => false, KILL_SETTLE_MS);
    const late = await Promise.race([originate, settled.promise.then(() => undefined)]);
    settled.cancel();
    if (late?.startsWith('+OK') === true) await succeeds(channel.kill(agentUuid));
    return { kind: 'caller_gone' };
  }
  const { reply } = first;
  if (reply === undefined) {
    // No result: the leg may still be ringing somewhere, so make sure it is not.
    await succeeds(channel.kill(agentUuid));
    return { kind: 'skipped', cause: 'NO_ORIGINATE_RESULT' };
  }
  if (!reply.startsWith('+OK')) return { kind: 'skipped', cause: reply.replace(/^-ERR\s*/, '') || 'UNKNOWN' };
  const abandon = async (): Promise<Attempt> => {
    await succeeds(channel.kill(agentUuid));
    return { kind: 'caller_gone' };
  };
  const agentGone = (): boolean => legs.gone(agentUuid);
  if (options.whisperFile !== undefined && !legs.callerGone(callerUuid) && !agentGone()) {
    const whisper = options.whisperFile;
    if (await succeeds(channel.broadcast(agentUuid, whisper, 'aleg'))) {
      const maxMs = Math.min(options.whisperMaxMs ?? DEFAULT_WHISPER_MAX_MS, Math.max(0, remainingMs));
      const heard = legs.until(() => legs.played(agentUuid, whisper) || agentGone() || legs.callerGone(callerUuid), maxMs);
      await heard.promise;
    }
  }
  if (legs.callerGone(callerUuid)) return abandon();
  if (agentGone()) return { kind: 'skipped', cause: 'AGENT_HANGUP' };
  await succeeds(channel.breakAll(callerUuid));
  if (await succeeds(channel.uuidBridge(callerUuid, agentUuid))) return { kind: 'bridged', agentUuid };
  // One of the two is gone: which one decides what happens next.
  const callerThere = await channel.exists(callerUuid).catch(() => false);
  if (!callerThere || legs.callerGone(callerUuid)) return abandon();
  await succeeds(channel.kill(agentUuid));
  await succeeds(channel.broadcast(callerUuid, options.holdAudio ?? DEFAULT_HOLD_AUDIO, 'aleg'));
  return { kind: 'skipped', cause: 'AGENT_HANGUP' };
}

/** An api command whose failure (-ERR: no such channel) is an answer, not an error. */
async function succeeds(command: Promise<unknown>): Promise<boolean> {
  try {
    await command;
    return true;
  } catch {
    return false;
  }
}

/** What the inbound connection tells us about the legs: hangups and finished playbacks, and waits on them. */
class LegWatcher {
  readonly #connection: WarmTransferOptions['connection'];
  readonly #signal: AbortSignal | undefined;
  readonly #hungUp = new Set<string>();
  readonly #played = new Set<string>();
  /** Pending waits: their check, and how to end them. */
  readonly #waiters = new Map<() => void, (value: boolean) => void>();
  readonly #onEvent = (event: EslEvent): void => {
    const uuid = event.uniqueId;
    if (uuid === undefined) return;
    if (event.name === 'CHANNEL_HANGUP' || event.name === 'CHANNEL_HANGUP_COMPLETE') this.#hungUp.add(uuid);
    else if (event.name === 'PLAYBACK_STOP') this.#played.add(`${uuid} ${event.headers.get('Playback-File-Path') ?? ''}`);
    else return;
    this.#wake();
  };
  readonly #onAbort = (): void => this.#wake();

  constructor(connection: WarmTransferOptions['connection'], signal: AbortSignal | undefined) {
    this.#connection = connection;
    this.#signal = signal;
    connection.on('event', this.#onEvent);
    signal?.addEventListener('abort', this.#onAbort);
  }

  gone(uuid: string): boolean {
    return this.#hungUp.has(uuid);
  }

  callerGone(callerUuid: string): boolean {
    return this.#signal?.aborted === true || this.#hungUp.has(callerUuid);
  }

  played(uuid: string, path: string): boolean {
    return this.#played.has(`${uuid} ${path}`);
  }

  /** Resolves true once `condition` holds (checked at each event), false after `timeoutMs`, on cancel or dispose. */
  until(condition: () => boolean, timeoutMs: number): { promise: Promise<boolean>; cancel: () => void } {
    if (condition()) return { promise: Promise.resolve(true), cancel: () => {} };
    let finish: (value: boolean) => void = () => {};
    const promise = new Promise<boolean>((resolve) => (finish = resolve));
    let timer: NodeJS.Timeout | undefined;
    const done = (value: boolean): void => {
      if (!this.#waiters.delete(check)) return;
      clearTimeout(timer);
      finish(value);
    };
    const check = (): void => {
      if (condition()) done(true);
    };
    this.#waiters.set(check, done);
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => done(false), timeoutMs);
    return { promise, cancel: () => done(false) };
  }

  #wake(): void {
    for (const check of [...this.#waiters.keys()]) check();
  }

  dispose(): void {
    this.#connection.off('event', this.#onEvent);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    for (const done of [...this.#waiters.values()]) done(false);
  }
}
