import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CallJournal } from '../../../src/app/call-journal.ts';
import type { CallEventRecord, CallRecord } from '../../../src/core/call.ts';
import type { CallStore } from '../../../src/core/ports.ts';

/** A store whose writes fail while `down` is true, recording what reached it. */
function flakyStore() {
  const written: string[] = [];
  const state = { down: false, failures: 0 };
  const write = async (what: string) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (state.down) {
      state.failures++;
      throw new Error('connection refused');
    }
    written.push(what);
  };
  const store: CallStore = {
    createCall: (call: CallRecord) => write(`create ${call.id}`),
    updateCall: (id, update) => write(`update ${id} ${update.state ?? ''}`),
    appendEvent: (event: CallEventRecord) => write(`event ${event.seq}`),
    listCalls: async () => [],
    getCall: async () => undefined,
    listUnendedCalls: async () => [],
    ping: async () => undefined,
  };
  return { store, written, state };
}

const call: CallRecord = {
  id: 'c1',
  fsUuid: 'f1',
  direction: 'inbound',
  fromNumber: '+15551234567',
  toNumber: '+15559870100',
  location: null,
  state: 'ringing',
  startedAt: new Date(),
  answeredAt: null,
  endedAt: null,
  hangupCause: null,
};
const event = (seq: number): CallEventRecord => ({
  callId: 'c1',
  seq,
  type: 'x',
  fromState: null,
  toState: null,
  at: new Date(),
  monotonicMs: seq,
  data: {},
});

describe('call journal', () => {
  it('writes strictly in the order things happened', async () => {
    const { store, written } = flakyStore();
    const journal = new CallJournal({ store, logger: pino({ level: 'silent' }) });
    journal.create(call);
    journal.append(event(1));
    journal.update('c1', { state: 'answered' });
    journal.append(event(2));
    await journal.flush();
    expect(written).toEqual(['create c1', 'event 1', 'update c1 answered', 'event 2']);
    expect(journal.pending).toBe(0);
  });

  it('keeps a call history through a short database outage by retrying', async () => {
    const { store, written, state } = flakyStore();
    const journal = new CallJournal({ store, logger: pino({ level: 'silent' }), retryDelaysMs: [5, 5, 50] });
    state.down = true;
    journal.create(call);
    journal.append(event(1));
    setTimeout(() => (state.down = false), 20);
    await journal.flush();
    expect(state.failures).toBeGreaterThan(0);
    expect(written).toEqual(['create c1', 'event 1']);
  });

  it('gives up on a write after its last attempt, reports it, and goes on with the next', async () => {
    const { store, written, state } = flakyStore();
    let failed = 0;
    const journal = new CallJournal({
      store,
      logger: pino({ level: 'silent' }),
      retryDelaysMs: [1],
      onWriteFailed: () => failed++,
    });
    state.down = true;
    journal.create(call);
    await journal.flush();
    state.down = false;
    journal.append(event(1));
    await journal.flush();
    expect(failed).toBe(1);
    expect(written).toEqual(['event 1']);
  });
});
