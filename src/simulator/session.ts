// The "session thread" of one channel: runs dialplan applications and queued sendmsg messages strictly one
// after another, reacts to hangup / uuid_break / uuid_transfer, and tears the channel down in the order the
// traces show (CHANNEL_HANGUP … CS_HANGUP, RECORD_STOP, CALLSTATE HANGUP, CS_REPORTING, HANGUP_COMPLETE,
// then CHANNEL_DESTROY once nothing holds the session any more).
import { randomUUID } from 'node:crypto';
import { CallerVoice } from './caller-voice.ts';
import { MediaTimeline, writeRecording } from './recorder.ts';
import type { SimChannel } from './channel.ts';
import { fireBroadcastCommand, firePrivateCommand, q850, setEndVars, type QueuedMessage } from './session-events.ts';
import type { HeaderList } from './wire.ts';

export interface AppCall {
  readonly app: string;
  readonly arg?: string;
}

/** Why a wait ended early: uuid_break, hangup, uuid_transfer/uuid_bridge, or the socket application left. */
export type StopReason = 'break' | 'hangup' | 'transfer' | 'leave';
type Outcome = 'elapsed' | 'message' | StopReason;

interface Waiter {
  readonly breakable: boolean;
  readonly wantsMessages: boolean;
  finish(outcome: Outcome): void;
}

export interface SessionHooks {
  /** Runs an application; returns its Application-Response. */
  runApp(session: CallSession, call: AppCall): Promise<string>;
  /** Dialplan lookup for transfers; undefined = no route. */
  route(session: CallSession, extension: string): AppCall[] | undefined;
  onHangup(session: CallSession): void;
  onHangupComplete(session: CallSession): void;
  /** Resolves when nothing holds the session (outbound socket gone); CHANNEL_DESTROY waits for it. */
  destroyGate(session: CallSession): Promise<void>;
  onDestroyed(session: CallSession): void;
}

export interface ExecutedApp {
  readonly app: string;
  readonly arg?: string;
  readonly applicationUuid: string;
  response?: string;
}

/** One playback as the caller heard it: played to the end, cut short (uuid_break, transfer), or hung up on. */
export interface HeardPlayback {
  readonly path: string;
  readonly status: 'done' | 'break' | 'hangup';
  /** Simulated ms the caller heard. */
  readonly playedMs: number;
}

export class CallSession {
  readonly ch: SimChannel;
  private readonly hooks: SessionHooks;
  private readonly queue: QueuedMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  /** Every application run on this channel, in order (for test assertions). */
  readonly executed: ExecutedApp[] = [];
  /** Every playback the caller heard, in order (for test assertions such as barge-in). */
  readonly playbacks: HeardPlayback[] = [];
  /** What the caller sends into an audio fork. */
  readonly voice = new CallerVoice();
  /** What the caller said and heard, when (simulated ms): what a recording is made of. */
  readonly media = new MediaTimeline();
  lastResponse = '_none_';
  recording: { path: string; startedMicros: number; startedMs: number; stereo: boolean; callerOnly: boolean } | undefined;
  hangupFromController = false;
  private messagesRun = 0;
  private transferTarget: string | undefined;
  /** Set by uuid_bridge: what the session runs instead of its current application. */
  private takeover: (() => Promise<void>) | undefined;
  private answerWaiters: Array<(answered: boolean) => void> = [];
  private resolveEnded: (cause: string) => void = () => {};
  /** Resolves with the hangup cause at CHANNEL_HANGUP_COMPLETE (a lingering controller can hold the rest). */
  readonly ended: Promise<string>;
  private resolveDestroyed: () => void = () => {};
  /** Resolves once CHANNEL_DESTROY has been fired and the channel is gone. */
  readonly destroyed: Promise<void>;
  private running = false;
  private activeApps = 0;
  private readonly appsIdle: Array<() => void> = [];

  constructor(ch: SimChannel, hooks: SessionHooks) {
    this.ch = ch;
    this.hooks = hooks;
    this.ended = new Promise((r) => (this.resolveEnded = r));
    this.destroyed = new Promise((r) => (this.resolveDestroyed = r));
    this.voice.on('said', (text, durationMs) => this.media.said(this.mediaNowMs(), text, durationMs));
  }

  /** A playback starts; call the result with the ms the caller heard when it stops. */
  playbackStarted(path: string): (playedMs: number) => void {
    return this.media.playbackStarted(this.mediaNowMs(), path);
  }

  /** Now on the media clock, forgetting media no recording can need any more. */
  private mediaNowMs(): number {
    const now = this.core.simNowMs();
    this.media.forgetBefore(this.recording?.startedMs ?? now);
    return now;
  }

