// Hand-offs without a socket or a simulator: CallHandOffs drives the real (pure) call machine, and its
// FreeSWITCH commands go through the real ChannelControl onto RecordingEsl, which keeps them as FreeSWITCH
// would read them. What a person on the phone would notice: who gets hung up, what is dialled, in what order.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CallHandOffs, type HandOffCall, type HandOffDial, type HandOffPolicy, type TransferRecorder } from '../../../src/call/call-handoffs.ts';
import type { CallRecord } from '../../../src/core/call.ts';
import { initialCallState, transition, type CallCommand, type CallInput, type CallMachineState } from '../../../src/core/call-machine.ts';
import type { RoutingDecision } from '../../../src/core/routing/types.ts';
import { ChannelControl } from '../../../src/esl/channel-control.ts';
import { RecordingEsl } from '../../../src/esl/recording-esl.ts';
import { eventually } from '../../support/eventually.ts';

const CALLER_UUID = '6f1c2a8e-0b1d-4e5f-9a7b-3c2d1e0f9a8b';
const PERSON_LEG = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
const EMERGENCY = { dial: 'sofia/gateway/pstn/+15550100911', fallbackDial: 'sofia/gateway/threecx/100' };

interface Rig {
  handOffs: CallHandOffs;
  esl: RecordingEsl;
  /** Inputs the hand-offs gave the call machine, in order. */
  inputs: CallInput[];
  /** Commands the machine gave back (what the session would send next). */
  commands: CallCommand[];
  journal: { type: string; data: Record<string, unknown> }[];
  escalations: string[];
  state: () => CallMachineState['state'];
  /** Moves the call as FreeSWITCH events would (answer, bridge, …). */
  apply: (input: CallInput) => void;
}

function rig(options: { from?: CallMachineState; policy?: Partial<HandOffPolicy>; dial?: HandOffDial } = {}): Rig {
  const esl = new RecordingEsl();
  let machine: CallMachineState = options.from ?? { ...initialCallState, state: 'in_conversation', plan: { kind: 'converse', record: false, announcement: null } };
  const inputs: CallInput[] = [];
  const commands: CallCommand[] = [];
  const journal: Rig['journal'] = [];
  const escalations: string[] = [];
  const apply = (input: CallInput): void => {
    const result = transition(machine, input);
    machine = result.next;
    commands.push(...result.commands);
    // Called only once handOffs exists (the machine moves after construction).
    if (result.ok) handOffs.timeTransfer(input, result.to);
  };
  let ms = 0;
  const call: HandOffCall = {
    callId: 'call-1',
    fsUuid: CALLER_UUID,
    record: { fromNumber: '+15551230001', toNumber: '+15559870100' } as CallRecord,
    channel: new ChannelControl(esl),
    clock: { now: () => new Date(1_700_000_000_000 + ms), monotonicMs: () => (ms += 5) },
    logger: pino({ level: 'silent' }),
    machine: () => machine,
    decision: () => ({ reason: 'open' }) as RoutingDecision,
    conversation: () => undefined,
    apply: (input) => {
      inputs.push(input);
      apply(input);
    },
    journal: (type, data) => journal.push({ type, data }),
    background: (_what, promise) => void promise.catch(() => undefined),
    recordEmergency: () => undefined,
  };
  const policy: HandOffPolicy = {
    resolveHandOff: () => options.dial ?? { dial: 'sofia/gateway/threecx/700', fallbackDial: 'sofia/gateway/threecx/701', resolvedAs: 'ring_group:scheduling' },
    emergency: {
      dial: () => EMERGENCY,
      escalated: (_call, trigger) => escalations.push(trigger.kind),
    },
    ...options.policy,
  };
  const handOffs = new CallHandOffs(call, policy);
  return { handOffs, esl, inputs, commands, journal, escalations, state: () => machine.state, apply };
}

const bridged = (): CallMachineState => ({ ...initialCallState, state: 'bridged', plan: { kind: 'converse', record: false, announcement: null } });

function recorder(begin: TransferRecorder['begin'] = async () => 'transfer-1'): TransferRecorder & { begun: unknown[]; ended: unknown[] } {
  const begun: unknown[] = [];
  const ended: unknown[] = [];
  return {
    begun,
    ended,
    begin: (transfer) => {
      begun.push(transfer);
      return begin(transfer);
    },
    end: (id, outcome) => ended.push({ id, outcome }),
  };
}

