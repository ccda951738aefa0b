// The call side of the simulated switch: channel registry, dialplan, inbound SIP-like calls, loopback and
// sofia originates with configurable simulated endpoints, and bridging. ESL connections sit on top of it.
import { randomUUID } from 'node:crypto';
import { EVENT_KINDS } from './catalog.ts';
import { SimChannel, type CallerProfile, type Codec } from './channel.ts';
import { runApp, markAnswered, type AppContext } from './apps.ts';
import type { SimCore } from './core.ts';
import { CallSession, type AppCall, type SessionHooks } from './session.ts';

/** How a simulated far end answers an outgoing leg. */
export type EndpointBehaviour =
  | { kind: 'answer'; answerAfterMs?: number; hangupAfterMs?: number }
  | { kind: 'busy' }
  | { kind: 'no_answer' }
  | { kind: 'unreachable' }
  | { kind: 'reject'; cause: string };

export interface EngineOptions {
  dialplan: Record<string, AppCall[]>;
  /** Dialplan for numbers not in `dialplan` (the controller hand-off); undefined → NO_ROUTE_DESTINATION. */
  fallbackDialplan: ((destination: string) => AppCall[]) | undefined;
  gateways: readonly string[];
  profiles: readonly string[];
  /** Keyed by `user@host`, `user`, or `gateway/<name>/<number>` / `gateway/<name>`. */
  endpoints: Record<string, EndpointBehaviour>;
  defaultEndpoint: EndpointBehaviour;
  fileDurationMs: number;
  socketApp(session: CallSession, arg: string): Promise<string>;
}

export interface OriginateResult {
  ok: boolean;
  /** `+OK <uuid>` body or `-ERR <CAUSE>` (with newline). */
  reply: string;
  uuid?: string;
}

const SIP_HOST = '192.0.2.10';

export class Engine {
  readonly core: SimCore;
  readonly opts: EngineOptions;
  readonly sessions = new Map<string, CallSession>();
  private readonly partners = new Map<string, CallSession>();
  /** Extra hooks (outbound socket link) by channel uuid. */
  readonly holders = new Map<string, { onHangup(s: CallSession): void; onHangupComplete(s: CallSession): void; gate: Promise<void> }>();
  private readonly appCtx: AppContext;
  private readonly hooks: SessionHooks;

  constructor(core: SimCore, opts: EngineOptions) {
    this.core = core;
    this.opts = opts;
    this.appCtx = {
      fileDurationMs: opts.fileDurationMs,
      bridge: (s, dest) => this.bridge(s, dest),
      socket: (s, arg) => opts.socketApp(s, arg),
    };
    this.hooks = {
      runApp: (s, call) => runApp(s, call, this.appCtx),
      route: (_s, ext) => this.route(ext),
      onHangup: (s) => {
        this.holders.get(s.ch.uuid)?.onHangup(s);
        // Loopback legs share their fate.
        this.partners.get(s.ch.uuid)?.hangup(s.ch.hangupCause ?? 'NORMAL_CLEARING');
      },
      onHangupComplete: (s) => this.holders.get(s.ch.uuid)?.onHangupComplete(s),
      destroyGate: (s) => this.holders.get(s.ch.uuid)?.gate ?? Promise.resolve(),
      onDestroyed: (s) => {
        this.sessions.delete(s.ch.uuid);
        this.partners.delete(s.ch.uuid);
        this.holders.delete(s.ch.uuid);
        this.core.activeSessions--;
      },
    };
  }

  route(extension: string): AppCall[] | undefined {
    return this.opts.dialplan[extension] ?? this.opts.fallbackDialplan?.(extension);
  }

  private newSession(ch: SimChannel): CallSession {
    const s = new CallSession(ch, this.hooks);
    this.sessions.set(ch.uuid, s);
    this.core.activeSessions++;
    this.core.sessionsSinceStartup++;
    this.core.sessionPeak = Math.max(this.core.sessionPeak, this.core.activeSessions);
    ch.setVar('session_id', String(this.core.sessionsSinceStartup));
    return s;
  }

