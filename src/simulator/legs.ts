// Outgoing legs: `loopback/<ext>` (an a/b pair, the b-leg running the dialplan) and `sofia/...` towards
// configurable simulated far ends. Event order and header sets follow the traces (bridge, originate
// failures, load). A dialled leg is returned answered and not yet running; the caller decides what it runs.
import { EVENT_KINDS } from './catalog.ts';
import { SimChannel, type CallerProfile, type Codec } from './channel.ts';
import { markAnswered } from './apps.ts';
import type { CallSession } from './session.ts';
import type { EndpointBehaviour, Switchboard } from './switchboard.ts';

export const PCMU: Codec = { name: 'PCMU', rate: 8000, bitRate: 64000 };
export const L16: Codec = { name: 'L16', rate: 8000, bitRate: 128000 };

export interface DialResult {
  cause?: string;
  session?: CallSession;
}

/**
 * Set a channel's codecs with the two CODEC events FreeSWITCH fires: read codec (`real` = a SIP channel's
 * negotiated codec, reported with the write codec already set), then the write codec (with a repeated
 * Channel-Write-Codec-Name/Rate and an odd-case Channel-Write-codec-bit-rate).
 */
export function fireCodecs(ch: SimChannel, codec: Codec, read: 'real' | 'set'): void {
  const rate = String(codec.rate);
  const bits = String(codec.bitRate);
  ch.readCodec = codec;
  if (read === 'real') ch.writeCodec = codec;
  ch.fire('CODEC', {
    kind: read === 'real' ? EVENT_KINDS.CODEC_READ_REAL : EVENT_KINDS.CODEC_READ,
    post: [['channel-read-codec-name', codec.name], ['channel-read-codec-rate', rate], ['channel-read-codec-bit-rate', bits]],
  });
  ch.writeCodec = codec;
  ch.fire('CODEC', {
    kind: EVENT_KINDS.CODEC_WRITE,
    post: [['Channel-Write-Codec-Name', codec.name], ['Channel-Write-Codec-Rate', rate], ['Channel-Write-codec-bit-rate', bits]],
  });
}

/** Parse `{var=value,…}` in front of a dial string. */
function splitVars(dial: string): { dial: string; vars: Record<string, string> } {
  const vars: Record<string, string> = {};
  const block = /^\{([^}]*)\}/.exec(dial);
  if (block === null) return { dial, vars };
  for (const kv of (block[1] ?? '').split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { dial: dial.slice(block[0].length), vars };
}

export async function dial(engine: Switchboard, opts: { dial: string; caller?: CallSession }): Promise<DialResult> {
  const { dial: target, vars } = splitVars(opts.dial.trim());
  const timeoutSec = Number(vars.originate_timeout ?? 60);
  if (target.startsWith('loopback/')) return dialLoopback(engine, target.slice('loopback/'.length), opts.caller, vars);
  if (target.startsWith('null/')) return dialNull(engine, target.slice('null/'.length), opts.caller, vars);
  if (!target.startsWith('sofia/')) return { cause: 'CHAN_NOT_IMPLEMENTED' };
  const rest = target.slice('sofia/'.length);
  const eps = engine.opts.endpoints;
  let behaviour: EndpointBehaviour;
  let user: string;
  if (rest.startsWith('gateway/')) {
    const [gw = '', ...numParts] = rest.slice('gateway/'.length).split('/');
    if (!engine.opts.gateways.has(gw)) {
      // FreeSWITCH destroys a half-made channel named N/A without ever announcing it (rule 19).
      fireNameless(engine);
      return { cause: 'INVALID_GATEWAY' };
    }
    // A gateway whose OPTIONS pings failed is DOWN: sofia_outgoing_channel refuses it on the same path as an
    // unknown one (the half-made channel is destroyed before it has a name), with cause GATEWAY_DOWN.
    if (!engine.opts.gateways.isUp(gw)) {
      engine.opts.gateways.countCall(gw, true);
      fireNameless(engine);
      return { cause: 'GATEWAY_DOWN' };
    }
    engine.opts.gateways.countCall(gw, false);
    user = numParts.join('/');
    behaviour = eps[`gateway/${gw}/${user}`] ?? eps[`gateway/${gw}`] ?? eps[user] ?? engine.opts.defaultEndpoint;
  } else {
    const slash = rest.indexOf('/');
    if (slash < 0 || !engine.opts.profiles.includes(rest.slice(0, slash))) return { cause: 'INVALID_PROFILE' };
    const uri = rest.slice(slash + 1).replace(/;.*$/, '');
    user = uri.split('@')[0] ?? uri;
    behaviour = eps[uri] ?? eps[user] ?? engine.opts.defaultEndpoint;
  }
  return dialSofia(engine, { name: target.replace(/;.*$/, ''), user, behaviour, timeoutSec, vars }, opts.caller);
}

