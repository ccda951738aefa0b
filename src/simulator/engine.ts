// The call side of the simulated switch: channel registry, dialplan, inbound SIP-like calls, loopback and
// sofia originates with configurable simulated endpoints, and bridging. ESL connections sit on top of it.
import { randomUUID } from 'node:crypto';
import { SimChannel, type CallerProfile } from './channel.ts';
import { runApp, type AppContext } from './apps.ts';
import { bridgeApp } from './bridging.ts';
import type { SimCore } from './core.ts';
import { dial, fireCodecs, PCMU } from './legs.ts';
import { CallSession, type AppCall, type SessionHooks } from './session.ts';
import type { EngineOptions, Switchboard } from './switchboard.ts';

export interface OriginateResult {
  ok: boolean;
  /** `+OK <uuid>` body or `-ERR <CAUSE>` (with newline). */
  reply: string;
  uuid?: string;
}

const SIP_HOST = '192.0.2.10';

export class Engine implements Switchboard {
  readonly core: SimCore;
  readonly opts: EngineOptions;
  readonly sessions = new Map<string, CallSession>();
  private readonly partners = new Map<string, Set<CallSession>>();
  /** Extra hooks (outbound socket link) by channel uuid. */
  readonly holders = new Map<string, { onHangup(s: CallSession): void; onHangupComplete(s: CallSession): void; gate: Promise<void> }>();
  private readonly appCtx: AppContext;
  private readonly hooks: SessionHooks;

  constructor(core: SimCore, opts: EngineOptions) {
    this.core = core;
    this.opts = opts;
    this.appCtx = {
      fileDurationMs: opts.fileDurationMs,
      localStreams: opts.localStreams,
      fileRoot: opts.fileRoot,
      bridge: (s, dest) => bridgeApp(this, s, dest),
      socket: (s, arg) => opts.socketApp(s, arg),
    };
    this.hooks = {
      runApp: (s, call) => runApp(s, call, this.appCtx),
      route: (_s, ext) => this.route(ext),
      onHangup: (s) => {
        this.opts.onHangup?.(s);
        this.holders.get(s.ch.uuid)?.onHangup(s);
        // Loopback pairs and uuid_bridge'd legs share their fate.
        for (const p of this.partners.get(s.ch.uuid) ?? []) p.hangup(s.ch.hangupCause ?? 'NORMAL_CLEARING');
      },
      onHangupComplete: (s) => this.holders.get(s.ch.uuid)?.onHangupComplete(s),
      destroyGate: (s) => this.holders.get(s.ch.uuid)?.gate ?? Promise.resolve(),
      onDestroyed: (s) => {
        this.sessions.delete(s.ch.uuid);
        for (const p of this.partners.get(s.ch.uuid) ?? []) this.partners.get(p.ch.uuid)?.delete(s);
        this.partners.delete(s.ch.uuid);
        this.holders.delete(s.ch.uuid);
        this.core.activeSessions--;
      },
    };
  }

  route(extension: string): AppCall[] | undefined {
    return this.opts.dialplan[extension] ?? this.opts.fallbackDialplan?.(extension);
  }

  newSession(ch: SimChannel): CallSession {
    const s = new CallSession(ch, this.hooks);
    this.sessions.set(ch.uuid, s);
    this.core.activeSessions++;
    this.core.sessionsSinceStartup++;
    this.core.sessionPeak = Math.max(this.core.sessionPeak, this.core.activeSessions);
    ch.setVar('session_id', String(this.core.sessionsSinceStartup));
    this.core.log({ level: 5, channel: 3, file: 'switch_channel.c', func: 'switch_channel_set_name', line: 1142, uuid: ch.uuid, text: `New Channel ${ch.name} [${ch.uuid}]` });
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

  /** `originate <dial> <&app(args)|exten>`: result reply plus, on success, the a-leg running its target. */
  async originate(dialString: string, target: string): Promise<OriginateResult> {
    const { cause, session } = await dial(this, { dial: dialString });
    if (session === undefined) return { ok: false, reply: `-ERR ${cause ?? 'NORMAL_CLEARING'}\n` };
    let apps: AppCall[] | undefined;
    const app = /^&([A-Za-z0-9_]+)(?:\((.*)\))?$/.exec(target);
    if (app !== null) apps = [{ app: app[1] ?? 'park', arg: app[2] }];
    else apps = this.route(target.split(/\s+/)[0] ?? '');
    if (apps === undefined) {
      session.hangup('NO_ROUTE_DESTINATION');
      return { ok: false, reply: '-ERR NO_ROUTE_DESTINATION\n' };
    }
    // The a-leg now runs the originate target; FreeSWITCH first flips its caller id to the callee's.
    const ch = session.ch;
    if (ch.profile !== undefined && ch.other === undefined) {
      ch.profile = {
        ...ch.profile,
        callerIdName: ch.profile.calleeIdName ?? '',
        callerIdNumber: ch.profile.calleeIdNumber ?? '',
        calleeIdName: ch.profile.callerIdName,
        calleeIdNumber: ch.profile.callerIdNumber,
      };
      ch.fire('CALL_UPDATE', { kind: { file: 'switch_channel.c', func: 'switch_channel_flip_cid', line: 3277, vars: true }, pre: [['Direction', 'RECV']] });
    }
    ch.hitDialplan = true;
    ch.setState('CS_EXECUTE');
    void session.run(apps);
    return { ok: true, reply: `+OK ${ch.uuid}\n`, uuid: ch.uuid };
  }

  /** Legs that share their fate: a loopback pair, or two channels joined by uuid_bridge. */
  link(a: CallSession, b: CallSession): void {
    this.partnerSet(a.ch.uuid).add(b);
    this.partnerSet(b.ch.uuid).add(a);
  }

  private partnerSet(uuid: string): Set<CallSession> {
    let set = this.partners.get(uuid);
    if (set === undefined) {
      set = new Set();
      this.partners.set(uuid, set);
    }
    return set;
  }

  hangupAll(cause: string): void {
    for (const s of [...this.sessions.values()]) s.hangup(cause);
  }
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
