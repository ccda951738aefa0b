// InboundEslClient against a FreeSWITCH stand-in at the wire: authentication, subscription, reconnection
// with backoff (re-subscribing and asking the app to resync), auth refusal, show channels.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EslAuthError } from '../../src/core/errors.ts';
import { EslFrameParser, InboundEslClient, parseChannelRows, type Timers } from '../../src/esl/index.ts';
import { TracePeer } from '../unit/esl/trace-peer.ts';
import { loadTrace } from '../unit/esl/traces.ts';

const HEALTHY_MS = 999_999;

/** Timers that record every delay; the "healthy" timer is fired by the test, others run for real. */
class RecordingTimers implements Timers {
  readonly delays: number[] = [];
  readonly live = new Set<object>();
  healthy: (() => void) | undefined;

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = {};
    this.live.add(handle);
    if (ms === HEALTHY_MS) {
      this.healthy = () => {
        if (this.live.delete(handle)) callback();
      };
      return handle;
    }
    this.delays.push(ms);
    const real = setTimeout(() => {
      if (this.live.delete(handle)) callback();
    }, ms);
    (handle as { real?: NodeJS.Timeout }).real = real;
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.live.delete(handle as object);
    const real = (handle as { real?: NodeJS.Timeout }).real;
    if (real !== undefined) clearTimeout(real);
  }
}

const CHANNEL_CREATE = (() => {
  const trace = loadTrace('inbound-event-plain-call1000');
  const entry = trace.frames.find((f) => f.event_name === 'CHANNEL_CREATE');
  if (entry === undefined) throw new Error('trace without CHANNEL_CREATE');
  return trace.bytes.subarray(entry.rx_offset, entry.rx_offset + entry.rx_length);
})();

const SHOW_CHANNELS_BODIES = new EslFrameParser()
  .push(loadTrace('inbound-api-commands').bytes)
  .map((f) => f.body?.toString() ?? '')
  .filter((b) => b.includes('row_count'));

interface FakeFreeswitch {
  server: Server;
  port: number;
  sockets: Set<Socket>;
  commands: string[];
  close(): Promise<void>;
}