function fireNameless(engine: Switchboard): void {
  const ch = new SimChannel({ core: engine.core, name: 'N/A', direction: 'outbound', hitDialplan: false });
  ch.state = 'CS_NONE';
  ch.setVar('direction', 'outbound');
  ch.setVar('is_outbound', 'true');
  ch.setVar('uuid', ch.uuid);
  ch.setVar('call_uuid', ch.uuid);
  ch.setVar('session_id', String(++engine.core.sessionsSinceStartup));
  ch.fire('CHANNEL_DESTROY');
  ch.state = 'CS_DESTROY';
  ch.fire('CHANNEL_STATE');
}

function outgoingLeg(
  engine: Switchboard,
  name: string,
  dest: string,
  caller: CallSession | undefined,
  kind: 'sofia' | 'loopback' | 'null',
  vars: Record<string, string>,
): CallSession {
  // {origination_uuid=…} picks the leg's uuid (controllers use it to know the uuid before the reply).
  const ch = new SimChannel({ core: engine.core, name, direction: 'outbound', hitDialplan: false, uuid: vars.origination_uuid });
  ch.state = 'CS_NONE';
  const s = engine.newSession(ch);
  const from = caller?.ch.profile;
  // Loopback legs get their codec before anything else (CODEC ×2 precede CHANNEL_OUTGOING): the caller's
  // codec when bridged, L16 for an api originate. A SIP leg gets one only once answered.
  if (kind === 'loopback') fireCodecs(ch, caller === undefined ? L16 : PCMU, 'set');
  // A null channel is L16 at its `rate` (8000 unless a multiple of 8000 is asked for), set up as it is made.
  if (kind === 'null') {
    const rate = Number(vars.rate);
    fireCodecs(ch, { ...L16, ...(rate > 0 && rate % 8000 === 0 ? { rate, bitRate: rate * 16 } : {}) }, 'set');
  }
  // With a caller (bridge) the leg inherits its identity; an api originate has none: 0000000000.
  const cid = vars.origination_caller_id_number ?? from?.callerIdNumber ?? '0000000000';
  ch.profile = {
    direction: 'outbound',
    logicalDirection: 'outbound',
    username: from?.username ?? '',
    dialplan: from?.dialplan ?? (kind === 'loopback' ? 'xml' : ''),
    callerIdName: vars.origination_caller_id_name ?? from?.callerIdName ?? '',
    callerIdNumber: cid,
    origCallerIdName: from?.origCallerIdName ?? '',
    origCallerIdNumber: from?.origCallerIdNumber ?? cid,
    calleeIdName: 'Outbound Call',
    calleeIdNumber: dest,
    networkAddr: from?.networkAddr ?? '',
    ani: from?.ani ?? cid,
    destinationNumber: dest,
    source: kind === 'sofia' ? (from === undefined ? 'src/switch_ivr_originate.c' : 'mod_sofia') : 'mod_loopback',
    context: 'default',
  };
  if (caller !== undefined) {
    ch.callUuid = caller.ch.uuid;
    // FreeSWITCH keeps a copy of the originator's profile as it was when the leg was made.
    ch.other = { type: 'originator', channel: caller.ch, profile: caller.ch.profile === undefined ? undefined : { ...caller.ch.profile } };
  }
  ch.setVar('direction', 'outbound');
  ch.setVar('is_outbound', 'true');
  ch.setVar('uuid', ch.uuid);
  ch.setVar('channel_name', name);
  // The {var=value} block becomes channel variables of the new leg.
  for (const [k, v] of Object.entries(vars)) ch.setVar(k, v);
  ch.fire('CHANNEL_OUTGOING');
  ch.setState('CS_INIT');
  ch.fire('CHANNEL_CREATE');
  ch.fire('CHANNEL_ORIGINATE');
  ch.setState('CS_ROUTING');
  ch.setState('CS_CONSUME_MEDIA');
  return s;
}

interface SofiaTarget {
  name: string;
  user: string;
  behaviour: EndpointBehaviour;
  timeoutSec: number;
  vars: Record<string, string>;
}