  get core() {
    return this.ch.core;
  }

  /** Wait `ms` of simulated time, or until interrupted. `Infinity` waits for an interrupt only. */
  wait(ms: number, opts: { breakable: boolean; wantsMessages?: boolean; until?: Promise<unknown> }): Promise<Outcome> {
    if (!this.ch.isUp) return Promise.resolve('hangup');
    if (opts.wantsMessages === true && this.queue.length > 0) return Promise.resolve('message');
    return new Promise((resolve) => {
      let timer: { cancel(): void } | undefined;
      const waiter: Waiter = {
        breakable: opts.breakable,
        wantsMessages: opts.wantsMessages === true,
        finish: (outcome) => {
          if (!this.waiters.delete(waiter)) return;
          timer?.cancel();
          resolve(outcome);
        },
      };
      this.waiters.add(waiter);
      if (Number.isFinite(ms)) timer = this.core.schedule(ms, () => waiter.finish('elapsed'));
      opts.until?.then(
        () => waiter.finish('elapsed'),
        () => waiter.finish('elapsed'),
      );
    });
  }

  private interrupt(reason: StopReason): void {
    for (const w of [...this.waiters]) {
      if (reason === 'break' && !w.breakable) continue;
      w.finish(reason);
    }
  }

  /** uuid_break: stop the media application that is running; `all` also drops queued broadcasts. */
  breakMedia(all: boolean): void {
    if (all) {
      for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]?.broadcast !== undefined) this.queue.splice(i, 1);
    }
    this.interrupt('break');
  }

  enqueue(message: QueuedMessage): void {
    this.queue.push(message);
    for (const w of [...this.waiters]) if (w.wantsMessages) w.finish('message');
  }

  /** Resolves true once the channel is answered, false if it ends first. */
  whenAnswered(): Promise<boolean> {
    if (this.ch.answerState === 'answered') return Promise.resolve(true);
    if (!this.ch.isUp) return Promise.resolve(false);
    return new Promise((r) => this.answerWaiters.push(r));
  }

  notifyAnswered(answered: boolean): void {
    for (const r of this.answerWaiters.splice(0)) r(answered);
  }

  /** A `socket` application starts: a controller that let go of an earlier one no longer counts. */
  enterSocket(): void {
    this.leaving = false;
  }

  /** The `socket` application ends and the dialplan goes on (controller closed with `resume` set). */
  leaveSocket(): void {
    this.leaving = true;
    this.interrupt('leave');
  }

  private leaving = false;

  /** Leave the running application and run `fn` instead (uuid_bridge). */
  takeOver(fn: () => Promise<void>): void {
    this.takeover = fn;
    this.interrupt('transfer');
  }

  private get redirected(): boolean {
    return this.transferTarget !== undefined || this.takeover !== undefined;
  }

  transfer(extension: string): void {
    const ch = this.ch;
    this.transferTarget = extension;
    ch.transferMicros = this.core.nowMicros();
    // A transfer gives the channel a new caller profile at once (Transfer-Source, RDNIS = the number
    // dialled before) and detaches the other leg; the running application then ends.
    if (ch.profile !== undefined) {
      ch.profile = {
        ...ch.profile,
        destinationNumber: extension,
        rdnis: ch.profile.destinationNumber,
        transferSource: `${Math.floor(ch.transferMicros / 1e6)}:${ch.uuid}:uuid_transfer:${extension}/XML/default`,
      };
    }
    ch.other = undefined;
    this.interrupt('transfer');
  }

  hangup(cause: string, opts: { fromController?: boolean } = {}): void {
    const ch = this.ch;
    if (!ch.isUp) return;
    this.hangupFromController = opts.fromController === true;
    ch.hangupCause = cause;
    ch.answerState = 'hangup';
    ch.hangupMicros = this.core.nowMicros();
    ch.setVar('hangup_cause', cause);
    ch.setVar('hangup_cause_q850', String(q850(cause)));
    ch.fire('CHANNEL_HANGUP');
    this.core.log({ level: 5, channel: 0, file: 'switch_channel.c', func: 'switch_channel_perform_hangup', line: 3428, uuid: ch.uuid, text: `Hangup ${ch.name} [${ch.state}] [${cause}]` });
    this.notifyAnswered(false);
    this.hooks.onHangup(this);
    this.interrupt('hangup');
    if (!this.running) void this.teardown();
  }

  /** Run the dialplan (and any transfers) to the end, then tear down. */
  async run(apps: AppCall[]): Promise<void> {
    this.running = true;
    let list: AppCall[] | undefined = apps;
    try {
      while (list !== undefined && this.ch.isUp) {
        const current: AppCall[] = list;
        list = undefined;
        for (const call of current) {
          if (!this.ch.isUp) break;
          await this.exec(call);
          if (this.redirected) break;
        }
        if (this.takeover !== undefined && this.ch.isUp) {
          const fn = this.takeover;
          this.takeover = undefined;
          await fn();
          break;
        }
        if (this.transferTarget !== undefined && this.ch.isUp) {
          list = this.reroute(this.transferTarget);
          this.transferTarget = undefined;
          if (list === undefined) this.hangup('NO_ROUTE_DESTINATION');
          continue;
        }
        // Between and after dialplan apps the session still runs queued messages (inbound sendmsg).
        await this.drainMessages();
      }
      if (this.ch.isUp) this.hangup('NORMAL_CLEARING');
    } finally {
      this.running = false;
    }
    await this.teardown();
  }

  /** uuid_transfer: back through CS_ROUTING (call state RINGING) to CS_EXECUTE of the new extension. */
  private reroute(target: string): AppCall[] | undefined {
    const ch = this.ch;
    ch.state = 'CS_ROUTING';
    ch.setCallState('RINGING');
    ch.fire('CHANNEL_STATE');
    const list = this.hooks.route(this, target);
    if (list === undefined) return undefined;
    ch.state = 'CS_EXECUTE';
    if (ch.answerState === 'answered') ch.setCallState('ACTIVE');
    ch.fire('CHANNEL_STATE');
    return list;
  }

  /** A leg with no application of its own (bridged B-leg): just wait for the hangup, then tear down. */
  async runIdle(): Promise<void> {
    this.running = true;
    while (this.ch.isUp) await this.wait(Number.POSITIVE_INFINITY, { breakable: false });
    // Applications started on this leg from outside (originate's &app) finish their own events first.
    while (this.activeApps > 0) await new Promise<void>((r) => this.appsIdle.push(r));
    this.running = false;
    await this.teardown();
  }

  /** Execute one application with CHANNEL_EXECUTE / _COMPLETE around it. */
  async exec(original: AppCall, applicationUuid: string = randomUUID()): Promise<string> {
    const ch = this.ch;
    // Application data is expanded against the channel variables (${uuid}, ${caller_id_number}, …).
    const call: AppCall =
      original.arg === undefined || !original.arg.includes('${')
        ? original
        : { ...original, arg: original.arg.replace(/\$\{([A-Za-z0-9_-]+)\}/g, (_m, name: string) => ch.getVar(name) ?? '') };
    const record: ExecutedApp = { app: call.app, arg: call.arg, applicationUuid };
    this.executed.push(record);
    if (call.arg !== undefined) ch.setVar('current_application_data', call.arg);
    ch.setVar('current_application', call.app);
    this.core.log({
      level: 6, channel: 1, file: 'switch_core_session.c', func: 'switch_core_session_exec', line: 2902, uuid: ch.uuid,
      text: `EXECUTE [depth=0] ${ch.name} ${call.app}(${call.arg ?? ''})`, plain: true,
    });
    const appHeaders: HeaderList = [['Application', call.app]];
    if (call.arg !== undefined) appHeaders.push(['Application-Data', call.arg]);
    ch.fire('CHANNEL_EXECUTE', { post: [...appHeaders, ['Application-UUID', applicationUuid]] });
    let response = '_none_';
    this.activeApps++;
    try {
      response = await this.hooks.runApp(this, call);
    } catch (err) {
      response = `-ERR ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this.activeApps--;
    }
    record.response = response;
    if (call.app !== 'socket' && call.app !== 'park') this.lastResponse = response;
    ch.setVar('last_app', call.app);
    ch.fire('CHANNEL_EXECUTE_COMPLETE', {
      post: [...appHeaders, ['Application-Response', response], ['Application-UUID', applicationUuid]],
    });
    if (this.activeApps === 0) for (const r of this.appsIdle.splice(0)) r();
    return response;
  }

  /** Run every queued message now (used between dialplan apps and by park / socket loops). */
  async drainMessages(): Promise<void> {
    while (this.ch.isUp && this.queue.length > 0) {
      const m = this.queue.shift();
      if (m !== undefined) await this.runMessage(m);
    }
  }

  /** park / socket: serve queued messages until hangup or transfer. */
  async serveMessages(): Promise<StopReason> {
    for (;;) {
      // The controller can let go (connect, resume, exit) before the channel is parked.
      if (this.leaving) return 'leave';
      const outcome = await this.wait(Number.POSITIVE_INFINITY, { breakable: false, wantsMessages: true });
      if (outcome === 'hangup' || outcome === 'transfer' || outcome === 'leave') return outcome;
      await this.drainMessages();
      if (this.leaving) return 'leave';
      if (!this.ch.isUp) return 'hangup';
      if (this.redirected) return 'transfer';
    }
  }

  private async runMessage(m: QueuedMessage): Promise<void> {
    this.messagesRun++;
    if (m.command === 'hangup') {
      this.hangup(m.cause ?? 'NORMAL_CLEARING', { fromController: m.fromController });
    } else if (m.command === 'execute' && m.app !== undefined) {
      for (let i = 0; i < Math.max(1, m.loops) && this.ch.isUp; i++) {
        await this.exec({ app: m.app, arg: m.arg }, m.eventUuid);
      }
    }
    // FreeSWITCH fires the parsed message as PRIVATE_COMMAND after running it; the very first message
    // of a session (the answer in the traces) was not seen on the wire.
    if (m.broadcast !== undefined) fireBroadcastCommand(this.ch, m);
    else if (this.messagesRun > 1 || m.command !== 'execute') firePrivateCommand(this.ch, m);
  }

  /** Messages still queued at hangup are fired as PRIVATE_COMMAND without running. */
  flushQueueAtHangup(): void {
    for (const m of this.queue.splice(0)) {
      if (m.broadcast !== undefined) fireBroadcastCommand(this.ch, m);
      else firePrivateCommand(this.ch, m);
    }
  }

  private tornDown = false;

  private async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    const ch = this.ch;
    this.flushQueueAtHangup();
    ch.setState('CS_HANGUP');
    if (this.recording !== undefined) this.stopRecording('success-silence');
    ch.setCallState('HANGUP');
    setEndVars(this.ch, this.executed.at(-1)?.app ?? '');
    ch.state = 'CS_REPORTING';
    ch.fire('CHANNEL_STATE');
    ch.fire('CHANNEL_HANGUP_COMPLETE', { pre: [['Hangup-Cause', ch.hangupCause ?? 'NORMAL_CLEARING']] });
    this.hooks.onHangupComplete(this);
    this.resolveEnded(ch.hangupCause ?? 'NORMAL_CLEARING');
    await this.hooks.destroyGate(this);
    ch.fire('CHANNEL_DESTROY');
    ch.state = 'CS_DESTROY';
    ch.fire('CHANNEL_STATE');
    ch.destroyed = true;
    this.hooks.onDestroyed(this);
    this.resolveDestroyed();
  }

  /** record_session / uuid_record (both sides), or the `record` application (`callerOnly`). */
  startRecording(path: string, opts: { callerOnly?: boolean } = {}): void {
    const startedMs = this.core.simNowMs();
    this.media.forgetBefore(startedMs);
    // FreeSWITCH reads RECORD_STEREO when the recording starts.
    const stereo = this.ch.getVar('RECORD_STEREO') === 'true';
    this.recording = { path, startedMicros: this.core.nowMicros(), startedMs, stereo, callerOnly: opts.callerOnly === true };
    this.ch.fire('RECORD_START', { post: [['Record-File-Path', path]] });
    this.ch.fire('MEDIA_BUG_START', { pre: [['Media-Bug-Function', 'session_record'], ['Media-Bug-Target', path]] });
  }

  stopRecording(cause: string): void {
    const rec = this.recording;
    if (rec === undefined) return;
    this.recording = undefined;
    const ms = Math.round((this.core.nowMicros() - rec.startedMicros) / 1000);
    const ch = this.ch;
    // The file is closed (complete) before RECORD_STOP goes out.
    if (this.core.opts.writeRecordings) this.writeFile(rec);
    ch.setVar('record_samples', String(ms * 8));
    ch.setVar('record_seconds', String(Math.round(ms / 1000)));
    ch.setVar('record_ms', String(ms));
    ch.setVar('record_completion_cause', cause);
    ch.fire('RECORD_STOP', { post: [['Record-File-Path', rec.path], ['Record-Completion-Cause', cause]] });
    ch.fire('MEDIA_BUG_STOP', { pre: [['Media-Bug-Function', 'session_record'], ['Media-Bug-Target', rec.path]] });
  }

  private writeFile(rec: NonNullable<CallSession['recording']>): void {
    try {
      writeRecording({
        path: rec.path,
        stereo: rec.stereo,
        callerOnly: rec.callerOnly,
        startMs: rec.startedMs,
        endMs: this.core.simNowMs(),
        callerSpeaks: this.voice.speaks,
        timeline: this.media,
      });
    } catch (err) {
      // FreeSWITCH logs a file it cannot open and records nothing; the events still go out.
      this.core.opts.logger.warn({ uuid: this.ch.uuid, path: rec.path, err: (err as Error).message }, 'recording file could not be written');
    }
  }
}
