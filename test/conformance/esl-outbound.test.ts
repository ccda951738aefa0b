// The outbound-socket server against recorded FreeSWITCH calls: the test plays FreeSWITCH, connecting to
// our listener and replaying what FreeSWITCH sent in answer to each command.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboundSocketServer, type EslConnection, type EslEvent } from '../../src/esl/index.ts';
import { TracePeer } from '../unit/esl/trace-peer.ts';
import { loadTrace } from '../unit/esl/traces.ts';

const servers: OutboundSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function startServer(): Promise<{ server: OutboundSocketServer; port: number }> {
  const server = new OutboundSocketServer({ connection: { closeGraceMs: 50 }, closeTimeoutMs: 500 });
  servers.push(server);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { server, port };
}

/** Nothing of ours left: no kind of timer, socket or server is open more often than before (others may close). */
function expectNoMoreResourcesThan(before: Record<string, number>): void {
  const now = activeResources();
  for (const kind of Object.keys(now)) expect(`${kind}: ${now[kind]}`).toBe(`${kind}: ${Math.min(now[kind] ?? 0, before[kind] ?? 0)}`);
}

/** Open timers, sockets and servers of this process, by kind (Node's own view of what keeps it alive). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'Timeout' || kind.startsWith('TCP')) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

function nextCall(server: OutboundSocketServer): Promise<{ connection: EslConnection; data: EslEvent }> {
  return new Promise((resolve) => server.once('call', (connection, data) => resolve({ connection, data })));
}

function dial(port: number, peer: TracePeer): Socket {
  const socket = connect({ host: '127.0.0.1', port });
  peer.attach(socket);
  return socket;
}

describe('OutboundSocketServer with recorded calls', () => {
  it('linger call: channel data, answer, playback, hangup, linger notice, exit', async () => {
    const before = activeResources();
    const { server, port } = await startServer();
    const peer = new TracePeer(loadTrace('outbound-socket-call2000-linger-plain'), { seed: 3 });
    const call = nextCall(server);
    dial(port, peer);
    const { connection, data } = await call;
    expect(data.name).toBe('CHANNEL_DATA');
    expect(data.uniqueId).toBe('d211ad8e-13e2-4d20-a3aa-3a3354b073e1');
    expect(data.headers.get('Caller-Caller-ID-Number')).toBe('sipp');
    expect(data.headers.get('Caller-Destination-Number')).toBe('2000');
    expect(server.openSockets).toBe(1);

    const events: string[] = [];
    connection.on('event', (e) => events.push(e.name));
    await connection.myevents();
    await connection.linger();
    const answered = await connection.execute({ app: 'answer', timeoutMs: 5_000 });
    expect(answered.headers.get('Application')).toBe('answer');
    const played = await connection.execute({ app: 'playback', arg: 'tone_stream://%(1000,0,440)', timeoutMs: 5_000 });
    expect(played.headers.get('Application-Response')).toBe('FILE PLAYED');
    const lingering = new Promise((resolve) => connection.once('disconnectNotice', (_f, d) => resolve(d)));
    await connection.hangup({ cause: 'NORMAL_CLEARING' });
    expect(await lingering).toBe('linger');
    const closed = new Promise((resolve) => connection.once('close', resolve));
    await connection.exit();
    await closed;

    expect(peer.mismatches).toEqual([]);
    expect(events).toContain('CHANNEL_HANGUP_COMPLETE');
    expect(connection.pending).toBe(0);
    expect(server.openSockets).toBe(0);
    await server.close();
    await new Promise((r) => setTimeout(r, 10));
    expectNoMoreResourcesThan(before);
  });

  it('event-lock call: each execute resolves with its own EXECUTE_COMPLETE among interleaved events', async () => {
    const { server, port } = await startServer();
    const peer = new TracePeer(loadTrace('outbound-socket-call2000-eventlock-bridge-plain'), { seed: 11 });
    const call = nextCall(server);
    dial(port, peer);
    const { connection } = await call;
    await connection.subscribe('plain', ['ALL']);
    await connection.linger();
    // All three are queued at once (event-lock), as in the recording; completions arrive seconds apart with
    // the B leg's own answer/playback completions in between.
    const [answer, playback, bridge] = await Promise.all([
      connection.execute({ app: 'answer', eventLock: true, timeoutMs: 5_000 }),
      connection.execute({ app: 'playback', arg: 'tone_stream://%(2000,0,440)', eventLock: true, timeoutMs: 5_000 }),
      connection.execute({ app: 'bridge', arg: 'loopback/7000', eventLock: true, timeoutMs: 5_000 }),
    ]);
    expect(answer.headers.get('Application')).toBe('answer');
    expect(answer.uniqueId).toBe(bridge.uniqueId);
    expect(playback.headers.get('Application')).toBe('playback');
    expect(bridge.headers.get('Application')).toBe('bridge');
    expect(bridge.headers.get('Application-Response')).toBeDefined();
    await connection.exit();
    expect(peer.mismatches).toEqual([]);
    expect(connection.pending).toBe(0);
  });

  it('close() ends live calls and the listener, is idempotent, and leaves no sockets', async () => {
    const { server, port } = await startServer();
    const peer = new TracePeer(loadTrace('outbound-socket-call2000-nolinger-json'), { seed: 9 });
    const call = nextCall(server);
    const socket = dial(port, peer);
    const { connection, data } = await call;
    expect(data.headers.get('Channel-Destination-Number')).toBe('2000');
    const peerClosed = new Promise((resolve) => socket.once('close', resolve));
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await peerClosed;
    expect(connection.closed).toBe(true);
    expect(server.openSockets).toBe(0);
  });

  it('a connection that closes before the connect reply is reported, never handed over', async () => {
    const { server, port } = await startServer();
    let calls = 0;
    server.on('call', () => calls++);
    const failed = new Promise<Error>((resolve) => server.once('connectFailed', resolve));
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('data', () => socket.destroy());
    expect(await failed).toMatchObject({ code: 'ESL_CONNECTION_CLOSED' });
    expect(calls).toBe(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(server.openSockets).toBe(0);
  });
});
