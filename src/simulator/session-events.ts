// The events and variables around a session's messages and its end: PRIVATE_COMMAND (rule 13), the
// two-Event-Name COMMAND after uuid_broadcast (rule 14), and the end-of-call variables of HANGUP_COMPLETE.
import { EVENT_KINDS } from './catalog.ts';
import type { SimChannel } from './channel.ts';
import type { HeaderList } from './wire.ts';

/** A sendmsg (or uuid_broadcast) waiting in the channel's private queue. */
export interface QueuedMessage {
  readonly command: 'execute' | 'hangup' | 'other';
  readonly app?: string;
  readonly arg?: string;
  readonly eventUuid?: string;
  readonly cause?: string;
  readonly loops: number;
  /** Client headers as sent (echoed in PRIVATE_COMMAND). */
  readonly headers: HeaderList;
  /** The command text (PRIVATE_COMMAND's `Command`). */
  readonly raw: string;
  /** uuid_broadcast: fires the two-Event-Name COMMAND event when done (rule 14). */
  readonly broadcast?: { calledAtMicros: number };
  /** Set when the controller asked for this hangup (linger notice then comes after HANGUP_COMPLETE). */
  readonly fromController?: boolean;
}

export function firePrivateCommand(ch: SimChannel, m: QueuedMessage): void {
  const ev = ch.buildEvent('PRIVATE_COMMAND', { kind: EVENT_KINDS.PRIVATE_COMMAND });
  // No Event-Name first: Command and the client's own headers lead (rule 13).
  const vars = ev.headers.filter(([k]) => !k.startsWith('variable_'));
  ch.core.fire({ ...ev, headers: [['Command', m.raw], ...m.headers, ...vars] });
}

export function fireBroadcastCommand(ch: SimChannel, m: QueuedMessage): void {
  const first: HeaderList = [
    ['Event-Name', 'COMMAND'],
    ...ch.core.standardHeaders({ file: 'switch_ivr_async.c', func: 'switch_ivr_broadcast', line: 5731 }, m.broadcast?.calledAtMicros),
    ...m.headers,
  ];
  const tail = ch.buildEvent('PRIVATE_COMMAND', { kind: EVENT_KINDS.PRIVATE_COMMAND });
  ch.core.fire({ name: 'COMMAND', uniqueId: ch.uuid, headers: [...first, ...tail.headers] });
}

export function setEndVars(ch: SimChannel, lastApp: string): void {
  const start = ch.createdMicros;
  const end = ch.hangupMicros || ch.core.nowMicros();
  const answered = ch.answeredMicros;
  const sec = (us: number) => String(Math.floor(us / 1_000_000));
  ch.setVar('start_epoch', sec(start));
  ch.setVar('start_uepoch', String(start));
  ch.setVar('answer_epoch', sec(answered));
  ch.setVar('answer_uepoch', String(answered));
  ch.setVar('end_epoch', sec(end));
  ch.setVar('end_uepoch', String(end));
  ch.setVar('last_app', lastApp);
  ch.setVar('duration', sec(end - start));
  ch.setVar('billsec', answered > 0 ? sec(end - answered) : '0');
  ch.setVar('mduration', String(Math.floor((end - start) / 1000)));
  ch.setVar('billmsec', answered > 0 ? String(Math.floor((end - answered) / 1000)) : '0');
  if (answered > 0 && ch.name.startsWith('sofia/')) setRtpStats(ch, (end - answered) / 1000);
}

/**
 * FreeSWITCH's statistics of the inbound RTP stream (a few of the `rtp_audio_in_*` variables it sets at
 * hangup on a media channel). 50 packets a second at 20 ms ptime; a simulated line's MOS and loss come from
 * the `sim_rtp_mos` / `sim_rtp_loss_percent` variables when a test set them, otherwise a clean line.
 */
function setRtpStats(ch: SimChannel, answeredMs: number): void {
  const expected = Math.max(1, Math.round(answeredMs / 20));
  const lossPercent = Number(ch.getVar('sim_rtp_loss_percent') ?? '0');
  const skipped = Math.round((expected * lossPercent) / 100);
  ch.setVar('rtp_audio_in_packet_count', String(expected - skipped));
  ch.setVar('rtp_audio_in_skip_packet_count', String(skipped));
  ch.setVar('rtp_audio_in_jitter_max_variance', lossPercent > 0 ? '120.50' : '0.00');
  ch.setVar('rtp_audio_in_mos', Number(ch.getVar('sim_rtp_mos') ?? '4.50').toFixed(2));
}

const Q850: Record<string, number> = {
  NORMAL_CLEARING: 16,
  USER_BUSY: 17,
  NO_USER_RESPONSE: 18,
  NO_ANSWER: 19,
  CALL_REJECTED: 21,
  DESTINATION_OUT_OF_ORDER: 27,
  NORMAL_TEMPORARY_FAILURE: 41,
  NO_ROUTE_DESTINATION: 3,
  ORIGINATOR_CANCEL: 487,
  MANAGER_REQUEST: 503,
};

export function q850(cause: string): number {
  return Q850[cause] ?? 16;
}
