// The events and variables around a session's messages and its end: PRIVATE_COMMAND (rule 13), the
// two-Event-Name COMMAND after uuid_broadcast (rule 14), and the end-of-call variables of HANGUP_COMPLETE.
import { EVENT_KINDS } from './catalog.ts';
import type { SimChannel } from './channel.ts';
import type { QueuedMessage } from './session.ts';
import type { HeaderList } from './wire.ts';

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
