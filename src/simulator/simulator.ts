// FreeSwitchSimulator: a FreeSWITCH stand-in speaking real ESL over TCP, for integration tests, the
// benchmark and the demo. Inbound ESL server (auth, api, bgapi, events …), simulated SIP calls whose
// dialplan hands them to the controller with `socket <target> async full`, and a typed handle per call.
// It behaves like the recorded FreeSWITCH 1.10.12 (test/fixtures/freeswitch-traces, replayed by
// test/conformance/simulator-*.test.ts), including the parts that are awkward for a controller.
//
// Dialplan (context default): the trace extensions 1000 (answer, record_session, playback, sleep, hangup),
// 2000 (socket to the controller), 3000 (answer, sleep 15 s), 4000 / 5000 (answer, park), 4100 (pre_answer,
// park), 6000 (bridge to a SIP far end), 7000 (answer, 20 s playback); every other number goes to the
// controller (`socket`), then — if the controller is unreachable or lets go with `resume` — to the ring
// group (`bridge sofia/gateway/threecx/ringgroup`). `opts.dialplan` adds or replaces extensions.
// Far ends (`opts.endpoints`, by `user@host`, `user`, `gateway/<gw>[/<number>]`): answer after N ms, busy,
// no answer (until originate_timeout), unreachable (503), or reject with a cause; unknown gateways give
// INVALID_GATEWAY, unknown profiles INVALID_PROFILE, unknown endpoint types CHAN_NOT_IMPLEMENTED.
// Gateways (threecx, twilio) answer `sofia status|xmlstatus gateway <name>`; `setGateway(name, { up: false })`
// marks one DOWN (its OPTIONS pings failing) and every call through it then fails with GATEWAY_DOWN.
// Simulated time: every sleep, playback, linger and heartbeat is multiplied by `timeScale`.
// Callers: a call placed with `say` speaks sentences into an audio fork (spoken-audio.ts), silent in between;
// without it the caller sends a 400 Hz tone. `SimulatedCall.playbacks` records what the caller heard.
// Recordings (record_session, uuid_record) are real WAV files with both of these in them (recorder.ts).
// Music on hold: `local_stream://<name>` plays only a stream of `opts.localStreams` (default the shipped `moh`);
// any other name fails with FILE NOT FOUND, as on a FreeSWITCH without that stream (local-streams.ts).
// Operator checks: `module_exists` and `global_getvar` answer from `opts.modules` / `opts.globals`
// (switch-state.ts), `sofia status` lists the profile and gateways, `originate null/…` makes a channel with no
// far end, and `opts.fileRoot` gives FreeSWITCH its own view of the files it plays.
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:net';
import { SimApi } from './api.ts';
import { AudioForks } from './audio-fork.ts';
import { SimCore, silentLogger, type SimLogger } from './core.ts';
import { EslConnection } from './connection.ts';
import { Engine } from './engine.ts';
import type { EndpointBehaviour } from './switchboard.ts';
import { SimGateways } from './gateways.ts';
import { LocalStreams, SHIPPED_LOCAL_STREAMS, type LocalStreamConfig } from './local-streams.ts';
import { runSocketApp } from './outbound.ts';
import { SHIPPED_MODULES, SwitchState } from './switch-state.ts';
import type { SaidUtterance } from './caller-voice.ts';
import type { AppCall, CallSession, ExecutedApp, HeardPlayback } from './session.ts';

export type { AppCall, EndpointBehaviour, ExecutedApp, HeardPlayback, LocalStreamConfig, SaidUtterance, SimLogger };