/** Speaks enough inbound ESL: auth banner, auth, event, api show channels. */
async function fakeFreeswitch(options: { channelsBody?: string } = {}): Promise<FakeFreeswitch> {
  const sockets = new Set<Socket>();
  const commands: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write('Content-Type: auth/request\n\n');
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n')) {
        const command = pending.slice(0, end);
        pending = pending.slice(end + 2);
        commands.push(command);
        if (command.startsWith('auth ')) socket.write('Content-Type: command/reply\nReply-Text: +OK accepted\n\n');
        else if (command.startsWith('event ')) {
          socket.write('Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n');
          socket.write(CHANNEL_CREATE);
        } else if (command === 'api show channels as json') {
          const body = options.channelsBody ?? '';
          socket.write(`Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    sockets,
    commands,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function once<T extends unknown[]>(client: InboundEslClient, name: 'resync' | 'disconnected' | 'connected'): Promise<T> {
  return new Promise((resolve) => client.once(name, (...args: unknown[]) => resolve(args as T)));
}

describe('InboundEslClient', () => {
  it('reconnects with capped exponential backoff, re-subscribes, resyncs; the backoff resets when healthy', async () => {
    const fs = await fakeFreeswitch();
    cleanups.push(fs.close);
    const timers = new RecordingTimers();
    const client = new InboundEslClient({
      host: '127.0.0.1',
      port: fs.port,
      password: 'ClueCon',
      events: ['CHANNEL_CREATE', 'BACKGROUND_JOB'],
      backoff: { initialMs: 40, maxMs: 70, factor: 2, healthyAfterMs: HEALTHY_MS },
      random: () => 0.5,
      timers,
      connection: { closeGraceMs: 50 },
    });
    cleanups.push(() => client.stop());
    const events: string[] = [];
    client.on('event', (e) => events.push(e.name));

    let resync = once(client, 'resync');
    await client.start();
    await resync;
    expect(client.current()).toBeDefined();

    for (let drop = 0; drop < 3; drop++) {
      resync = once(client, 'resync');
      const disconnected = once(client, 'disconnected');
      for (const s of fs.sockets) s.destroy();
      await disconnected;
      expect(client.current()).toBeUndefined();
      await resync;
    }
    // Full jitter with random() = 0.5: half of 40, 80 (capped to 70), 160 (capped to 70).
    expect(timers.delays).toEqual([20, 35, 35]);

    timers.healthy?.(); // the connection stayed up long enough
    resync = once(client, 'resync');
    for (const s of fs.sockets) s.destroy();
    await resync;
    expect(timers.delays.at(-1)).toBe(20);

    const subscriptions = fs.commands.filter((c) => c.startsWith('event '));
    expect(subscriptions).toEqual(Array(5).fill('event plain CHANNEL_CREATE BACKGROUND_JOB'));
    expect(fs.commands.filter((c) => c === 'auth ClueCon')).toHaveLength(5);
    for (let i = 0; i < 100 && events.length < 5; i++) await new Promise((r) => setTimeout(r, 5));
    expect(events.filter((n) => n === 'CHANNEL_CREATE')).toHaveLength(5);

    await client.stop();
    expect(client.current()).toBeUndefined();
    expect(timers.live.size).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(fs.sockets.size).toBe(0);
  });

  it('a refused password (recorded bytes) is EslAuthError and waits the maximum delay before retrying', async () => {
    const trace = loadTrace('inbound-auth-wrong-password');
    const server = createServer((socket) => new TracePeer(trace).attach(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const timers = new RecordingTimers();
    const client = new InboundEslClient({
      host: '127.0.0.1',
      port: (server.address() as { port: number }).port,
      password: 'WrongPassword',
      backoff: { initialMs: 10, maxMs: 60_000, healthyAfterMs: HEALTHY_MS },
      random: () => 0,
      timers,
    });
    const [error] = await (async () => {
      const disconnected = once<[Error | undefined]>(client, 'disconnected');
      await client.start();
      return disconnected;
    })();
    expect(error).toBeInstanceOf(EslAuthError);
    expect(timers.delays).toEqual([60_000]);
    await client.stop();
    expect(timers.live.size).toBe(0);
  });

  it('FreeSWITCH down: retries keep growing up to the cap, stop() cancels the next one', async () => {
    const fs = await fakeFreeswitch();
    const port = fs.port;
    await fs.close(); // nothing listens there any more
    const timers = new RecordingTimers();
    const client = new InboundEslClient({
      host: '127.0.0.1',
      port,
      password: 'ClueCon',
      backoff: { initialMs: 4, maxMs: 16, factor: 2, healthyAfterMs: HEALTHY_MS },
      random: () => 0.999,
      timers,
    });
    const failures: Array<Error | undefined> = [];
    const fourth = new Promise<void>((resolve) =>
      client.on('disconnected', (e) => {
        failures.push(e);
        if (failures.length === 4) resolve();
      }),
    );
    await client.start();
    await fourth;
    await client.stop();
    expect(timers.delays.slice(0, 4)).toEqual([3, 7, 15, 15]);
    expect(failures.every((e) => e?.name === 'EslConnectionClosedError')).toBe(true);
    expect(timers.live.size).toBe(0);
    await expect(client.waitConnected({ timeoutMs: 10 })).rejects.toMatchObject({ code: 'ESL_COMMAND_TIMEOUT' });
  });

  it('showChannels: idle `{"row_count": 0}` and the rows form, as FreeSWITCH prints them', async () => {
    expect(SHOW_CHANNELS_BODIES[0]).toBe('{"row_count": 0}\n');
    expect(parseChannelRows(SHOW_CHANNELS_BODIES[0] as string)).toEqual([]);
    const withRows = SHOW_CHANNELS_BODIES.find((b) => b.includes('"rows"')) as string;
    const fs = await fakeFreeswitch({ channelsBody: withRows });
    cleanups.push(fs.close);
    const client = new InboundEslClient({ host: '127.0.0.1', port: fs.port, password: 'ClueCon' });
    cleanups.push(() => client.stop());
    await client.start();
    await client.waitConnected({ timeoutMs: 2_000 });
    const rows = await client.showChannels();
    expect(rows).toHaveLength(2);
    expect(rows[0]?.uuid).toBe('a5066484-6a96-4fe8-b3ee-a35480431863');
    expect(rows[0]?.name).toBe('loopback/1000-a');
    expect(rows[0]?.callstate).toBe('ACTIVE');
  });
});
