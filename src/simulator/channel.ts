// One simulated FreeSWITCH channel: its state, caller profile, codecs and variables, and the exact header
// layout FreeSWITCH gives channel events (switch_channel_event_set_data, as seen in the traces):
//   Event-Name, standard block, event-specific "pre" headers, Channel-State … Answer-State, [Hangup-Cause],
//   [codecs], [Caller-*], [Other-Type, Other-Leg-*], [variable_*], event-specific "post" headers.
import { randomUUID } from 'node:crypto';
import { EVENT_KINDS, STATE_NUMBERS, type EventKind } from './catalog.ts';
import type { SimCore } from './core.ts';
import type { HeaderList, SimEvent } from './wire.ts';

export type ChannelState = keyof typeof STATE_NUMBERS;
export type CallState = 'DOWN' | 'RINGING' | 'RING_WAIT' | 'EARLY' | 'ACTIVE' | 'HELD' | 'UNHELD' | 'HANGUP';
export type AnswerState = 'ringing' | 'early' | 'answered' | 'hangup';

export interface CallerProfile {
  direction: 'inbound' | 'outbound';
  logicalDirection: 'inbound' | 'outbound';
  username: string;
  dialplan: string;
  callerIdName: string;
  callerIdNumber: string;
  origCallerIdName: string;
  origCallerIdNumber: string;
  calleeIdName?: string;
  calleeIdNumber?: string;
  networkAddr: string;
  ani: string;
  destinationNumber: string;
  source: string;
  context: string;
  /** Set by a transfer: who transferred, and the number dialled before (Caller-RDNIS). */
  transferSource?: string;
  rdnis?: string;
}

export interface Codec {
  name: string;
  rate: number;
  bitRate: number;
}

export interface EventExtras {
  /** Headers between the standard block and Channel-State (Bridge-A-Unique-ID, Hangup-Cause, …). */
  pre?: HeaderList;
  /** Headers after the variables (Application, Playback-*, DTMF-*, …). */
  post?: HeaderList;
  body?: string;
  /** Override the call site (for kinds with several). */
  kind?: EventKind;
  subclass?: string;
}

export class SimChannel {
  readonly uuid: string;
  readonly core: SimCore;
  name: string;
  direction: 'inbound' | 'outbound';
  state: ChannelState = 'CS_NEW';
  callState: CallState = 'DOWN';
  answerState: AnswerState = 'ringing';
  hitDialplan: boolean;
  callUuid: string;
  profile: CallerProfile | undefined;
  readCodec: Codec | undefined;
  writeCodec: Codec | undefined;
  hangupCause: string | undefined;
  /** The other leg; `profile` is a snapshot when FreeSWITCH copied it (the originator at originate time). */
  other: { type: 'originator' | 'originatee'; channel: SimChannel; profile?: CallerProfile } | undefined;
  readonly vars = new Map<string, string>();
  readonly createdMicros: number;
  answeredMicros = 0;
  progressMicros = 0;
  progressMediaMicros = 0;
  hangupMicros = 0;
  transferMicros = 0;
  bridgedMicros = 0;
  /** Set once CHANNEL_DESTROY has been fired. */
  destroyed = false;

  constructor(opts: { core: SimCore; name: string; direction: 'inbound' | 'outbound'; uuid?: string; hitDialplan?: boolean }) {
    this.core = opts.core;
    this.uuid = opts.uuid ?? randomUUID();
    this.name = opts.name;
    this.direction = opts.direction;
    this.hitDialplan = opts.hitDialplan ?? opts.direction === 'inbound';
    this.callUuid = this.uuid;
    this.createdMicros = opts.core.nowMicros();
  }

  /** FreeSWITCH moves a re-set variable to the end of the list (delete + append). */
  setVar(name: string, value: string | undefined): void {
    this.vars.delete(name);
    if (value !== undefined) this.vars.set(name, value);
  }

  getVar(name: string): string | undefined {
    return this.vars.get(name);
  }

  get isUp(): boolean {
    return this.hangupCause === undefined;
  }

  private profileHeaders(prefix: string, withIndex: boolean, snapshot?: CallerProfile): HeaderList {
    const p = snapshot ?? this.profile;
    if (p === undefined) return [];
    // FreeSWITCH leaves out profile fields that are empty (an api originate has no caller name, no
    // username, no network address), so the header set itself depends on who created the channel.
    const h: HeaderList = [];
    const add = (name: string, value: string | undefined): void => {
      if (value !== undefined && value !== '') h.push([`${prefix}${name}`, value]);
    };
    add('Direction', p.direction);
    add('Logical-Direction', p.logicalDirection);
    add('Username', p.username);
    add('Dialplan', p.dialplan);
    add('Caller-ID-Name', p.callerIdName);
    add('Caller-ID-Number', p.callerIdNumber);
    add('Orig-Caller-ID-Name', p.origCallerIdName);
    add('Orig-Caller-ID-Number', p.origCallerIdNumber);
    add('Callee-ID-Name', p.calleeIdName);
    add('Callee-ID-Number', p.calleeIdNumber);
    add('Network-Addr', p.networkAddr);
    add('ANI', p.ani);
    add('Destination-Number', p.destinationNumber);
    add('Unique-ID', this.uuid);
    add('Source', p.source);
    // The other leg's block leaves the transfer source out (RDNIS stays).
    if (prefix !== 'Other-Leg-') add('Transfer-Source', p.transferSource);
    add('Context', p.context);
    add('RDNIS', p.rdnis);
    add('Channel-Name', this.name);
    if (withIndex) h.push([`${prefix}Profile-Index`, '1']);
    h.push(
      [`${prefix}Profile-Created-Time`, String(this.createdMicros)],
      [`${prefix}Channel-Created-Time`, String(this.createdMicros)],
      [`${prefix}Channel-Answered-Time`, String(this.answeredMicros)],
      [`${prefix}Channel-Progress-Time`, String(this.progressMicros)],
      [`${prefix}Channel-Progress-Media-Time`, String(this.progressMediaMicros)],
      [`${prefix}Channel-Hangup-Time`, String(this.hangupMicros)],
      [`${prefix}Channel-Transfer-Time`, String(this.transferMicros)],
      [`${prefix}Channel-Resurrect-Time`, '0'],
      [`${prefix}Channel-Bridged-Time`, String(this.bridgedMicros)],
      [`${prefix}Channel-Last-Hold`, '0'],
      [`${prefix}Channel-Hold-Accum`, '0'],
      [`${prefix}Screen-Bit`, 'true'],
      [`${prefix}Privacy-Hide-Name`, 'false'],
      [`${prefix}Privacy-Hide-Number`, 'false'],
    );
    return h;
  }