export interface SimulatorOptions {
  eslHost?: string;
  /** 0 = ephemeral (see start()'s result). */
  eslPort?: number;
  password: string;
  /** Where the `socket` application connects (the controller's outbound-socket listener). */
  socketTarget?: { host: string; port: number };
  /** Multiplies every simulated duration (sleep, playback, linger); 0.01 makes a 3 s prompt last 30 ms. */
  timeScale?: number;
  logger?: SimLogger;
  hostname?: string;
  /** Extra or replaced dialplan extensions (the trace extensions 1000…7000 are built in). */
  dialplan?: Record<string, AppCall[]>;
  /** Simulated far ends for sofia originates/bridges, keyed by `user@host`, `user` or `gateway/<gw>[/<number>]`. */
  endpoints?: Record<string, EndpointBehaviour>;
  defaultEndpoint?: EndpointBehaviour;
  gateways?: string[];
  /** Duration of a playback of a real file (simulated ms, default 2000). */
  fileDurationMs?: number;
  /**
   * mod_local_stream's streams (music on hold), default the ones freeswitch/autoload_configs/local_stream.conf.xml
   * defines. `local_stream://<name>` of any other stream fails with FILE NOT FOUND; `[]` is a FreeSWITCH whose
   * mod_local_stream did not load (no `local_stream` API either).
   */
  localStreams?: readonly LocalStreamConfig[];
  /**
   * Loaded modules, default those freeswitch/autoload_configs/modules.conf.xml loads (SHIPPED_MODULES).
   * `module_exists` answers from this list, and the API commands of a missing module do not exist.
   */
  modules?: readonly string[];
  /**
   * Global variables (`global_getvar`), over the vars.xml ones the simulator derives: controller_host and
   * controller_port from `socketTarget` (what the dialplan's `socket` dials).
   */
  globals?: Readonly<Record<string, string>>;
  /**
   * FreeSWITCH's own view of the file system. Unset, a playback of any file path plays (for fileDurationMs
   * when it is not a WAV on disk). Set, a file played by absolute path `/x` is read from `<fileRoot>/x` and
   * fails FILE NOT FOUND when it is not there: `'/'` is a FreeSWITCH that shares the test's mounts, an empty
   * directory one whose volumes are mounted elsewhere.
   */
  fileRoot?: string;
  maxSessions?: number;
  /** HEARTBEAT period in simulated ms (FreeSWITCH: 20 s); 0 disables it. */
  heartbeatMs?: number;
  /**
   * Real ms before a new channel shows in `show channels`. FreeSWITCH writes its core db asynchronously,
   * so right after an originate the rows can be missing (rule 11); set this in tests of resync logic.
   * Default 0 (rows at once).
   */
  channelsDbLagMs?: number;
  /**
   * Measurement hook (the benchmark): called with each 20 ms frame just before it is written to an audio
   * fork's WebSocket. The frame is freshly made for this send, so the hook may write into it (the benchmark
   * stamps silence frames with a sequence number). Unset, nothing changes.
   */
  onForkFrame?: (uuid: string, frame: Buffer) => void;
  /**
   * Measurement option (the benchmark): pace each audio fork's frames by the real clock, one frame per 20 ms
   * (× timeScale) of that fork's own schedule, instead of one frame per shared timer tick. Default false.
   */
  forkFramesOnClock?: boolean;
  /**
   * Write the WAV files of record_session / uuid_record / record when a recording stops (default true).
   * A benchmark of many calls may turn this off; the RECORD_START/STOP events are the same either way.
   */
  writeRecordings?: boolean;
}

export interface PlaceCallOptions {
  from: string;
  to: string;
  /** The caller hangs up (BYE) after this many simulated ms. */
  callerHangsUpAfterMs?: number;
  /** Digits the caller presses (RFC 2833), each `atMs` simulated ms after the call starts. */
  dtmf?: Array<{ atMs: number; digits: string; durationMs?: number }>;
  sipHeaders?: Record<string, string>;
  /** How good the caller's line is: FreeSWITCH's RTP statistics at hangup (default a clean line, MOS 4.50). */
  line?: { mos: number; lossPercent: number };
  /**
   * Sentences the caller says, each `atMs` simulated ms after the call starts (spoken-audio codec, so the
   * Speechmatics stand-in transcribes them). With `say` (even `[]`) the caller is silent in between; without
   * it the caller sends a steady 400 Hz tone. Speech while no audio fork is open is not heard.
   */
  say?: Array<{ atMs: number; text: string; durationMs?: number }>;
}

export interface SimulatorEvents {
  call: [call: SimulatedCall];
  socketFailed: [call: SimulatedCall, error: Error];
}

