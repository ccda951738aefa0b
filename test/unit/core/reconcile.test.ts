import { describe, expect, it } from 'vitest';
import { planReconcile, stateFromChannelCallState, type LiveChannel } from '../../../src/core/reconcile.ts';

const channel = (uuid: string, direction: LiveChannel['direction'] = 'inbound'): LiveChannel => ({
  uuid,
  direction,
  callState: 'ACTIVE',
  application: 'park',
  fromNumber: '5551234567',
  toNumber: '2000',
});

describe('reconciling FreeSWITCH channels with known calls', () => {
  it('ends calls FreeSWITCH no longer has, with a recorded cause', () => {
    const plan = planReconcile({
      channels: [channel('fs-2')],
      unendedCalls: [
        { id: 'call-1', fsUuid: 'fs-1' },
        { id: 'call-2', fsUuid: 'fs-2' },
      ],
      ownedFsUuids: new Set(['fs-2']),
    });
    expect(plan.vanished).toEqual([{ id: 'call-1', fsUuid: 'fs-1' }]);
    expect(plan.cause).toBe('LOST_DURING_ESL_OUTAGE');
    expect(plan.adopt).toEqual([]);
    expect(plan.reattach).toEqual([]);
  });

  it('never ends a call whose session is alive here, even if the channel list does not show it yet', () => {
    const plan = planReconcile({
      channels: [],
      unendedCalls: [{ id: 'call-1', fsUuid: 'fs-1' }],
      ownedFsUuids: new Set(['fs-1']),
    });
    expect(plan.vanished).toEqual([]);
  });

  it('adopts unknown inbound channels and leaves outbound legs alone', () => {
    const plan = planReconcile({
      channels: [channel('stranger'), channel('agent-leg', 'outbound')],
      unendedCalls: [],
      ownedFsUuids: new Set(),
    });
    expect(plan.adopt.map((c) => c.uuid)).toEqual(['stranger']);
  });

  it('leaves channels that are being handed to a controller (socket application) to their outbound socket', () => {
    const plan = planReconcile({
      channels: [{ ...channel('arriving'), application: 'socket' }],
      unendedCalls: [],
      ownedFsUuids: new Set(),
    });
    expect(plan.adopt).toEqual([]);
  });

  it('re-attaches calls the database knows but no session here handles', () => {
    const plan = planReconcile({
      channels: [channel('fs-9')],
      unendedCalls: [{ id: 'call-9', fsUuid: 'fs-9' }],
      ownedFsUuids: new Set(),
    });
    expect(plan.reattach).toEqual([{ call: { id: 'call-9', fsUuid: 'fs-9' }, channel: channel('fs-9') }]);
    expect(plan.adopt).toEqual([]);
  });

  it('maps FreeSWITCH call states to ours', () => {
    expect(stateFromChannelCallState('ACTIVE')).toBe('answered');
    expect(stateFromChannelCallState('RINGING')).toBe('ringing');
    expect(stateFromChannelCallState('EARLY')).toBe('ringing');
    expect(stateFromChannelCallState('BRIDGED')).toBe('bridged');
  });
});