  get(uuid: string): CallSession | undefined {
    const s = this.sessions.get(uuid);
    return s !== undefined && !s.ch.destroyed ? s : undefined;
  }

  /** An inbound SIP call from a caller to `to`, with the event order of the traces (rule 7). */
  placeInbound(opts: { from: string; to: string; sipHeaders?: Record<string, string>; uuid?: string }): CallSession {
    const ch = new SimChannel({ core: this.core, name: `sofia/external/${opts.from}@${SIP_HOST}:5060`, direction: 'inbound', uuid: opts.uuid });
    const s = this.newSession(ch);
    ch.fire('CHANNEL_STATE');
    ch.profile = profile({ direction: 'inbound', from: opts.from, to: opts.to, source: 'mod_sofia', networkAddr: SIP_HOST });
    fireCodecs(ch, PCMU, 'real');
    setSipVars(ch, opts.from, opts.to, opts.sipHeaders ?? {});
    ch.setState('CS_INIT');
    ch.fire('CHANNEL_CREATE');
    ch.state = 'CS_ROUTING';
    ch.setCallState('RINGING');
    ch.fire('CHANNEL_STATE');
    const apps = this.route(opts.to);
    if (apps === undefined) {
      s.hangup('NO_ROUTE_DESTINATION');
      return s;
    }
    ch.setState('CS_EXECUTE');
    void s.run(apps);
    return s;
  }

