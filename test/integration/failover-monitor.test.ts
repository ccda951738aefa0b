// The failover monitor against the FreeSWITCH simulator over real ESL: the 3CX gateway going DOWN and UP, an
// override, a gateway FreeSWITCH does not know, and polls that get no answer. Time is a manual clock (the
// machine's deadlines and the poll timer run on it), so "within 6 s" is exact and no test waits for real.
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { FailoverMonitor, type FailoverMonitorOptions } from '../../src/app/failover-monitor.ts';
import { SYSTEM_MODE_DEFAULTS } from '../../src/core/system-mode.ts';
import { EslConnectionClosedError } from '../../src/core/errors.ts';
import { InboundEslClient, parseGatewayStatus, type EslConnection, type Timers } from '../../src/esl/index.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';

/** FAILOVER_TIMEOUT_SECONDS' default: detection plus one poll interval must fit in it. */
const FAILOVER_TIMEOUT_MS = 10_000;
const POLL_MS = 2_000;

class ManualTime {
  now = Date.parse('2026-11-25T10:00:00Z');
  readonly #pending = new Map<number, { at: number; callback: () => void }>();
  #seq = 0;
  readonly clock = { now: () => new Date(this.now) };
  readonly timers: Timers = {
    setTimeout: (callback, ms) => {
      this.#pending.set(++this.#seq, { at: this.now + ms, callback });
      return this.#seq;
    },
    clearTimeout: (handle) => {
      this.#pending.delete(handle as number);
    },
  };

