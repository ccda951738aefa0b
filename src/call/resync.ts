// Reconciles the registry and the database with FreeSWITCH after the inbound connection (re)connects.
// The decision is pure (core/reconcile.ts); this file gathers the inputs and carries the plan out.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { planReconcile, stateFromChannelApplication, stateFromChannelCallState, type LiveChannel } from '../core/reconcile.ts';
import type { CallStore, Clock } from '../core/ports.ts';
import type { CallRecord, CallState } from '../core/call.ts';
import type { ChannelRow } from '../esl/channels.ts';
import { AdoptedCall } from './adopted-call.ts';
import type { CallJournal } from './journal.ts';
import type { CallRegistry, RegisteredCall } from './registry.ts';

export interface ResyncDeps {
  store: CallStore;
  journal: CallJournal;
  registry: CallRegistry<RegisteredCall>;
  clock: Clock;
  logger: Logger;
  onAdoptedEnded: (call: AdoptedCall) => void;
}

export interface ResyncResult {
  vanished: number;
  adopted: number;
  reattached: number;
}

export function toLiveChannel(row: ChannelRow): LiveChannel {
  return {
    uuid: row.uuid,
    direction: row.direction === 'outbound' ? 'outbound' : 'inbound',
    callState: row.callstate,
    application: row.application ?? '',
    applicationData: row.application_data ?? '',
    fromNumber: row.cid_num,
    toNumber: row.dest,
  };
}

export async function resync(rows: readonly ChannelRow[], deps: ResyncDeps): Promise<ResyncResult> {
  const { store, registry, clock, logger } = deps;
  const unended = await store.listUnendedCalls();
  // Sessions learn about their own call on its outbound socket; adopted calls depend on the inbound
  // connection that just came back, so they are reconciled like any other call the database knows.
  const sessionUuids = new Set(
    registry
      .all()
      .filter((call) => !(call instanceof AdoptedCall))
      .map((call) => call.fsUuid),
  );
  const plan = planReconcile({
    channels: rows.map(toLiveChannel),
    unendedCalls: unended.map((call) => ({ id: call.id, fsUuid: call.fsUuid })),
    ownedFsUuids: sessionUuids,
  });
  const { journal } = deps;
  const adoptedCall = (fsUuid: string): AdoptedCall | undefined => {
    const call = registry.getByFsUuid(fsUuid);
    return call instanceof AdoptedCall ? call : undefined;
  };

  for (const call of plan.vanished) {
    const adopted = adoptedCall(call.fsUuid);
    if (adopted !== undefined) {
      adopted.hungUp(plan.cause);
      continue;
    }
    const existing = await store.getCall(call.id);
    const seq = (existing?.events.at(-1)?.seq ?? 0) + 1;
    journal.append({
      callId: call.id,
      seq,
      type: 'hung_up',
      fromState: existing?.state ?? null,
      toState: 'ended',
      at: clock.now(),
      monotonicMs: clock.monotonicMs(),
      data: { cause: plan.cause, via: 'resync' },
    });
    journal.update(call.id, { state: 'ended', endedAt: clock.now(), hangupCause: plan.cause });
  }

  for (const { call, channel } of plan.reattach) {
    if (adoptedCall(call.fsUuid) !== undefined) continue;
    const existing = await store.getCall(call.id);
    const state = existing?.state ?? stateFromChannelCallState(channel.callState);
    const adopted = new AdoptedCall({
      record: existing ?? channelRecord(call.id, channel, state, clock.now()),
      journal,
      clock,
      logger,
      nextSeq: (existing?.events.at(-1)?.seq ?? 0) + 1,
      onEnded: deps.onAdoptedEnded,
    });
    registry.add(adopted);
    // The controller that had it may be gone (killed mid-call): FreeSWITCH's dialplan then took the caller
    // on to its fallback. Its word on where the caller is now replaces the state that controller recorded.
    const observed = stateFromChannelApplication(channel);
    adopted.adopted('reattached', {
      state: observed,
      data: { application: channel.application, applicationData: channel.applicationData ?? '', callState: channel.callState },
    });
  }

  for (const channel of plan.adopt) {
    const state = stateFromChannelCallState(channel.callState);
    const record = channelRecord(randomUUID(), channel, state, clock.now());
    journal.create({ ...record });
    const adopted = new AdoptedCall({
      record,
      journal,
      clock,
      logger,
      nextSeq: 1,
      onEnded: deps.onAdoptedEnded,
    });
    registry.add(adopted);
    adopted.adopted('adopted');
  }

  await journal.flush();
  const result = { vanished: plan.vanished.length, adopted: plan.adopt.length, reattached: plan.reattach.length };
  if (result.vanished + result.adopted + result.reattached > 0) logger.info(result, 'resynchronised with FreeSWITCH');
  return result;
}

/** What a live channel tells of a call we did not see start (its row, as far as it can be known). */
function channelRecord(id: string, channel: Pick<LiveChannel, 'uuid' | 'fromNumber' | 'toNumber'>, state: CallState, now: Date): CallRecord {
  return {
    id,
    fsUuid: channel.uuid,
    direction: 'inbound',
    fromNumber: channel.fromNumber,
    toNumber: channel.toNumber,
    location: null,
    state,
    startedAt: now,
    answeredAt: state === 'ringing' ? null : now,
    endedAt: null,
    hangupCause: null,
    voiceQuality: null,
  };
}
