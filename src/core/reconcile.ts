// After the inbound ESL connection comes back (or the controller restarts), FreeSWITCH is the truth about
// which channels exist. This compares FreeSWITCH's channel list with what we believe and says what to do:
// calls we think are live but FreeSWITCH no longer has are ended (with a recorded cause), and inbound
// channels we do not track are adopted rather than dropped, so they still show up, get ended and counted.

export interface LiveChannel {
  uuid: string;
  direction: 'inbound' | 'outbound';
  callState: string;
  /** The dialplan application the channel is running (`socket` = handed to a controller). */
  application: string;
  /** Its argument (for a `bridge`, where the caller is being connected). */
  applicationData?: string;
  fromNumber: string;
  toNumber: string;
}

export interface KnownCall {
  id: string;
  fsUuid: string;
}

export interface ReconcileInput {
  /** `show channels as json` rows. */
  channels: readonly LiveChannel[];
  /** Calls the database says are not ended. */
  unendedCalls: readonly KnownCall[];
  /** FreeSWITCH uuids of calls this process is actively handling (their sessions are alive). */
  ownedFsUuids: ReadonlySet<string>;
}

export interface ReconcilePlan {
  /** Not in FreeSWITCH any more: end them with `cause`. */
  vanished: KnownCall[];
  /** In the database and in FreeSWITCH, but no session here: keep watching them. */
  reattach: { call: KnownCall; channel: LiveChannel }[];
  /** Inbound channels nobody knows about: create a call for each. */
  adopt: LiveChannel[];
  cause: string;
}

/** The hangup cause recorded for calls that disappeared while we could not see FreeSWITCH. */
export const VANISHED_CAUSE = 'LOST_DURING_ESL_OUTAGE';

export function planReconcile(input: ReconcileInput): ReconcilePlan {
  const liveByUuid = new Map(input.channels.map((channel) => [channel.uuid, channel]));
  const knownUuids = new Set(input.unendedCalls.map((call) => call.fsUuid));

  const vanished: KnownCall[] = [];
  const reattach: ReconcilePlan['reattach'] = [];
  for (const call of input.unendedCalls) {
    // A call with a live session here is that session's business; FreeSWITCH's channel list is written
    // asynchronously and can miss a channel created a moment ago (trace rule 11).
    if (input.ownedFsUuids.has(call.fsUuid)) continue;
    const channel = liveByUuid.get(call.fsUuid);
    if (!channel) vanished.push(call);
    else reattach.push({ call, channel });
  }

  // Outbound legs are the far side of our own bridges and originates; they belong to an existing call.
  // A channel running `socket` is being handed to a controller (this one, a moment from now, or another
  // one that owns it): its outbound socket decides who owns it, not a resync.
  const adopt = input.channels.filter(
    (channel) =>
      channel.direction === 'inbound' &&
      channel.application !== 'socket' &&
      !knownUuids.has(channel.uuid) &&
      !input.ownedFsUuids.has(channel.uuid),
  );

  return { vanished, reattach, adopt, cause: VANISHED_CAUSE };
}

/**
 * Where a call we knew is now, by FreeSWITCH, when no controller drives it any more: a channel running the
 * dialplan's `bridge` (the fallback after `socket`) is being connected to people, or is talking to them.
 * Undefined: nothing to learn (the state we recorded stands).
 */
export function stateFromChannelApplication(channel: Pick<LiveChannel, 'application' | 'callState'>): 'transferring' | 'bridged' | undefined {
  if (channel.application !== 'bridge') return undefined;
  return channel.callState === 'ACTIVE' ? 'bridged' : 'transferring';
}

/** The call state we can infer for an adopted channel from FreeSWITCH's call state. */
export function stateFromChannelCallState(callState: string): 'ringing' | 'answered' | 'bridged' {
  switch (callState) {
    case 'ACTIVE':
    case 'HELD':
    case 'UNHELD':
      return 'answered';
    case 'BRIDGED':
      return 'bridged';
    default:
      return 'ringing';
  }
}