  /** Moves time forward, running every timer that falls due at its own time, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (due === undefined) break;
      this.#pending.delete(due[0]);
      this.now = due[1].at;
      due[1].callback();
    }
    this.now = end;
  }
}

let sim: FreeSwitchSimulator | undefined;
let client: InboundEslClient | undefined;
let monitor: FailoverMonitor | undefined;

afterEach(async () => {
  await monitor?.close();
  await client?.stop();
  await sim?.stop();
  monitor = undefined;
  client = undefined;
  sim = undefined;
});

async function setup(overrides: Partial<FailoverMonitorOptions> = {}): Promise<{ time: ManualTime; monitor: FailoverMonitor; esl: EslConnection }> {
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, heartbeatMs: 0 });
  const { eslPort } = await sim.start();
  client = new InboundEslClient({ host: '127.0.0.1', port: eslPort, password: 'ClueCon', events: ['CHANNEL_HANGUP_COMPLETE'] });
  await client.start();
  const esl = await client.waitConnected({ timeoutMs: 2_000 });
  const inbound = client;
  const time = new ManualTime();
  monitor = new FailoverMonitor({
    api: (command) => {
      const connection = inbound.current();
      if (connection === undefined) return Promise.reject(new EslConnectionClosedError('No inbound ESL connection'));
      return connection.api(command);
    },
    gateways: { threecx: 'threecx' },
    pollIntervalMs: POLL_MS,
    clock: time.clock,
    timers: time.timers,
    ...overrides,
  });
  return { time, monitor, esl };
}

/** Runs the clock one poll interval and waits for that poll's reply to be taken in. */
async function nextPoll(time: ManualTime, m: FailoverMonitor): Promise<void> {
  const polled = once(m, 'polled');
  time.advance(POLL_MS);
  await polled;
}

describe('failover monitor over ESL', () => {
  it('the 3CX gateway going DOWN switches to 3cx-down within detectMs of the first DOWN poll, inside FAILOVER_TIMEOUT_SECONDS', async () => {
    const { time, monitor: m, esl } = await setup();
    const changes: Array<[string, string, string]> = [];
    m.on('modeChanged', (from, to, reason) => changes.push([from, to, reason]));
    const first = once(m, 'polled');
    m.start();
    expect((await first)[0]).toMatchObject({ kind: 'gateway', gateway: { name: 'threecx', status: 'UP' } });
    expect(m.mode()).toBe('normal');

    sim?.setGateway('threecx', { up: false });
    const wentDown = time.now;
    await nextPoll(time, m);
    const firstDownSeen = time.now;
    while (m.mode() === 'normal' && time.now - wentDown < 3 * FAILOVER_TIMEOUT_MS) await nextPoll(time, m);

    expect(m.mode()).toBe('3cx-down');
    const [transition] = m.history();
    expect(transition?.at).toBe(firstDownSeen + SYSTEM_MODE_DEFAULTS.detectMs);
    expect((transition?.at ?? Infinity) - wentDown).toBeLessThanOrEqual(FAILOVER_TIMEOUT_MS);
    expect(changes).toEqual([['normal', '3cx-down', expect.stringContaining('gateway threecx: state NOREG, status DOWN') as string]]);

    // What FreeSWITCH does meanwhile: calls through 3CX fail at once, the Twilio trunk still works.
    await expect(esl.api('originate sofia/gateway/threecx/800 &park')).rejects.toThrow('-ERR GATEWAY_DOWN');
    expect(await esl.api('originate sofia/gateway/twilio/+15550100 &park')).toMatch(/^\+OK [0-9a-f-]{36}\n$/);
    expect(parseGatewayStatus(await esl.api('sofia status gateway threecx'))).toMatchObject({
      kind: 'gateway',
      gateway: { status: 'DOWN', failedCallsOut: 1 },
    });
    await esl.api('hupall');
  });

  it('UP again: back to normal only after recoverMs of continuous UP polls', async () => {
    const { time, monitor: m } = await setup();
    m.start();
    sim?.setGateway('threecx', { up: false });
    for (let i = 0; i < 5; i++) await nextPoll(time, m);
    expect(m.mode()).toBe('3cx-down');

    sim?.setGateway('threecx', { up: true });
    await nextPoll(time, m);
    const firstUpSeen = time.now;
    while (time.now < firstUpSeen + SYSTEM_MODE_DEFAULTS.recoverMs - POLL_MS) {
      await nextPoll(time, m);
      expect(m.mode()).toBe('3cx-down');
    }
    const back = once(m, 'modeChanged');
    await nextPoll(time, m);
    expect(await back).toEqual(['3cx-down', 'normal', expect.stringContaining('every source healthy') as string]);
    expect(m.history().at(-1)?.at).toBe(firstUpSeen + SYSTEM_MODE_DEFAULTS.recoverMs);
  });

  it('a gateway that flaps back DOWN during recovery keeps the mode down', async () => {
    const { time, monitor: m } = await setup();
    m.start();
    sim?.setGateway('threecx', { up: false });
    for (let i = 0; i < 5; i++) await nextPoll(time, m);
    for (let i = 0; i < 40; i++) {
      sim?.setGateway('threecx', { up: i % 5 !== 4 });
      await nextPoll(time, m);
    }
    expect(m.mode()).toBe('3cx-down');
    expect(m.history()).toHaveLength(1);
  });

  it('an override beats detection; clearing it hands the mode back to what the gateway polls say', async () => {
    const { time, monitor: m } = await setup();
    m.start();
    m.override('ai-down', 'ops@practice');
    expect(m.mode()).toBe('ai-down');
    sim?.setGateway('threecx', { up: false });
    for (let i = 0; i < 6; i++) await nextPoll(time, m);
    expect(m.mode()).toBe('ai-down');
    expect(m.state().detected).toBe('3cx-down');

    const cleared = once(m, 'modeChanged');
    m.override(null, 'ops@practice');
    expect((await cleared).slice(0, 2)).toEqual(['ai-down', '3cx-down']);
    expect(m.history().map((t) => [t.cause, t.by])).toEqual([
      ['override', 'ops@practice'],
      ['override_cleared', 'ops@practice'],
    ]);
  });

  it('a gateway name FreeSWITCH does not know ("Invalid Gateway!") counts as failing', async () => {
    const { time, monitor: m } = await setup({ gateways: { threecx: 'threecx-typo' } });
    m.start();
    for (let i = 0; i < 4; i++) await nextPoll(time, m);
    expect(m.mode()).toBe('3cx-down');
    expect(m.history()[0]?.reason).toContain('FreeSWITCH has no gateway "threecx-typo"');
  });

  it('AI signals reported from outside give ai-down; polls without an answer record nothing', async () => {
    const { time, monitor: m } = await setup();
    m.start();
    await nextPoll(time, m);
    m.report('ai_engine', false, 'HTTP 500 from the AI engine');
    time.advance(SYSTEM_MODE_DEFAULTS.detectMs);
    expect(m.mode()).toBe('ai-down');

    await client?.stop();
    const failed = once(m, 'pollFailed');
    const before = m.state().sources.threecx_gateway.last;
    time.advance(POLL_MS);
    expect((await failed)[0]).toBeInstanceOf(Error);
    expect(m.state().sources.threecx_gateway.last).toEqual(before);
    expect(m.mode()).toBe('ai-down');
  });
});
