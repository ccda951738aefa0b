import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QueueUnavailableError } from '../../../src/core/errors.ts';
import type { JobSink, RelayJob } from '../../../src/queue/jobs.ts';
import { OutboxRelay, type OutboxPort, type PendingRow } from '../../../src/queue/outbox-relay.ts';

/** The outbox table in memory: rows in id order, relayed ones remembered. */
class MemoryOutbox implements OutboxPort {
  rows: (PendingRow & { relayed: boolean; attempts: number })[] = [];
  #next = 1;
  add(jobId: string): void {
    this.rows.push({ id: this.#next++, queue: 'post-call', jobName: 'transcribe', jobId, payload: {}, relayed: false, attempts: 0 });
  }
  async pending(limit: number): Promise<PendingRow[]> {
    return this.rows.filter((r) => !r.relayed).slice(0, limit);
  }
  async markRelayed(ids: readonly number[]): Promise<void> {
    for (const r of this.rows) if (ids.includes(r.id)) r.relayed = true;
  }
  async markFailed(id: number): Promise<void> {
    const row = this.rows.find((r) => r.id === id);
    if (row) row.attempts += 1;
  }
  async countPending(): Promise<number> {
    return this.rows.filter((r) => !r.relayed).length;
  }
}

/** A queue that is down until told otherwise; remembers when each add was tried and what it holds. */
class Sink implements JobSink {
  down = false;
  tries: number[] = [];
  readonly jobs = new Map<string, RelayJob>();
  async add(job: RelayJob): Promise<void> {
    this.tries.push(Date.now());
    if (this.down) throw new QueueUnavailableError('Redis is not reachable');
    this.jobs.set(job.jobId, job);
  }
}

let outbox: MemoryOutbox;
let sink: Sink;
let relay: OutboxRelay;
const gauge: number[] = [];

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  outbox = new MemoryOutbox();
  sink = new Sink();
  gauge.length = 0;
  relay = new OutboxRelay({ outbox, sink, pollIntervalMs: 1000, batchSize: 2, backoff: { initialMs: 100, maxMs: 400 }, onPending: (n) => gauge.push(n) });
});

afterEach(async () => {
  await relay.close();
  vi.useRealTimers();
});

describe('OutboxRelay', () => {
  it('relays every pending row in order, in batches, and marks them', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) outbox.add(id);
    relay.start();
    await vi.advanceTimersByTimeAsync(0);
    expect([...sink.jobs.keys()]).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await outbox.countPending()).toBe(0);
    expect(gauge.at(-1)).toBe(0);
  });

  it('keeps rows while the queue is down, backing off up to the cap, and drains once it is back', async () => {
    outbox.add('a');
    outbox.add('b');
    sink.down = true;
    relay.start();
    await vi.advanceTimersByTimeAsync(2000);
    const gaps = sink.tries.slice(1).map((t, i) => t - sink.tries[i]!);
    expect(gaps.slice(0, 5)).toEqual([100, 200, 400, 400, 400]);
    expect(await outbox.countPending()).toBe(2);
    expect(gauge.at(-1)).toBe(2);
    // Only the first row is tried each round: later rows keep their order behind it.
    expect(outbox.rows.map((r) => r.attempts)).toEqual([sink.tries.length, 0]);

    // A kick while backing off does not hammer the dead queue.
    const before = sink.tries.length;
    relay.kick();
    await vi.advanceTimersByTimeAsync(10);
    expect(sink.tries.length).toBe(before);

    sink.down = false;
    await vi.advanceTimersByTimeAsync(400);
    expect([...sink.jobs.keys()]).toEqual(['a', 'b']);
    expect(gauge.at(-1)).toBe(0);
  });

  it('relays at once on a kick, otherwise at the next poll', async () => {
    relay.start();
    await vi.advanceTimersByTimeAsync(0);
    outbox.add('kicked');
    relay.kick();
    await vi.advanceTimersByTimeAsync(0);
    expect(sink.jobs.has('kicked')).toBe(true);
    outbox.add('polled');
    await vi.advanceTimersByTimeAsync(999);
    expect(sink.jobs.has('polled')).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(sink.jobs.has('polled')).toBe(true);
  });
});
