// Dialplan applications the simulator implements. Each returns its Application-Response the way
// FreeSWITCH reports it (`_none_`, `FILE PLAYED`, `PLAYBACK ERROR`, …). Events and their order follow the
// traces (see test/fixtures/README.md).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalStreams } from './local-streams.ts';
import { playbackDurationMs, playbackFileType, wavFileDurationMs } from './media.ts';
import type { AppCall, CallSession } from './session.ts';

export interface AppContext {
  /** How long a playback of a file lasts (simulated ms), unless it is a WAV file on disk. */
  fileDurationMs: number;
  /** Music on hold: the streams a `local_stream://<name>` playback can open. */
  localStreams: LocalStreams;
  /**
   * FreeSWITCH's own view of the file system (SimulatorOptions.fileRoot): a file played by absolute path `/x`
   * is `<fileRoot>/x`, and one that is not there fails. Undefined: any file "plays" (see fileDurationMs).
   */
  fileRoot?: string;
  /** The `bridge` application: dial `dest` and stay bridged until one side ends. */
  bridge(session: CallSession, dest: string): Promise<string>;
  /** The `socket` application (outbound ESL to the controller). */
  socket(session: CallSession, arg: string): Promise<string>;
}

export function markAnswered(session: CallSession): void {
  const ch = session.ch;
  if (ch.answerState === 'answered' || !ch.isUp) return;
  ch.answerState = 'answered';
  ch.answeredMicros = session.core.nowMicros();
  ch.setVar('endpoint_disposition', 'ANSWER');
  ch.fire('CHANNEL_ANSWER');
  ch.setCallState('ACTIVE');
  session.notifyAnswered(true);
}

export function markPreAnswered(session: CallSession): void {
  const ch = session.ch;
  if (ch.answerState !== 'ringing' || !ch.isUp) return;
  ch.answerState = 'early';
  ch.progressMediaMicros = session.core.nowMicros();
  ch.setVar('endpoint_disposition', 'EARLY MEDIA');
  ch.fire('CHANNEL_PROGRESS_MEDIA');
  ch.setCallState('EARLY');
}

const LOCAL_STREAM = 'local_stream://';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function playback(session: CallSession, arg: string, ctx: AppContext): Promise<string> {
  const ch = session.ch;
  if (!ch.isUp) return 'PLAYBACK ERROR';
  // A stream that is not configured (or mod_local_stream not loaded) cannot be opened: switch_ivr_play_file
  // gives up before PLAYBACK_START and the application answers FILE NOT FOUND; the caller hears nothing.
  let closeStream: (() => void) | undefined;
  if (arg.startsWith(LOCAL_STREAM)) {
    closeStream = ctx.localStreams.open(arg.slice(LOCAL_STREAM.length), ch.readCodec?.rate ?? 8000);
    if (closeStream === undefined) return 'FILE NOT FOUND';
  }
  // switch_ivr_play_file opens the file before anything is announced: one FreeSWITCH cannot see (another
  // mount, another machine) fails FILE NOT FOUND with no PLAYBACK_START, like an unknown stream.
  let localPath = arg;
  if (ctx.fileRoot !== undefined && arg.startsWith('/')) {
    localPath = join(ctx.fileRoot, arg);
    if (!(await isFile(localPath))) return 'FILE NOT FOUND';
  }
  const file: Array<[string, string]> = [
    ['Playback-File-Type', playbackFileType(arg)],
    ['Playback-File-Path', arg],
  ];
  ch.fire('PLAYBACK_START', { post: file });
  const startedAt = Date.now();
  const heard = session.playbackStarted(arg);
  // A WAV file on disk (synthesized speech, say) plays for its real length. The wait starts at once, so a
  // uuid_break that comes while the header is read still stops this playback.
  let duration = Number.POSITIVE_INFINITY;
  let timer: { cancel(): void } | undefined;
  let stopped = false;
  const played = wavFileDurationMs(localPath).then(
    (wavMs) =>
      new Promise<void>((resolve) => {
        duration = playbackDurationMs(arg, wavMs ?? ctx.fileDurationMs);
        if (!stopped && Number.isFinite(duration)) timer = session.core.schedule(duration, resolve);
      }),
  );
  const outcome = await session.wait(Number.POSITIVE_INFINITY, { breakable: true, until: played });
  stopped = true;
  timer?.cancel();
  closeStream?.();
  const playedMs = Number.isFinite(duration) && outcome === 'elapsed' ? duration : (Date.now() - startedAt) / session.core.opts.timeScale;
  session.playbacks.push({
    path: arg,
    status: outcome === 'elapsed' ? 'done' : outcome === 'hangup' ? 'hangup' : 'break',
    playedMs: Math.min(playedMs, duration),
  });
  heard(Math.min(playedMs, duration));
  const samples = Math.round(playedMs * 8);
  ch.setVar('playback_last_offset_pos', String(samples));
  ch.setVar('playback_seconds', String(Math.floor(playedMs / 1000)));
  ch.setVar('playback_ms', String(Math.round(playedMs)));
  ch.setVar('playback_samples', String(samples));
  // A hangup still reports `done` (the traces show it), with PLAYBACK ERROR as the app response. So does a
  // controller letting go with `resume`: FreeSWITCH resets the channel (CS_RESET), the channel is no longer
  // ready and the playback gives up as it does on a hangup.
  const gaveUp = outcome === 'hangup' || outcome === 'leave';
  ch.fire('PLAYBACK_STOP', { post: [...file, ['Playback-Status', outcome === 'break' ? 'break' : 'done']] });
  return gaveUp ? 'PLAYBACK ERROR' : 'FILE PLAYED';
}