  private stateBlock(): HeaderList {
    const h: HeaderList = [
      ['Channel-State', this.state],
      ['Channel-Call-State', this.callState],
      ['Channel-State-Number', String(STATE_NUMBERS[this.state] ?? 0)],
      ['Channel-Name', this.name],
      ['Unique-ID', this.uuid],
      ['Call-Direction', this.direction],
      ['Presence-Call-Direction', this.direction],
      ['Channel-HIT-Dialplan', String(this.hitDialplan)],
      ['Channel-Call-UUID', this.callUuid],
      ['Answer-State', this.answerState],
    ];
    if (this.hangupCause !== undefined) h.push(['Hangup-Cause', this.hangupCause]);
    return h;
  }

  private codecBlock(): HeaderList {
    const h: HeaderList = [];
    if (this.readCodec !== undefined) {
      h.push(
        ['Channel-Read-Codec-Name', this.readCodec.name],
        ['Channel-Read-Codec-Rate', String(this.readCodec.rate)],
        ['Channel-Read-Codec-Bit-Rate', String(this.readCodec.bitRate)],
      );
    }
    if (this.writeCodec !== undefined) {
      h.push(
        ['Channel-Write-Codec-Name', this.writeCodec.name],
        ['Channel-Write-Codec-Rate', String(this.writeCodec.rate)],
        ['Channel-Write-Codec-Bit-Rate', String(this.writeCodec.bitRate)],
      );
    }
    return h;
  }

  /** The channel's own headers (state, codecs, profile, other leg, optionally variables). */
  dataHeaders(withVars: boolean): HeaderList {
    const h = [...this.stateBlock(), ...this.codecBlock(), ...this.profileHeaders('Caller-', true)];
    const other = this.other;
    if (other !== undefined && other.channel.profile !== undefined) {
      h.push(['Other-Type', other.type], ...other.channel.profileHeaders('Other-Leg-', false, other.profile));
    }
    if (withVars) for (const [k, v] of this.vars) h.push([`variable_${k}`, v]);
    return h;
  }

  /** Build (not fire) a channel event named `name` with FreeSWITCH's header layout. */
  buildEvent(name: string, extras: EventExtras = {}): SimEvent {
    const kind: EventKind = extras.kind ?? (EVENT_KINDS as Record<string, EventKind>)[name] ?? EVENT_KINDS.CHANNEL_STATE;
    const headers: HeaderList = [];
    if (extras.subclass !== undefined) headers.push(['Event-Subclass', extras.subclass]);
    headers.push(['Event-Name', name], ...this.core.standardHeaders(kind));
    if (extras.pre !== undefined) headers.push(...extras.pre);
    headers.push(...this.dataHeaders(kind.vars));
    if (extras.post !== undefined) headers.push(...extras.post);
    return { name, subclass: extras.subclass, uniqueId: this.uuid, headers, body: extras.body };
  }

  fire(name: string, extras: EventExtras = {}): void {
    this.core.fire(this.buildEvent(name, extras));
  }

  /** CHANNEL_DATA layout (outbound connect reply): profile as Channel-*, then state and codecs, then vars. */
  channelDataHeaders(): HeaderList {
    return [
      ['Event-Name', 'CHANNEL_DATA'],
      ...this.core.standardHeaders({ file: 'mod_event_socket.c', func: 'parse_command', line: 2021 }),
      ...this.profileHeaders('Channel-', true),
      ...this.stateBlock(),
      ...this.codecBlock(),
      ...[...this.vars].map(([k, v]): [string, string] => [`variable_${k}`, v]),
    ];
  }

  setState(state: ChannelState): void {
    this.state = state;
    this.fire('CHANNEL_STATE');
  }

  setCallState(callState: CallState): void {
    const original = this.callState;
    this.callState = callState;
    this.fire('CHANNEL_CALLSTATE', {
      pre: [
        ['Original-Channel-Call-State', original],
        ['Channel-Call-State-Number', String(CALLSTATE_NUMBERS[callState])],
      ],
    });
  }
}

const CALLSTATE_NUMBERS: Record<CallState, number> = {
  DOWN: 0,
  RINGING: 2,
  RING_WAIT: 4,
  EARLY: 3,
  ACTIVE: 5,
  HELD: 6,
  UNHELD: 8,
  HANGUP: 7,
};