describe('CallHandOffs', () => {
  it('moves a bridged caller to new people: stores the context, queues the new bridge, then hangs up the person they were talking to', async () => {
    const transfers = recorder();
    const r = rig({ from: bridged(), policy: { transfers } });
    r.handOffs.bridgedTo(PERSON_LEG);
    expect(r.handOffs.transfer({ name: 'scheduling', reason: 'staff moved the call', summary: 'wants Tuesday' })).toBe('accepted');
    await eventually(() => r.esl.sent('api').length > 0, 'the old leg killed');
    expect(transfers.begun).toEqual([expect.objectContaining({ targetKind: 'ring_group', targetName: 'scheduling', reason: 'staff moved the call', urgency: 'normal' })]);
    expect(r.inputs).toEqual([{ type: 'transfer_requested', target: 'sofia/gateway/threecx/700', reason: 'staff moved the call', fallback: 'sofia/gateway/threecx/701' }]);
    expect(r.commands).toEqual([{ type: 'bridge', target: 'sofia/gateway/threecx/700' }]);
    // Ending the person's leg is what lets the queued bridge run; the caller's own channel is never killed.
    expect(r.esl.sent('api')).toEqual([`uuid_kill ${PERSON_LEG}`]);

    r.apply({ type: 'bridged', otherLegUuid: 'c0ffee00-0000-4000-8000-000000000001' });
    await eventually(() => transfers.ended.length === 1, 'the transfer record ended');
    expect(transfers.ended).toEqual([{ id: 'transfer-1', outcome: 'bridged' }]);
    expect(r.journal.find((e) => e.type === 'transfer_bridged')?.data).toMatchObject({ reason: 'staff moved the call' });
  });

  it('bridges even when the context cannot be stored, and does not wait long for a slow store', async () => {
    const failing = rig({ policy: { transfers: recorder(async () => Promise.reject(new Error('database down'))) } });
    await failing.handOffs.handOff({ name: 'operator', reason: 'caller asked', summary: '' });
    expect(failing.inputs.map((i) => i.type)).toEqual(['transfer_requested']);

    const hanging = rig({ policy: { transfers: recorder(() => new Promise(() => undefined)) } });
    await hanging.handOffs.handOff({ name: 'operator', reason: 'caller asked', summary: '' });
    expect(hanging.inputs.map((i) => i.type)).toEqual(['transfer_requested']);
  });

  it('escalates an emergency once: dials the emergency target and cuts off the person on a bridged call', async () => {
    const r = rig({ from: bridged() });
    r.handOffs.bridgedTo(PERSON_LEG);
    expect(await r.handOffs.escalate({ kind: 'phrase', language: 'en', index: 0 })).toBe('accepted');
    expect(r.inputs).toEqual([{ type: 'transfer_requested', target: EMERGENCY.dial, reason: 'emergency', fallback: EMERGENCY.fallbackDial }]);
    expect(r.commands).toEqual([{ type: 'bridge', target: EMERGENCY.dial }]);
    expect(r.esl.sent('api')).toEqual([`uuid_kill ${PERSON_LEG}`]);
    expect(r.escalations).toEqual(['phrase']);
    expect(r.journal.find((e) => e.type === 'emergency')?.data).toMatchObject({ trigger: 'phrase' });
    expect(await r.handOffs.escalate({ kind: 'dtmf' })).toBe('already_escalated');
    expect(r.escalations).toEqual(['phrase']);
  });

  it('does not escalate or move a call that has not been answered or has ended', async () => {
    const ringing = rig({ from: initialCallState });
    expect(await ringing.handOffs.escalate({ kind: 'dtmf' })).toBe('not_transferable');
    expect(ringing.handOffs.transfer({ name: 'operator', reason: 'x', summary: '' })).toBe('not_transferable');
    expect(ringing.esl.commands).toEqual([]);
    expect(ringing.inputs).toEqual([]);
  });

  it('a warm transfer nobody takes stops the hold music before the fallback is dialled', async () => {
    const warm = { agents: [{ extension: '201', name: 'Ana', skills: [], priority: 1 }], ringSeconds: 15 };
    const r = rig({
      dial: { dial: 'sofia/gateway/threecx/700', fallbackDial: 'sofia/gateway/threecx/800', resolvedAs: 'ring_group:scheduling', warm },
      policy: { warmTransfer: async () => 'no_answer' },
    });
    await r.handOffs.handOff({ name: 'scheduling', reason: 'booking', summary: '' });
    expect(r.inputs).toEqual([
      { type: 'transfer_requested', target: 'ring_group:scheduling', reason: 'booking', fallback: 'sofia/gateway/threecx/800', warm: true },
      { type: 'transfer_failed', cause: 'NO_ANSWER' },
    ]);
    expect(r.esl.sent('api')).toEqual([`uuid_break ${CALLER_UUID} all`]);
    // The warm attempt sends no bridge of its own; the fallback is the first bridge FreeSWITCH gets.
    expect(r.commands).toEqual([{ type: 'bridge', target: 'sofia/gateway/threecx/800' }]);
  });

  it('a caller put through by a warm transfer cannot be moved by staff (ending that leg would end theirs)', async () => {
    const warm = { agents: [], ringSeconds: 15 };
    const r = rig({
      dial: { dial: 'x', fallbackDial: null, resolvedAs: 'ring_group:scheduling', warm },
      policy: { warmTransfer: async () => 'bridged' },
    });
    await r.handOffs.handOff({ name: 'scheduling', reason: 'booking', summary: '' });
    r.apply({ type: 'bridged', otherLegUuid: PERSON_LEG });
    r.handOffs.bridgedTo(PERSON_LEG);
    expect(r.state()).toBe('bridged');
    expect(r.handOffs.transfer({ name: 'operator', reason: 'staff', summary: '' })).toBe('not_transferable');
    expect(r.esl.sent('api')).toEqual([]);
  });
});
