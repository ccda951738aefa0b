// mod_audio_fork as recorded (README "mod_audio_fork findings"): `uuid_audio_fork <uuid> start <ws-url>
// <mono|mixed|stereo> <8k|16k> [metadata]` answers +OK Success at once and connects in the background; the
// metadata goes first as a text frame, then 20 ms binary frames of 16-bit little-endian PCM (640 bytes at
// 16k, 320 at 8k). Server JSON messages become CUSTOM mod_audio_fork::* events; a refused connection still
// answered +OK and is reported by mod_audio_fork::connect_failed. The frames are the caller's voice
// (caller-voice.ts): a 400 Hz tone, or silence and spoken sentences.
import type { SimCore } from './core.ts';
import type { CallSession } from './session.ts';
import { WsClient } from './ws-client.ts';

const KIND = { file: 'mod_audio_fork.c', func: 'responseHandler', line: 22, vars: true };
const BUG: Array<[string, string]> = [
  ['Media-Bug-Function', 'audio_fork'],
  ['Media-Bug-Target', 'N/A'],
];

interface Fork {
  session: CallSession;
  ws: WsClient;
  rate: 8000 | 16000;
  playCount: number;
  /** With pacing by clock: when this fork's next frame is due (performance.now() ms). */
  nextFrameAtMs: number;
}

/** Sees each frame just before it goes onto a fork's WebSocket (see SimulatorOptions.onForkFrame). */
export type ForkFrameHook = (uuid: string, frame: Buffer) => void;

export interface AudioForksOptions {
  onFrame?: ForkFrameHook;
  /** See SimulatorOptions.forkFramesOnClock. */
  paceByClock?: boolean;
}

export class AudioForks {
  private readonly core: SimCore;
  private readonly onFrame: ForkFrameHook | undefined;
  private readonly paceByClock: boolean;
  private readonly forks = new Map<string, Fork>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(core: SimCore, options: AudioForksOptions = {}) {
    this.core = core;
    this.onFrame = options.onFrame;
    this.paceByClock = options.paceByClock ?? false;
  }

  get active(): number {
    return this.forks.size;
  }

  /** The `uuid_audio_fork` api. */
  command(session: CallSession | undefined, args: string[]): string {
    const [, verb, ...rest] = args;
    if (args.length < 2) return '-USAGE: <uuid> [start | stop | send_text | pause | resume | graceful-shutdown ] [wss-url | path] [mono | mixed | stereo] [8000 | 16000 | 24000 | 32000 | 64000] [bugname] [metadata]\n';
    if (session === undefined || !session.ch.isUp) return '-ERR Operation Failed\n';
    const fork = this.forks.get(session.ch.uuid);
    switch (verb) {
      case 'start': {
        const [url, , rate, ...meta] = rest;
        if (fork !== undefined || url === undefined || meta.length > 2) return '-ERR Operation Failed\n';
        // An optional bug name may come before the metadata; the metadata is the last word.
        const metadata = meta.length === 2 ? meta[1] : meta[0]?.startsWith('{') === true ? meta[0] : undefined;
        this.start(session, url, rate === '8k' || rate === '8000' ? 8000 : 16000, metadata);
        return '+OK Success\n';
      }
      case 'stop':
        if (fork === undefined || rest.length > 1) return '-ERR Operation Failed\n';
        this.stop(session, rest[0]);
        return '+OK Success\n';
      case 'send_text':
        // The argument string is split on spaces: text with a space fails (recorded).
        if (fork === undefined || rest.length !== 1 || rest[0] === undefined) return '-ERR Operation Failed\n';
        fork.ws.sendText(rest[0]);
        return '+OK Success\n';
      case 'pause':
      case 'resume':
      case 'graceful-shutdown':
        return fork === undefined ? '-ERR Operation Failed\n' : '+OK Success\n';
      default:
        return '-ERR Operation Failed\n';
    }
  }

  private fire(session: CallSession, what: string, body?: string): void {
    if (!session.ch.isUp && session.ch.destroyed) return;
    session.ch.fire('CUSTOM', { subclass: `mod_audio_fork::${what}`, kind: KIND, body });
  }

