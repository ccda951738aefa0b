// The call state machine's commands, performed on the call's own ESL connection. Answer, recording and
// announcement go out back to back (FreeSWITCH queues them and runs them in order, event-lock); the
// greeting and the bridge are awaited because their end moves the call on.
import type { CallCommand } from '../core/call-machine.ts';
import type { ChannelControl } from '../esl/channel-control.ts';
import type { Prompt } from './spoken-text.ts';

export interface CallCommandContext {
  channel: ChannelControl;
  recordingPath: string;
  greetingSound: string;
  greetingTimeoutMs: number;
  /** The channel id, for commands that must not wait behind the application running now. */
  fsUuid: string;
  /** True once the call was answered: a hangup then must cut through whatever is running (a bridge that is dialling). */
  answered: boolean;
  /** An AI conversation plays its own first words instead of the greeting sound. */
  conversationGreets: boolean;
  greetingSent: () => void;
  greetingEnded: (interrupted: boolean, data: Record<string, unknown>) => void;
  /** The bridge application returned (the call was connected and let go, or never connected). */
  bridgeReturned: (cause: string) => void;
  /** The call is over: release what it holds. */
  ended: () => void;
  /** How the call says a sentence now: its TTS file, or FreeSWITCH's own voice when there is none. */
  say: (text: string) => Prompt;
  /** After hours: say the on-call offer and listen for its digits (the session reports the choice). */
  urgentOffer: (offer: { prompt: string; digits: string }) => void;
  background: (what: string, promise: Promise<unknown>) => void;
  failed: (what: string, error: unknown) => void;
}

/**
 * Records the call in stereo (RECORD_STEREO: the caller left, what the caller hears right), so the
 * transcription can tell the speakers apart by channel. Both go out back to back and run in order.
 */
export function startRecording(ctx: Pick<CallCommandContext, 'channel' | 'recordingPath' | 'background'>): void {
  ctx.background('set RECORD_STEREO', ctx.channel.setVar('RECORD_STEREO', 'true'));
  ctx.background('record_session', ctx.channel.recordSession(ctx.recordingPath));
}

/** Longest a bridged call may last before its bridge command stops waiting (a day). */
const BRIDGE_TIMEOUT_MS = 24 * 60 * 60 * 1000;

export function performCallCommand(command: CallCommand, ctx: CallCommandContext): void {
  const { channel } = ctx;
  switch (command.type) {
    case 'answer':
      ctx.background('answer', channel.answer());
      return;
    case 'start_recording':
      startRecording(ctx);
      return;
    case 'announce':
      ctx.background('announce', channel.playQueued(ctx.say(command.sound)));
      return;
    case 'play_greeting': {
      if (ctx.conversationGreets) return;
      const playback = channel.play({ app: 'playback', arg: ctx.greetingSound }, ctx.greetingTimeoutMs);
      ctx.greetingSent();
      playback.then(
        (complete) => {
          const response = complete.headers.get('Application-Response') ?? '';
          ctx.greetingEnded(response !== 'FILE PLAYED', { response });
        },
        (error: unknown) => {
          ctx.failed('playback', error);
          // A greeting that could not be played must not leave the caller in limbo: go on to hold.
          ctx.greetingEnded(true, { error: (error as Error).message });
        },
      );
      return;
    }
    case 'hold':
      ctx.background('park', channel.park());
      return;
    case 'bridge':
      channel.bridge(command.target, BRIDGE_TIMEOUT_MS).then(
        (complete) => ctx.bridgeReturned(complete.headers.get('Application-Response') ?? 'UNKNOWN'),
        (error: unknown) => ctx.failed('bridge', error),
      );
      return;
    case 'hangup':
      // A queued `hangup` message would wait for the running application (a bridge still dialling, say);
      // `uuid_kill` ends the channel at once.
      if (ctx.answered) ctx.background('uuid_kill', channel.kill(ctx.fsUuid, command.cause));
      else ctx.background('hangup', channel.hangup(command.cause));
      return;
    case 'release':
      ctx.ended();
      return;
    case 'urgent_offer':
      ctx.urgentOffer({ prompt: command.prompt, digits: command.digits });
      return;
  }
}