export class SimulatedCall extends EventEmitter<{
  ended: [cause: string];
  socketFailed: [error: Error];
  /** An audio fork started (true) or stopped (false) taking the caller's audio. */
  listening: [listening: boolean];
}> {
  readonly uuid: string;
  /** Resolves with the hangup cause at CHANNEL_HANGUP_COMPLETE (before a lingering controller lets go). */
  readonly ended: Promise<string>;
  socketFailed = false;
  private readonly session: CallSession;

  constructor(session: CallSession) {
    super();
    this.session = session;
    this.uuid = session.ch.uuid;
    this.ended = session.ended;
    void this.ended.then((cause) => this.emit('ended', cause));
    session.voice.on('listening', (listening) => this.emit('listening', listening));
  }

  /** Every playback the caller heard, in order, with how it ended and how much of it was heard. */
  get playbacks(): readonly HeardPlayback[] {
    return this.session.playbacks;
  }

  /** Everything the caller said, and whether an audio fork was open to hear it. */
  get said(): readonly SaidUtterance[] {
    return this.session.voice.said;
  }

  /** Whether an audio fork is taking the caller's audio right now. */
  get listening(): boolean {
    return this.session.voice.listening;
  }

  /**
   * The caller says `text` now (after anything still being said), lasting `durationMs` (default 65 ms a
   * character, at least 400 ms). Heard only if an audio fork is open.
   */
  say(text: string, durationMs?: number): SaidUtterance {
    return this.session.voice.say(text, durationMs);
  }

  /** Applications the channel ran, in order (dialplan and controller sendmsg alike). */
  get applications(): readonly ExecutedApp[] {
    return this.session.executed;
  }

  get answered(): boolean {
    return this.session.ch.answeredMicros > 0;
  }

  getVariable(name: string): string | undefined {
    return this.session.ch.getVar(name);
  }

  /** The caller hangs up (a BYE from the far end). */
  hangup(cause = 'NORMAL_CLEARING'): void {
    this.session.hangup(cause);
  }

  /** The caller presses digits (RFC 2833): one DTMF event each, `#` URL-encoded, `*` as is (rule 20). */
  sendDtmf(digits: string, durationMs = 100): void {
    for (const d of digits) {
      if (!this.session.ch.isUp) return;
      this.session.ch.fire('DTMF', {
        post: [['DTMF-Digit', d], ['DTMF-Duration', String(durationMs * 8)], ['DTMF-Source', 'RTP']],
      });
    }
  }
}

const TRACE_DIALPLAN: Record<string, AppCall[]> = {
  '1000': [
    { app: 'answer' },
    { app: 'record_session', arg: '/var/lib/freeswitch/recordings/fsref_${uuid}.wav' },
    { app: 'playback', arg: 'tone_stream://%(1000,500,440);loops=2' },
    { app: 'sleep', arg: '1000' },
    { app: 'hangup' },
  ],
  '3000': [{ app: 'answer' }, { app: 'sleep', arg: '15000' }, { app: 'hangup' }],
  '4000': [{ app: 'answer' }, { app: 'park' }],
  '4100': [{ app: 'pre_answer' }, { app: 'park' }],
  '5000': [{ app: 'answer' }, { app: 'park' }],
  '6000': [{ app: 'bridge', arg: 'sofia/fsref/uas@127.0.0.1:5090' }],
  '7000': [{ app: 'answer' }, { app: 'playback', arg: 'tone_stream://%(20000,0,440)' }, { app: 'hangup' }],
};

const TRACE_ENDPOINTS: Record<string, EndpointBehaviour> = {
  'uas@127.0.0.1:5090': { kind: 'answer', answerAfterMs: 20 },
  'busy@127.0.0.1:5091': { kind: 'busy' },
  'ring@127.0.0.1:5092': { kind: 'no_answer' },
  'nobody@127.0.0.1:5999': { kind: 'unreachable' },
};

export class FreeSwitchSimulator extends EventEmitter<SimulatorEvents> {
  private readonly opts: SimulatorOptions;
  private readonly core: SimCore;
  private readonly engine: Engine;
  private readonly api: SimApi;
  private readonly forks: AudioForks;
  private readonly gateways: SimGateways;
  private server: Server | undefined;
  private readonly connections = new Set<EslConnection>();
  private readonly calls = new Map<string, SimulatedCall>();
  private stopping: Promise<void> | undefined;

