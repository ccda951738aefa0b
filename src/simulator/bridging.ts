// Bridging two legs: the `bridge` application (dial, then stay bridged until one side ends) and the
// `uuid_bridge` api (two running channels leave what they do and are bridged), with the events the
// bridge / transfer traces show.
import { EVENT_KINDS } from './catalog.ts';
import { markAnswered } from './apps.ts';
import { dialTargets } from './dial-string.ts';
import type { Switchboard } from './switchboard.ts';
import type { CallSession } from './session.ts';

/** mod_sofia tells a SIP phone who it is now talking to. */
function callUpdate(s: CallSession, peer: CallSession, name: string | undefined, number: string | undefined): void {
  if (!s.ch.name.startsWith('sofia/')) return;
  s.ch.fire('CALL_UPDATE', {
    kind: { file: 'mod_sofia.c', func: 'sofia_receive_message', line: 2100, vars: true },
    pre: [
      ['Direction', 'SEND'],
      ['Sent-Callee-ID-Name', name ?? ''],
      ['Sent-Callee-ID-Number', number ?? ''],
      ['Bridged-To', peer.ch.uuid],
    ],
  });
}

/** The `bridge` application on `a` to `dest`. */
export async function bridgeApp(engine: Switchboard, a: CallSession, dest: string): Promise<string> {
  if (!a.ch.isUp) return '_none_';
  if (a.ch.callState === 'ACTIVE') a.ch.setCallState('RING_WAIT');
  const { cause, session: b } = await dialTargets(engine, { dial: dest, caller: a });
  if (b === undefined || !a.ch.isUp) {
    a.ch.setVar('originate_disposition', cause ?? 'ORIGINATOR_CANCEL');
    a.ch.setVar('DIALSTATUS', cause === 'USER_BUSY' ? 'BUSY' : 'FAIL');
    if (b !== undefined) b.hangup('ORIGINATOR_CANCEL');
    if (a.ch.isUp && a.ch.callState === 'RING_WAIT') a.ch.setCallState('ACTIVE');
    return '_none_';
  }
  void b.runIdle();
  // From here on the caller carries the callee's identity and the other leg's profile (and keeps them
  // after the bridge ends, as FreeSWITCH does). An unanswered caller is answered first, before the other
  // leg is attached; an answered one sees it already on its RING_WAIT → ACTIVE call state.
  const bp = b.ch.profile;
  if (a.ch.profile !== undefined) a.ch.profile = { ...a.ch.profile, calleeIdName: bp?.calleeIdName, calleeIdNumber: bp?.calleeIdNumber };
  if (a.ch.answerState !== 'answered') {
    a.ch.progressMicros = engine.core.nowMicros();
    a.ch.fire('CHANNEL_PROGRESS');
    markAnswered(a);
    a.ch.other = { type: 'originatee', channel: b.ch };
  } else {
    a.ch.other = { type: 'originatee', channel: b.ch };
    a.ch.setCallState('ACTIVE');
  }
  a.ch.bridgedMicros = engine.core.nowMicros();
  a.ch.setVar('bridge_uuid', b.ch.uuid);
  a.ch.setVar('signal_bond', b.ch.uuid);
  a.ch.fire('CHANNEL_BRIDGE', { pre: [['Bridge-A-Unique-ID', a.ch.uuid], ['Bridge-B-Unique-ID', b.ch.uuid]] });
  b.ch.setState('CS_EXCHANGE_MEDIA');
  callUpdate(a, b, bp?.calleeIdName, bp?.calleeIdNumber);
  callUpdate(b, a, a.ch.profile?.callerIdName, a.ch.profile?.callerIdNumber);
  const outcome = await a.wait(Number.POSITIVE_INFINITY, { breakable: false, until: b.ended });
  if (outcome !== 'elapsed') {
    b.hangup('NORMAL_CLEARING');
    await b.ended;
  }
  a.ch.fire('CHANNEL_UNBRIDGE', { pre: [['Bridge-A-Unique-ID', a.ch.uuid], ['Bridge-B-Unique-ID', b.ch.uuid]] });
  return '_none_';
}

/**
 * `uuid_bridge <x> <y>`: both channels leave what they run (CHANNEL_UNPARK …), pass through CS_HIBERNATE,
 * CS_RESET and CS_SOFT_EXECUTE, "execute" uuid_bridge and end up bridged; when one hangs up, so does the other.
 */
export function uuidBridge(engine: Switchboard, x: CallSession, y: CallSession): void {
  // The second leg keeps a copy of the first's profile as it was; the first then takes over the
  // second's callee identity. Both are "transferred" into the bridge (Transfer-Source).
  x.ch.other = { type: 'originatee', channel: y.ch };
  y.ch.other = { type: 'originator', channel: x.ch, profile: x.ch.profile === undefined ? undefined : { ...x.ch.profile } };
  const source = `${Math.floor(engine.core.nowMicros() / 1e6)}:${x.ch.uuid}:uuid_br:${y.ch.uuid}`;
  if (x.ch.profile !== undefined) {
    x.ch.profile = { ...x.ch.profile, calleeIdName: y.ch.profile?.calleeIdName, calleeIdNumber: y.ch.profile?.calleeIdNumber, transferSource: source };
  }
  if (y.ch.profile !== undefined) y.ch.profile = { ...y.ch.profile, transferSource: source };
  let yReady: () => void = () => {};
  const yIsReady = new Promise<void>((r) => (yReady = r));
  const soft = (s: CallSession, peer: CallSession, line: number): void => {
    s.ch.setState('CS_HIBERNATE');
    s.ch.setState('CS_RESET');
    s.ch.setState('CS_SOFT_EXECUTE');
    s.ch.fire('CHANNEL_EXECUTE', {
      kind: { ...EVENT_KINDS.CHANNEL_EXECUTE, func: 'uuid_bridge_on_soft_execute', file: 'switch_ivr_bridge.c', line },
      post: [['Application', 'uuid_bridge'], ['Application-Data', peer.ch.uuid]],
    });
  };
  engine.link(x, y);
  y.takeOver(async () => {
    soft(y, x, 1243);
    yReady();
    while (y.ch.isUp) await y.wait(Number.POSITIVE_INFINITY, { breakable: false });
  });
  x.takeOver(async () => {
    soft(x, y, 1236);
    await yIsReady;
    if (!x.ch.isUp || !y.ch.isUp) return;
    x.ch.bridgedMicros = engine.core.nowMicros();
    x.ch.fire('CHANNEL_BRIDGE', { pre: [['Bridge-A-Unique-ID', x.ch.uuid], ['Bridge-B-Unique-ID', y.ch.uuid]] });
    y.ch.setState('CS_EXCHANGE_MEDIA');
    callUpdate(x, y, y.ch.profile?.callerIdNumber, y.ch.profile?.callerIdNumber);
    await x.wait(Number.POSITIVE_INFINITY, { breakable: false, until: y.ended });
    x.ch.fire('CHANNEL_UNBRIDGE', { pre: [['Bridge-A-Unique-ID', x.ch.uuid], ['Bridge-B-Unique-ID', y.ch.uuid]] });
  });
}