  private start(session: CallSession, url: string, rate: 8000 | 16000, metadata: string | undefined): void {
    session.ch.fire('MEDIA_BUG_START', { pre: BUG });
    const ws = new WsClient(url, { protocol: 'audio.drachtio.org', connectTimeoutMs: 3000 });
    const fork: Fork = { session, ws, rate, playCount: 0, nextFrameAtMs: 0 };
    // The media bug stays attached after a failed connect, until stop or hangup.
    this.forks.set(session.ch.uuid, fork);
    ws.on('open', () => {
      if (metadata !== undefined) ws.sendText(metadata);
      session.voice.listen(rate);
      fork.nextFrameAtMs = performance.now();
      this.fire(session, 'connect');
      this.ensureTicker();
    });
    ws.on('error', () => this.fire(session, 'connect_failed', '{"reason":"Unable to connect"}'));
    ws.on('close', () => {
      if (this.forks.get(session.ch.uuid) !== fork) return;
      session.voice.stopListening();
      this.fire(session, 'disconnect');
    });
    ws.on('text', (text) => this.onServerText(fork, text));
  }

  /** Stop the fork: optional last text frame, close 1000, MEDIA_BUG_STOP. */
  stop(session: CallSession, finalText?: string): void {
    const fork = this.forks.get(session.ch.uuid);
    if (fork === undefined) return;
    this.forks.delete(session.ch.uuid);
    session.voice.stopListening();
    if (finalText !== undefined) fork.ws.sendText(finalText);
    fork.ws.close(1000);
    session.ch.fire('MEDIA_BUG_STOP', { pre: BUG });
    if (this.forks.size === 0) this.stopTicker();
  }

  stopAll(): void {
    for (const fork of [...this.forks.values()]) {
      this.forks.delete(fork.session.ch.uuid);
      fork.session.voice.stopListening();
      fork.ws.destroy();
    }
    this.stopTicker();
  }

  private onServerText(fork: Fork, text: string): void {
    let msg: { type?: unknown; data?: unknown };
    try {
      msg = JSON.parse(text) as { type?: unknown; data?: unknown };
    } catch {
      return; // not JSON: FreeSWITCH only logs it
    }
    const data = msg.data === undefined ? undefined : JSON.stringify(msg.data);
    switch (msg.type) {
      case 'transcription':
      case 'transfer':
      case 'error':
      case 'disconnect':
        this.fire(fork.session, msg.type, data);
        break;
      case 'json':
        this.fire(fork.session, 'json', text);
        break;
      case 'playAudio': {
        const d = { ...(msg.data as Record<string, unknown>) };
        delete d.audioContent;
        d.file = `/tmp/${fork.session.ch.uuid}_${fork.playCount++}.tmp.r8`;
        this.fire(fork.session, 'play_audio', JSON.stringify(d));
        break;
      }
      case 'killAudio':
        this.fire(fork.session, 'kill_audio');
        // killAudio also breaks the application that is running (CF_BREAK), as recorded.
        fork.session.breakMedia(false);
        break;
      default:
        break; // unknown type: only a log line in FreeSWITCH
    }
  }

  private ensureTicker(): void {
    if (this.ticker !== undefined) return;
    // One timer for every fork: each tick sends each open fork a 20 ms frame of the caller's audio (or, paced
    // by the clock, every frame that is due on that fork's own 20 ms clock).
    this.ticker = setInterval(() => this.tick(), this.paceByClock ? 1 : Math.max(1, 20 * this.core.opts.timeScale));
    this.ticker.unref();
  }

  private stopTicker(): void {
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const period = 20 * this.core.opts.timeScale;
    for (const fork of this.forks.values()) {
      if (!fork.ws.isOpen) continue;
      if (!this.paceByClock) this.sendFrame(fork);
      else {
        for (; fork.nextFrameAtMs <= now; fork.nextFrameAtMs += period) this.sendFrame(fork);
      }
    }
  }

  private sendFrame(fork: Fork): void {
    const frame = fork.session.voice.nextFrame(fork.rate);
    this.onFrame?.(fork.session.ch.uuid, frame);
    fork.ws.sendBinary(frame);
  }
}