  constructor(opts: SimulatorOptions) {
    super();
    this.opts = opts;
    this.core = new SimCore({
      hostname: opts.hostname ?? 'fs-sim',
      ipv4: '127.0.0.1',
      ipv6: '::1',
      timeScale: opts.timeScale ?? 1,
      logger: opts.logger ?? silentLogger,
      maxSessions: opts.maxSessions ?? 5000,
      channelsDbLagMs: opts.channelsDbLagMs ?? 0,
      writeRecordings: opts.writeRecordings ?? true,
    });
    this.gateways = new SimGateways(this.core, opts.gateways ?? ['threecx', 'twilio']);
    const target = opts.socketTarget;
    // mod_local_stream refuses to load without a stream: with none configured it is not loaded either.
    const streams = opts.localStreams ?? SHIPPED_LOCAL_STREAMS;
    const modules = (opts.modules ?? SHIPPED_MODULES).filter((m) => m !== 'mod_local_stream' || streams.length > 0);
    const socketArg = target === undefined ? undefined : `${target.host}:${target.port} async full`;
    this.engine = new Engine(this.core, {
      dialplan: {
        ...TRACE_DIALPLAN,
        ...(socketArg === undefined ? {} : { '2000': [{ app: 'socket', arg: socketArg }] }),
        ...opts.dialplan,
      },
      // Every other number goes to the controller; if it is unreachable, the ring group takes the call.
      fallbackDialplan:
        socketArg === undefined
          ? undefined
          : () => [{ app: 'socket', arg: socketArg }, { app: 'bridge', arg: 'sofia/gateway/threecx/ringgroup' }],
      gateways: this.gateways,
      profiles: ['fsref', 'internal', 'external'],
      endpoints: { ...TRACE_ENDPOINTS, ...opts.endpoints },
      defaultEndpoint: opts.defaultEndpoint ?? { kind: 'answer', answerAfterMs: 500 },
      fileDurationMs: opts.fileDurationMs ?? 2000,
      localStreams: new LocalStreams(modules.includes('mod_local_stream') ? streams : []),
      fileRoot: opts.fileRoot,
      onHangup: (session) => this.forks.stop(session),
      socketApp: (session, arg) =>
        runSocketApp(
          {
            core: this.core,
            engine: this.engine,
            api: this.api,
            password: opts.password,
            connections: this.connections,
            connectTimeoutMs: 2000,
            onSocketFailed: (s, where, error) => {
              this.core.opts.logger.warn({ uuid: s.ch.uuid, target: where, err: error.message }, 'socket target unreachable; dialplan continues');
              const call = this.calls.get(s.ch.uuid);
              if (call !== undefined) {
                call.socketFailed = true;
                call.emit('socketFailed', error);
                this.emit('socketFailed', call, error);
              }
            },
          },
          session,
          arg,
        ),
    });
    this.forks = new AudioForks(this.core, { onFrame: opts.onForkFrame, paceByClock: opts.forkFramesOnClock });
    const globals: Record<string, string> = target === undefined ? {} : { controller_host: target.host, controller_port: String(target.port) };
    this.api = new SimApi(this.core, this.engine, this.forks, new SwitchState({ modules, globals: { ...globals, ...opts.globals } }));
  }