async function dialSofia(engine: Switchboard, t: SofiaTarget, caller?: CallSession): Promise<DialResult> {
  const { name, behaviour: b, timeoutSec } = t;
  const s = outgoingLeg(engine, name, t.user, caller, 'sofia', t.vars);
  const fail = async (cause: string, sipStatus?: string): Promise<DialResult> => {
    if (sipStatus !== undefined) s.ch.setVar('sip_term_status', sipStatus);
    s.hangup(cause);
    await s.ended;
    return { cause };
  };
  if (b.kind === 'unreachable') return fail('NORMAL_TEMPORARY_FAILURE', '503');
  // The far end answered something: its address is now known (Caller-Network-Addr).
  const host = /@([^:;]+)/.exec(name)?.[1] ?? '';
  if (s.ch.profile !== undefined && s.ch.profile.networkAddr === '') s.ch.profile.networkAddr = host;
  if (b.kind === 'busy') return fail('USER_BUSY', '486');
  if (b.kind === 'reject') return fail(b.cause);
  s.ch.progressMicros = engine.core.nowMicros();
  s.ch.fire('CHANNEL_PROGRESS');
  s.ch.setCallState('RINGING');
  if (b.kind === 'no_answer') {
    const out = await s.wait(timeoutSec * 1000, { breakable: false });
    return out === 'elapsed' ? fail('NO_ANSWER') : fail(s.ch.hangupCause ?? 'ORIGINATOR_CANCEL');
  }
  const outcome = await s.wait(b.answerAfterMs ?? 0, { breakable: false });
  if (outcome !== 'elapsed' || !s.ch.isUp) return fail(s.ch.hangupCause ?? 'ORIGINATOR_CANCEL');
  // 200 OK with SDP: codecs are negotiated now.
  fireCodecs(s.ch, PCMU, 'real');
  markAnswered(s);
  if (b.hangupAfterMs !== undefined) engine.core.schedule(b.hangupAfterMs, () => s.hangup('NORMAL_CLEARING'));
  return { session: s };
}

async function dialLoopback(engine: Switchboard, ext: string, caller: CallSession | undefined, vars: Record<string, string>): Promise<DialResult> {
  const a = outgoingLeg(engine, `loopback/${ext}-a`, ext, caller, 'loopback', vars);
  const apps = engine.route(ext);
  const bch = new SimChannel({ core: engine.core, name: `loopback/${ext}-b`, direction: 'inbound' });
  const b = engine.newSession(bch);
  bch.state = 'CS_NONE';
  fireCodecs(bch, a.ch.readCodec ?? L16, 'set');
  bch.profile = { ...(a.ch.profile as CallerProfile), direction: 'inbound', logicalDirection: 'inbound' };
  bch.setVar('direction', 'inbound');
  bch.setVar('uuid', bch.uuid);
  bch.setVar('call_uuid', bch.uuid);
  bch.setVar('channel_name', bch.name);
  bch.setVar('other_loopback_leg_uuid', a.ch.uuid);
  a.ch.setVar('other_loopback_leg_uuid', bch.uuid);
  engine.link(a, b);
  bch.setState('CS_INIT');
  bch.fire('CHANNEL_CREATE');
  bch.state = 'CS_ROUTING';
  bch.setCallState('RINGING');
  bch.fire('CHANNEL_STATE');
  if (apps === undefined) {
    b.hangup('NO_ROUTE_DESTINATION');
    await a.ended;
    return { cause: 'NO_ROUTE_DESTINATION' };
  }
  bch.setState('CS_EXECUTE');
  // The a-leg answers when the b-leg's dialplan answers (the loopback pair shares one "call").
  const answered = b.whenAnswered();
  void b.run(apps);
  if (!(await answered) || !a.ch.isUp) {
    if (a.ch.isUp) a.hangup(bch.hangupCause ?? 'NORMAL_CLEARING');
    await a.ended;
    return { cause: a.ch.hangupCause ?? bch.hangupCause ?? 'NORMAL_CLEARING' };
  }
  markAnswered(a);
  return { session: a };
}

/**
 * `null/<dest>`, the endpoint mod_loopback also provides: a channel with no far end that reads silence and
 * answers at once (unless `null_enable_auto_answer=false`, which leaves it ringing until the originate times
 * out). `null_hangup_cause=<CAUSE>` or a destination `cause-<CAUSE>` refuses it with that cause. Operators'
 * checks use it to make FreeSWITCH play a file without a caller: `originate null/x &playback(<path>)`.
 */
async function dialNull(engine: Switchboard, dest: string, caller: CallSession | undefined, vars: Record<string, string>): Promise<DialResult> {
  const refused = vars.null_hangup_cause ?? (dest.startsWith('cause-') ? dest.slice('cause-'.length) : undefined);
  if (refused !== undefined) return { cause: refused };
  const s = outgoingLeg(engine, `null/${dest}`, dest, caller, 'null', vars);
  if (vars.null_enable_auto_answer === 'false') {
    const out = await s.wait(Number(vars.originate_timeout ?? 60) * 1000, { breakable: false });
    if (s.ch.isUp) s.hangup(out === 'elapsed' ? 'NO_ANSWER' : (s.ch.hangupCause ?? 'ORIGINATOR_CANCEL'));
    await s.ended;
    return { cause: s.ch.hangupCause ?? 'NO_ANSWER' };
  }
  markAnswered(s);
  return { session: s };
}