  /** originate / bridge: create the outgoing leg for `dial`; resolves once it answered or failed. */
  async dial(opts: { dial: string; caller?: CallSession; timeoutSec?: number; vars?: Record<string, string> }): Promise<{ cause?: string; session?: CallSession }> {
    let dial = opts.dial.trim();
    const vars: Record<string, string> = { ...opts.vars };
    const varBlock = /^\{([^}]*)\}/.exec(dial);
    if (varBlock !== null) {
      for (const kv of (varBlock[1] ?? '').split(',')) {
        const i = kv.indexOf('=');
        if (i > 0) vars[kv.slice(0, i)] = kv.slice(i + 1);
      }
      dial = dial.slice(varBlock[0].length);
    }
    const timeoutSec = Number(vars.originate_timeout ?? opts.timeoutSec ?? 60);
    if (dial.startsWith('loopback/')) return this.dialLoopback(dial.slice('loopback/'.length), opts.caller);
    if (!dial.startsWith('sofia/')) return { cause: 'CHAN_NOT_IMPLEMENTED' };
    const rest = dial.slice('sofia/'.length);
    let behaviour: EndpointBehaviour;
    let target: string;
    if (rest.startsWith('gateway/')) {
      const [gw = '', ...numParts] = rest.slice('gateway/'.length).split('/');
      if (!this.opts.gateways.includes(gw)) return { cause: 'INVALID_GATEWAY' };
      target = numParts.join('/');
      behaviour = this.opts.endpoints[`gateway/${gw}/${target}`] ?? this.opts.endpoints[`gateway/${gw}`] ?? this.opts.endpoints[target] ?? this.opts.defaultEndpoint;
    } else {
      const slash = rest.indexOf('/');
      const prof = rest.slice(0, slash);
      if (slash < 0 || !this.opts.profiles.includes(prof)) return { cause: 'INVALID_PROFILE' };
      target = rest.slice(slash + 1).replace(/;.*$/, '');
      const user = target.split('@')[0] ?? target;
      behaviour = this.opts.endpoints[target] ?? this.opts.endpoints[user] ?? this.opts.defaultEndpoint;
    }
    return this.dialSofia(dial, target, behaviour, timeoutSec, opts.caller);
  }

  private outgoingLeg(name: string, dest: string, caller: CallSession | undefined, kind: 'sofia' | 'loopback'): CallSession {
    const ch = new SimChannel({ core: this.core, name, direction: 'outbound', hitDialplan: false });
    ch.state = 'CS_NONE';
    const s = this.newSession(ch);
    const from = caller?.ch.profile;
    // Loopback legs get their codec before anything else (CODEC ×2 precede CHANNEL_OUTGOING): the
    // caller's codec when bridged, L16 for an api originate. A SIP leg gets one only once answered.
    if (kind === 'loopback') fireCodecs(ch, caller === undefined ? L16 : PCMU, 'set');
    // With a caller (bridge) the leg inherits its identity; an api originate has none: 0000000000.
    const cid = from?.callerIdNumber ?? '0000000000';
    ch.profile = {
      direction: 'outbound',
      logicalDirection: 'outbound',
      username: from?.username ?? '',
      dialplan: from?.dialplan ?? (kind === 'loopback' ? 'xml' : ''),
      callerIdName: from?.callerIdName ?? '',
      callerIdNumber: cid,
      origCallerIdName: from?.origCallerIdName ?? '',
      origCallerIdNumber: from?.origCallerIdNumber ?? cid,
      calleeIdName: 'Outbound Call',
      calleeIdNumber: dest,
      networkAddr: from?.networkAddr ?? '',
      ani: from?.ani ?? cid,
      destinationNumber: dest,
      source: kind === 'loopback' ? 'mod_loopback' : from === undefined ? 'src/switch_ivr_originate.c' : 'mod_sofia',
      context: 'default',
    };
    if (caller !== undefined) {
      ch.callUuid = caller.ch.uuid;
      ch.other = { type: 'originator', channel: caller.ch, profile: caller.ch.profile === undefined ? undefined : { ...caller.ch.profile } };
    }
    ch.setVar('direction', 'outbound');
    ch.setVar('is_outbound', 'true');
    ch.setVar('uuid', ch.uuid);
    ch.setVar('channel_name', name);
    ch.fire('CHANNEL_OUTGOING');
    ch.setState('CS_INIT');
    ch.fire('CHANNEL_CREATE');
    ch.fire('CHANNEL_ORIGINATE');
    ch.setState('CS_ROUTING');
    ch.setState('CS_CONSUME_MEDIA');
    return s;
  }

  private async dialSofia(dial: string, target: string, b: EndpointBehaviour, timeoutSec: number, caller?: CallSession): Promise<{ cause?: string; session?: CallSession }> {
    const s = this.outgoingLeg(dial.replace(/;.*$/, ''), target.split('@')[0] ?? target, caller, 'sofia');
    const fail = async (cause: string, sipStatus?: string): Promise<{ cause: string }> => {
      if (sipStatus !== undefined) s.ch.setVar('sip_term_status', sipStatus);
      s.hangup(cause);
      await s.ended;
      return { cause };
    };
    void s.runIdle();
    if (b.kind === 'unreachable') return fail('NORMAL_TEMPORARY_FAILURE', '503');
    // The far end answered something: its address is now known (Caller-Network-Addr).
    const host = /@([^:;]+)/.exec(target)?.[1] ?? '';
    if (s.ch.profile !== undefined && s.ch.profile.networkAddr === '') s.ch.profile.networkAddr = host;
    if (b.kind === 'busy') return fail('USER_BUSY', '486');
    if (b.kind === 'reject') return fail(b.cause);
    s.ch.progressMicros = this.core.nowMicros();
    s.ch.fire('CHANNEL_PROGRESS');
    s.ch.setCallState('RINGING');
    if (b.kind === 'no_answer') {
      await s.wait(timeoutSec * 1000, { breakable: false });
      return fail('NO_ANSWER');
    }
    const outcome = await s.wait(b.answerAfterMs ?? 0, { breakable: false });
    if (outcome !== 'elapsed' || !s.ch.isUp) return { cause: s.ch.hangupCause ?? 'ORIGINATOR_CANCEL' };
    // 200 OK with SDP: codecs are negotiated now.
    fireCodecs(s.ch, PCMU, 'real');
    markAnswered(s);
    if (b.hangupAfterMs !== undefined) this.core.schedule(b.hangupAfterMs, () => s.hangup('NORMAL_CLEARING'));
    return { session: s };
  }

  private async dialLoopback(ext: string, caller?: CallSession): Promise<{ cause?: string; session?: CallSession }> {
    const a = this.outgoingLeg(`loopback/${ext}-a`, ext, caller, 'loopback');
    const apps = this.route(ext);
    const bch = new SimChannel({ core: this.core, name: `loopback/${ext}-b`, direction: 'inbound' });
    const b = this.newSession(bch);
    bch.state = 'CS_NONE';
    fireCodecs(bch, a.ch.readCodec ?? L16, 'set');
    bch.profile = { ...(a.ch.profile as CallerProfile), direction: 'inbound', logicalDirection: 'inbound' };
    bch.setVar('direction', 'inbound');
    bch.setVar('uuid', bch.uuid);
    bch.setVar('call_uuid', bch.uuid);
    bch.setVar('channel_name', bch.name);
    bch.setVar('other_loopback_leg_uuid', a.ch.uuid);
    a.ch.setVar('other_loopback_leg_uuid', bch.uuid);
    this.partners.set(a.ch.uuid, b);
    this.partners.set(bch.uuid, a);
    bch.setState('CS_INIT');
    bch.fire('CHANNEL_CREATE');
    bch.state = 'CS_ROUTING';
    bch.setCallState('RINGING');
    bch.fire('CHANNEL_STATE');
    void a.runIdle();
    if (apps === undefined) {
      b.hangup('NO_ROUTE_DESTINATION');
      void b.runIdle();
      await a.ended;
      return { cause: 'NO_ROUTE_DESTINATION' };
    }
    bch.setState('CS_EXECUTE');
    // The a-leg answers when the b-leg's dialplan answers (or ends).
    const answered = new Promise<void>((resolve) => {
      const check = (): void => {
        if (bch.answerState === 'answered' || !bch.isUp) resolve();
        else this.core.schedule(1, check);
      };
      this.core.schedule(0, check);
    });
    void b.run(apps);
    await answered;
    if (!bch.isUp || !a.ch.isUp) {
      await a.ended;
      return { cause: a.ch.hangupCause ?? bch.hangupCause ?? 'NORMAL_CLEARING' };
    }
    markAnswered(a);
    return { session: a };
  }

  /** The `bridge` application on `a` to `dest`. */
  async bridge(a: CallSession, dest: string): Promise<string> {
    if (!a.ch.isUp) return '_none_';
    a.ch.setCallState('RING_WAIT');
    const { cause, session: b } = await this.dial({ dial: dest, caller: a });
    if (b === undefined || !a.ch.isUp) {
      a.ch.setVar('originate_disposition', cause ?? 'ORIGINATOR_CANCEL');
      a.ch.setVar('DIALSTATUS', cause === 'USER_BUSY' ? 'BUSY' : 'FAIL');
      if (b !== undefined) b.hangup('ORIGINATOR_CANCEL');
      if (a.ch.isUp) a.ch.setCallState(a.ch.answerState === 'answered' ? 'ACTIVE' : 'RINGING');
      return '_none_';
    }
    // From here on the caller carries the callee's identity and the other leg's profile (and keeps
    // them after the bridge ends, as FreeSWITCH does).
    a.ch.other = { type: 'originatee', channel: b.ch };
    if (a.ch.profile !== undefined) {
      a.ch.profile = { ...a.ch.profile, calleeIdName: b.ch.profile?.calleeIdName, calleeIdNumber: b.ch.profile?.calleeIdNumber };
    }
    if (a.ch.answerState !== 'answered') {
      a.ch.progressMicros = this.core.nowMicros();
      a.ch.fire('CHANNEL_PROGRESS');
      markAnswered(a);
    } else {
      a.ch.setCallState('ACTIVE');
    }
    const now = this.core.nowMicros();
    a.ch.bridgedMicros = now;
    a.ch.setVar('bridge_uuid', b.ch.uuid);
    a.ch.setVar('signal_bond', b.ch.uuid);
    a.ch.fire('CHANNEL_BRIDGE', { pre: [['Bridge-A-Unique-ID', a.ch.uuid], ['Bridge-B-Unique-ID', b.ch.uuid]] });
    b.ch.setState('CS_EXCHANGE_MEDIA');
    if (a.ch.name.startsWith('sofia/')) {
      // mod_sofia tells the caller's phone who it is now talking to.
      a.ch.fire('CALL_UPDATE', {
        kind: { file: 'mod_sofia.c', func: 'sofia_receive_message', line: 2100, vars: true },
        pre: [
          ['Direction', 'SEND'],
          ['Sent-Callee-ID-Name', b.ch.profile?.calleeIdName ?? ''],
          ['Sent-Callee-ID-Number', b.ch.profile?.calleeIdNumber ?? ''],
          ['Bridged-To', b.ch.uuid],
        ],
      });
    }
    const outcome = await a.wait(Number.POSITIVE_INFINITY, { breakable: false, until: b.ended });
    if (outcome !== 'elapsed') {
      b.hangup('NORMAL_CLEARING');
      await b.ended;
    }
    a.ch.fire('CHANNEL_UNBRIDGE', { pre: [['Bridge-A-Unique-ID', a.ch.uuid], ['Bridge-B-Unique-ID', b.ch.uuid]] });
    return '_none_';
  }

  /** `originate <dial> <&app(args)|exten>`: result reply plus, on success, the a-leg running its target. */
  async originate(dial: string, target: string): Promise<OriginateResult> {
    const { cause, session } = await this.dial({ dial });
    if (session === undefined) return { ok: false, reply: `-ERR ${cause ?? 'NORMAL_CLEARING'}\n` };
    let apps: AppCall[] | undefined;
    const app = /^&([A-Za-z0-9_]+)(?:\((.*)\))?$/.exec(target);
    if (app !== null) apps = [{ app: app[1] ?? 'park', arg: app[2] }];
    else apps = this.route(target.split(/\s+/)[0] ?? '');
    if (apps === undefined) {
      session.hangup('NO_ROUTE_DESTINATION');
      return { ok: false, reply: '-ERR NO_ROUTE_DESTINATION\n' };
    }
    // The a-leg now runs the originate target; FreeSWITCH flips its caller id to the callee's.
    const ch = session.ch;
    if (ch.profile !== undefined && ch.other === undefined) {
      ch.profile = {
        ...ch.profile,
        callerIdName: ch.profile.calleeIdName ?? '',
        callerIdNumber: ch.profile.calleeIdNumber ?? '',
        calleeIdName: ch.profile.callerIdName,
        calleeIdNumber: ch.profile.callerIdNumber,
      };
    }
    ch.hitDialplan = true;
    ch.setState('CS_EXECUTE');
    void this.runOnLeg(session, apps);
    return { ok: true, reply: `+OK ${session.ch.uuid}\n`, uuid: session.ch.uuid };
  }

  private async runOnLeg(s: CallSession, apps: AppCall[]): Promise<void> {
    for (const call of apps) {
      if (!s.ch.isUp) return;
      await s.exec(call);
    }
    if (s.ch.isUp) await s.serveMessages();
  }

  hangupAll(cause: string): void {
    for (const s of [...this.sessions.values()]) s.hangup(cause);
  }
}