export async function runApp(session: CallSession, call: AppCall, ctx: AppContext): Promise<string> {
  const ch = session.ch;
  const arg = call.arg ?? '';
  switch (call.app) {
    case 'answer':
      markAnswered(session);
      return '_none_';
    case 'pre_answer':
      markPreAnswered(session);
      return '_none_';
    case 'playback':
      return playback(session, arg, ctx);
    case 'sleep': {
      const ms = Number.parseInt(arg, 10);
      await session.wait(Number.isFinite(ms) ? ms : 0, { breakable: true });
      return '_none_';
    }
    case 'record_session':
      if (session.recording === undefined && ch.isUp) session.startRecording(arg);
      return '_none_';
    case 'stop_record_session':
      session.stopRecording('success');
      return '_none_';
    case 'park': {
      ch.fire('CHANNEL_PARK');
      await session.serveMessages();
      ch.fire('CHANNEL_UNPARK');
      // park reports whatever the last application answered (FILE PLAYED in the media-control trace).
      return session.lastResponse;
    }
    case 'hangup':
      session.hangup(arg === '' ? 'NORMAL_CLEARING' : arg);
      return '_none_';
    case 'set':
    case 'export': {
      const i = arg.indexOf('=');
      if (i > 0) ch.setVar(arg.slice(0, i), arg.slice(i + 1) === '' ? undefined : arg.slice(i + 1));
      return '_none_';
    }
    case 'unset':
      ch.setVar(arg, undefined);
      return '_none_';
    case 'bridge':
      return ctx.bridge(session, arg);
    case 'socket':
      return ctx.socket(session, arg);
    case 'transfer': {
      const [ext] = arg.split(/\s+/);
      if (ext !== undefined && ext !== '') session.transfer(ext);
      return '_none_';
    }
    case 'deflect':
      // A SIP REFER: the far end (3CX) takes the call back and ends this leg with a BYE.
      session.core.schedule(50, () => session.hangup('NORMAL_CLEARING'));
      return '_none_';
    case 'speak':
      return playback(session, `say://${arg}`, ctx);
    case 'endless_playback':
      return playback(session, `tone_stream://%(1000,0,440);loops=-1`, ctx);
    case 'echo':
      await session.wait(Number.POSITIVE_INFINITY, { breakable: true });
      return '_none_';
    case 'record': {
      // record <path> [<time_limit_secs>]: RECORD_START … RECORD_STOP for the limit (or until broken).
      const [path = '', limit] = arg.split(/\s+/);
      const secs = Number(limit);
      session.startRecording(path, { callerOnly: true });
      const outcome = await session.wait(Number.isFinite(secs) && secs > 0 ? secs * 1000 : Number.POSITIVE_INFINITY, { breakable: true });
      session.stopRecording(outcome === 'elapsed' ? 'success-maxtime' : 'success');
      return '_none_';
    }
    case 'sched_hangup': {
      const secs = Number.parseInt(arg.replace(/^\+/, ''), 10);
      if (Number.isFinite(secs)) session.core.schedule(secs * 1000, () => session.hangup('ALLOTTED_TIMEOUT'));
      return '_none_';
    }
    case 'multiset':
      for (const kv of arg.split(/\s+/)) {
        const i = kv.indexOf('=');
        if (i > 0) ch.setVar(kv.slice(0, i), kv.slice(i + 1));
      }
      return '_none_';
    case 'log':
    case 'info':
    case 'ring_ready':
    case 'respond':
    case 'send_dtmf':
    case 'start_dtmf':
    case 'stop_dtmf':
    case 'event':
    case 'displace_session':
      return '_none_';
    default:
      // FreeSWITCH: an application that does not exist fails the call with DESTINATION_OUT_OF_ORDER.
      session.hangup('DESTINATION_OUT_OF_ORDER');
      return '_none_';
  }
}
