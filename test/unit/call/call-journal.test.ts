import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { CallJournal } from '../../../src/call/journal.ts';
import type { CallEventRecord, CallRecord } from '../../../src/core/call.ts';
import type { CallStore, CallWriteBatch } from '../../../src/core/ports.ts';

/** A store whose writes fail while `down` is true (or for one poisoned call), recording the batches that land. */
function flakyStore() {
  const batches: CallWriteBatch[] = [];
  const state = { down: false, failures: 0, poisonedCallId: undefined as string | undefined };
  const unused = async (): Promise<never> => {
    throw new Error('not used by the journal');
  };
  const store: CallStore = {
    async writeBatch(batch) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      const poisoned = state.poisonedCallId !== undefined && batch.events.some((e) => e.callId === state.poisonedCallId);
      if (state.down || poisoned) {
        state.failures++;
        throw new Error('connection refused');
      }
      batches.push(structuredClone(batch));
    },
    createCall: unused,
    updateCall: unused,
    appendEvent: unused,
    listCalls: unused,
    getCall: unused,
    listUnendedCalls: unused,
    ping: unused,
    recentCallerRoutes: unused,
  };
  return { store, batches, state };
}

const call = (id: string): CallRecord => ({
  id,
  fsUuid: `fs-${id}`,
  direction: 'inbound',
  fromNumber: '+15551234567',
  toNumber: '+15559870100',
  location: null,
  state: 'ringing',
  startedAt: new Date(0),
  answeredAt: null,
  endedAt: null,
  hangupCause: null,
  voiceQuality: null,
});
const event = (callId: string, seq: number): CallEventRecord => ({
  callId,
  seq,
  type: 'x',
  fromState: null,
  toState: null,
  at: new Date(0),
  monotonicMs: seq,
  data: {},
});
const silent = pino({ level: 'silent' });

describe('call journal', () => {
  it('writes what a burst of calls queued in one batch: calls first, then events, then merged updates', async () => {
    const { store, batches } = flakyStore();
    const journal = new CallJournal({ store, logger: silent });
    journal.create(call('a'));
    journal.append(event('a', 1));
    journal.update('a', { state: 'answered' });
    journal.create(call('b'));
    journal.update('a', { state: 'ended', hangupCause: 'NORMAL_CLEARING' });
    journal.append(event('a', 2));
    await journal.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.newCalls.map((c) => c.id)).toEqual(['a', 'b']);
    expect(batches[0]!.events.map((e) => e.seq)).toEqual([1, 2]);
    expect(batches[0]!.updates).toEqual([{ id: 'a', update: { state: 'ended', hangupCause: 'NORMAL_CLEARING' } }]);
    expect(journal.pending).toBe(0);
  });

  it('keeps later writes in later batches, in order', async () => {
    const { store, batches } = flakyStore();
    const journal = new CallJournal({ store, logger: silent });
    journal.create(call('a'));
    const first = journal.flush();
    await new Promise((resolve) => setImmediate(resolve));
    journal.append(event('a', 1));
    await first;
    await journal.flush();
    expect(batches.map((b) => [b.newCalls.length, b.events.length])).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('keeps call history through a short database outage by retrying', async () => {
    const { store, batches, state } = flakyStore();
    const journal = new CallJournal({ store, logger: silent, retryDelaysMs: [5, 5, 50] });
    state.down = true;
    journal.create(call('a'));
    journal.append(event('a', 1));
    setTimeout(() => (state.down = false), 20);
    await journal.flush();
    expect(state.failures).toBeGreaterThan(0);
    expect(batches.flatMap((b) => [...b.newCalls.map((c) => c.id), ...b.events.map((e) => e.seq)])).toEqual(['a', 1]);
  });

  it('does not let one bad write take the rest of its batch down', async () => {
    const { store, batches, state } = flakyStore();
    let lost = 0;
    const journal = new CallJournal({ store, logger: silent, retryDelaysMs: [1], onWriteFailed: () => lost++ });
    state.poisonedCallId = 'bad';
    journal.create(call('good'));
    journal.append(event('bad', 1));
    journal.append(event('good', 1));
    await journal.flush();
    expect(lost).toBe(1);
    const landed = batches.flatMap((b) => [...b.newCalls.map((c) => `call ${c.id}`), ...b.events.map((e) => `event ${e.callId}`)]);
    expect(landed).toEqual(['call good', 'event good']);
  });

  it('resolves a flush without waiting for writes queued after it', async () => {
    const { store } = flakyStore();
    const journal = new CallJournal({ store, logger: silent });
    journal.create(call('a'));
    const flushed = journal.flush();
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is being written
    for (let i = 1; i <= 50; i++) journal.append(event('a', i));
    await flushed;
    expect(journal.pending).toBeGreaterThan(0);
    await journal.flush();
    expect(journal.pending).toBe(0);
  });
});