const PCMU: Codec = { name: 'PCMU', rate: 8000, bitRate: 64000 };
const L16: Codec = { name: 'L16', rate: 8000, bitRate: 128000 };

/**
 * Set a channel's codecs with the two CODEC events FreeSWITCH fires: read codec (`real` for a SIP
 * channel's negotiated codec, with lower-case channel-read-codec-* after the headers), then write codec
 * (with a repeated Channel-Write-Codec-Name/Rate and an odd-case Channel-Write-codec-bit-rate).
 */
function fireCodecs(ch: SimChannel, codec: Codec, read: 'real' | 'set'): void {
  const rate = String(codec.rate);
  const bits = String(codec.bitRate);
  ch.readCodec = codec;
  // A SIP channel's negotiated ("real") read codec is reported with the write codec already in place.
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

function profile(o: { direction: 'inbound' | 'outbound'; from: string; to: string; source: string; networkAddr: string }): CallerProfile {
  return {
    direction: o.direction,
    logicalDirection: o.direction,
    username: o.from,
    dialplan: 'XML',
    callerIdName: o.from,
    callerIdNumber: o.from,
    origCallerIdName: o.from,
    origCallerIdNumber: o.from,
    networkAddr: o.networkAddr,
    ani: o.from,
    destinationNumber: o.to,
    source: o.source,
    context: 'default',
  };
}

function setSipVars(ch: SimChannel, from: string, to: string, sipHeaders: Record<string, string>): void {
  const callId = `${randomUUID()}@${SIP_HOST}`;
  const v: Array<[string, string]> = [
    ['direction', 'inbound'], ['uuid', ch.uuid], ['call_uuid', ch.uuid], ['session_id', ch.getVar('session_id') ?? '1'],
    ['sip_from_user', from], ['sip_from_port', '5060'], ['sip_from_uri', `${from}@${SIP_HOST}:5060`], ['sip_from_host', SIP_HOST],
    ['video_media_flow', 'disabled'], ['text_media_flow', 'disabled'], ['channel_name', ch.name], ['sip_call_id', callId],
    ['sip_local_network_addr', '127.0.0.1'], ['sip_network_ip', SIP_HOST], ['sip_network_port', '5060'],
    ['sip_invite_stamp', String(ch.createdMicros)], ['sip_received_ip', SIP_HOST], ['sip_received_port', '5060'],
    ['sip_via_protocol', 'udp'], ['sip_from_user_stripped', from], ['sip_from_tag', randomUUID().slice(0, 13)],
    ['sofia_profile_name', 'external'], ['sofia_profile_url', 'sip:mod_sofia@127.0.0.1:5080'], ['recovery_profile_name', 'external'],
    ['sip_full_via', `SIP/2.0/UDP ${SIP_HOST}:5060;branch=z9hG4bK-${ch.uuid.slice(0, 8)}`], ['sip_from_display', from],
    ['sip_full_from', `"${from}" <sip:${from}@${SIP_HOST}:5060>`], ['sip_full_to', `<sip:${to}@127.0.0.1:5080>`],
    ['sip_req_user', to], ['sip_req_port', '5080'], ['sip_req_uri', `${to}@127.0.0.1:5080`], ['sip_req_host', '127.0.0.1'],
    ['sip_to_user', to], ['sip_to_port', '5080'], ['sip_to_uri', `${to}@127.0.0.1:5080`], ['sip_to_host', '127.0.0.1'],
    ['sip_contact_user', from], ['sip_contact_port', '5060'], ['sip_contact_uri', `${from}@${SIP_HOST}:5060`], ['sip_contact_host', SIP_HOST],
  ];
  for (const [k, val] of Object.entries(sipHeaders)) v.push([`sip_h_${k}`, val]);
  v.push(
    ['sip_user_agent', '3CX Phone System'], ['sip_via_host', SIP_HOST], ['sip_via_port', '5060'], ['max_forwards', '70'],
    ['ep_codec_string', 'CORE_PCM_MODULE.PCMU@8000h@20i@64000b'], ['rtp_use_codec_string', 'PCMU,PCMA'],
    ['remote_audio_media_flow', 'sendrecv'], ['audio_media_flow', 'sendrecv'], ['remote_media_ip', SIP_HOST], ['remote_media_port', '40000'],
    ['rtp_audio_recv_pt', '0'], ['rtp_use_codec_name', 'PCMU'], ['rtp_use_codec_rate', '8000'], ['rtp_use_codec_ptime', '20'],
    ['rtp_use_codec_channels', '1'], ['read_codec', 'PCMU'], ['original_read_codec', 'PCMU'], ['read_rate', '8000'],
    ['original_read_rate', '8000'], ['write_codec', 'PCMU'], ['write_rate', '8000'], ['dtmf_type', 'rfc2833'],
    ['endpoint_disposition', 'RECEIVED'],
  );
  for (const [k, val] of v) ch.setVar(k, val);
}