  async start(): Promise<{ eslPort: number }> {
    if (this.server !== undefined) throw new Error('simulator already started');
    // allowHalfOpen: a client may send `exit` and half-close at once (modesl does); FreeSWITCH still
    // answers `+OK bye` and the disconnect notice before closing its side.
    const server = createServer({ allowHalfOpen: true }, (sock) => {
      const conn = new EslConnection(sock, {
        core: this.core,
        engine: this.engine,
        api: this.api,
        password: this.opts.password,
        onClose: (c) => this.connections.delete(c),
      });
      this.connections.add(conn);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.eslPort ?? 0, this.opts.eslHost ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const period = this.opts.heartbeatMs ?? 20_000;
    if (period > 0) this.scheduleHeartbeat(period, 0);
    const addr = server.address();
    return { eslPort: typeof addr === 'object' && addr !== null ? addr.port : 0 };
  }

  /** A caller dials `to`: an inbound SIP channel running the dialplan (the controller hand-off by default). */
  placeCall(opts: PlaceCallOptions): SimulatedCall {
    if (this.stopping !== undefined) throw new Error('simulator is stopping');
    let call: SimulatedCall | undefined;
    const session = this.engine.placeInbound({
      from: opts.from,
      to: opts.to,
      sipHeaders: opts.sipHeaders,
    });
    if (opts.line !== undefined) {
      session.ch.setVar('sim_rtp_mos', String(opts.line.mos));
      session.ch.setVar('sim_rtp_loss_percent', String(opts.line.lossPercent));
    }
    call = new SimulatedCall(session);
    this.calls.set(call.uuid, call);
    const c = call;
    void session.destroyed.then(() => this.calls.delete(c.uuid));
    if (opts.callerHangsUpAfterMs !== undefined) this.core.schedule(opts.callerHangsUpAfterMs, () => c.hangup('NORMAL_CLEARING'));
    for (const d of opts.dtmf ?? []) this.core.schedule(d.atMs, () => c.sendDtmf(d.digits, d.durationMs));
    if (opts.say !== undefined) {
      session.voice.speaks = true;
      for (const u of opts.say) {
        this.core.schedule(u.atMs, () => {
          if (session.ch.isUp) c.say(u.text, u.durationMs);
        });
      }
    }
    this.emit('call', c);
    call = undefined;
    return c;
  }

  /**
   * A gateway goes DOWN (as when its OPTIONS pings fail) or UP again: `sofia status gateway` reports it, and
   * while it is DOWN every bridge or originate through it fails at once with GATEWAY_DOWN.
   */
  setGateway(name: string, state: { up: boolean }): void {
    this.gateways.set(name, state.up);
  }

  /** HEARTBEAT + its RE_SCHEDULE every period; the check_ip task is re-scheduled once a minute. */
  private scheduleHeartbeat(period: number, tick: number): void {
    this.core.schedule(period, () => {
      if (this.stopping !== undefined) return;
      this.api.fireHeartbeat();
      this.api.fireReschedule(1, 'heartbeat', period);
      if (tick % Math.max(1, Math.round(60_000 / period)) === 0) this.api.fireReschedule(2, 'check_ip', 60_000);
      this.scheduleHeartbeat(period, tick + 1);
    });
  }

  /** The ESL port once started (useful with eslPort 0). */
  get eslPort(): number | undefined {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr !== null ? addr.port : undefined;
  }

  get activeChannels(): number {
    return this.engine.sessions.size;
  }

  /**
   * Hang up every channel, close every socket and timer. Idempotent; bounded (about a second).
   * By default this is FreeSWITCH going away: sockets drop first, so no listener sees the hangups (what
   * a crash or restart looks like to a controller). `graceful: true` is `fsctl shutdown`: calls end first
   * and listeners receive their hangup events, then the sockets close.
   */
  stop(opts: { graceful?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      const ends = [...this.engine.sessions.values()].map((s) => s.destroyed);
      const bounded = async (p: Promise<unknown>): Promise<void> => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([p, new Promise((r) => (timer = setTimeout(r, 1000)))]);
        clearTimeout(timer);
      };
      if (opts.graceful === true) {
        this.engine.hangupAll('SYSTEM_SHUTDOWN');
        await bounded(Promise.all(ends));
      }
      // Close gracefully (FIN), then destroy whatever is still open after a short grace period.
      for (const c of [...this.connections]) c.close();
      this.engine.hangupAll('SYSTEM_SHUTDOWN');
      await bounded(Promise.all(ends));
      await new Promise((r) => setTimeout(r, 20).unref());
      for (const c of [...this.connections]) c.destroy();
      this.forks.stopAll();
      this.core.cancelAllTimers();
      const server = this.server;
      if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
    })();
    return this.stopping;
  }
}
