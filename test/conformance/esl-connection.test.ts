// EslConnection against FreeSWITCH at the wire: recorded trace bytes replayed by a local TCP peer, and a
// few scripted peers for failure cases the traces cannot show (a slow reply, a socket that dies).
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EslConnection } from '../../src/esl/index.ts';
import { EslCommandError, EslCommandTimeoutError, EslConnectionClosedError } from '../../src/core/errors.ts';
import { TracePeer } from '../unit/esl/trace-peer.ts';
import { loadTrace } from '../unit/esl/traces.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A local server; `onSocket` plays FreeSWITCH. Resolves with a connected EslConnection. */
async function connectTo(onSocket: (socket: Socket) => void): Promise<{ connection: EslConnection; server: Server }> {
  const server = createServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const connection = new EslConnection(socket, { commandTimeoutMs: 2_000, closeGraceMs: 50 });
  cleanups.push(async () => {
    await connection.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { connection, server };
}

function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

/** Splits what the client wrote into commands. */
function onCommands(socket: Socket, handle: (command: string) => void): void {
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    for (let end = pending.indexOf('\n\n'); end !== -1; end = pending.indexOf('\n\n')) {
      handle(pending.slice(0, end));
      pending = pending.slice(end + 2);
    }
  });
  socket.on('error', () => undefined);
}

describe('EslConnection: replies', () => {
  it('a timed-out command keeps its slot: its late reply is dropped and the next command gets its own', async () => {
    const held: Socket[] = [];
    const { connection } = await connectTo((socket) => {
      held.push(socket);
      const seen: string[] = [];
      onCommands(socket, (command) => {
        seen.push(command);
        // Hold the reply to the first command until the second arrives, then answer both in order.
        if (seen.length === 2) socket.write(apiResponse('slow result\n') + apiResponse('fast result\n'));
        if (seen.length === 3) socket.write(apiResponse('third result\n'));
      });
    });
    const slow = connection.api('slow', { timeoutMs: 30 });
    await expect(slow).rejects.toBeInstanceOf(EslCommandTimeoutError);
    await expect(connection.api('fast')).resolves.toBe('fast result\n');
    await expect(connection.api('third')).resolves.toBe('third result\n');
    expect(connection.pending).toBe(0);
  });

  it('socket close rejects every pending command at once, and every later one', async () => {
    let peer: Socket | undefined;
    const { connection } = await connectTo((socket) => {
      peer = socket;
      onCommands(socket, () => undefined);
    });
    const closed = new Promise<Error | undefined>((resolve) => connection.once('close', resolve));
    const pending = [connection.api('a'), connection.bgapi('b', { timeoutMs: 60_000 }), connection.api('c')];
    const settled = Promise.allSettled(pending);
    await new Promise((r) => setTimeout(r, 20));
    peer?.destroy();
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(EslConnectionClosedError);
    await closed;
    await expect(connection.api('after')).rejects.toBeInstanceOf(EslConnectionClosedError);
    expect(connection.pending).toBe(0);
    expect(connection.closed).toBe(true);
  });

  it('api: -ERR and -USAGE bodies reject with EslCommandError; plain bodies resolve', async () => {
    const bodies = ['-ERR bogus_command Command not found!\n', '-USAGE: <uuid> [cause]\n', 'true'];
    const { connection } = await connectTo((socket) =>
      onCommands(socket, () => socket.write(apiResponse(bodies.shift() ?? ''))),
    );
    await expect(connection.api('bogus_command')).rejects.toBeInstanceOf(EslCommandError);
    await expect(connection.api('uuid_kill')).rejects.toMatchObject({ reply: '-USAGE: <uuid> [cause]\n' });
    await expect(connection.api('uuid_exists x')).resolves.toBe('true');
  });

  it('a command with a line break is refused before anything is written', async () => {
    const got: string[] = [];
    const { connection } = await connectTo((socket) => onCommands(socket, (c) => got.push(c)));
    await expect(connection.api('status\n\napi hupall')).rejects.toMatchObject({ code: 'ESL_INVALID_COMMAND' });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual([]);
    expect(connection.pending).toBe(0);
  });

  it('execute: accepted but never completed times out and leaves no waiter behind', async () => {
    const { connection } = await connectTo((socket) =>
      onCommands(socket, () => socket.write('Content-Type: command/reply\nReply-Text: +OK\n\n')),
    );
    await expect(connection.execute({ app: 'sleep', arg: '100', timeoutMs: 30 })).rejects.toBeInstanceOf(
      EslCommandTimeoutError,
    );
    expect(connection.pending).toBe(0);
  });

  it('execute: a refused sendmsg rejects with the reply and leaves no waiter behind', async () => {
    const { connection } = await connectTo((socket) =>
      onCommands(socket, () =>
        socket.write('Content-Type: command/reply\nReply-Text: -ERR invalid session id [00000000-0000-4000-8000-000000000000]\n\n'),
      ),
    );
    const run = connection.execute({ uuid: '00000000-0000-4000-8000-000000000000', app: 'playback', timeoutMs: 5_000 });
    await expect(run).rejects.toBeInstanceOf(EslCommandError);
    expect(connection.pending).toBe(0);
  });

  it('close() is idempotent and bounded even when the peer never closes its side', async () => {
    const { connection } = await connectTo((socket) => onCommands(socket, () => undefined));
    const first = connection.close();
    expect(connection.close()).toBe(first);
    await first;
    expect(connection.closed).toBe(true);
  });
});

describe('EslConnection: recorded bgapi session', () => {
  for (const name of ['inbound-bgapi-plain', 'inbound-bgapi-json'] as const) {
    it(`${name}: each bgapi resolves with its own BACKGROUND_JOB result`, async () => {
      const trace = loadTrace(name);
      const peer = new TracePeer(trace, { seed: 7 });
      const { connection } = await connectTo((socket) => peer.attach(socket));
      await new Promise<void>((resolve) => connection.once('authRequest', resolve));
      const auth = await connection.command('auth ClueCon');
      expect(auth.headers.get('Reply-Text')).toBe('+OK accepted');
      await connection.subscribe(name.endsWith('json') ? 'json' : 'plain', ['BACKGROUND_JOB']);
      const latencies: string[] = [];
      connection.on('event', (e) => latencies.push(e.name));
      const results = await Promise.all([
        connection.bgapi('status'),
        connection.bgapi('status', { jobUuid: 'd3a7b5c4-0000-4000-8000-00000000cafe' }),
        connection.bgapi('bogus_command'),
        connection.bgapi('uuid_kill 00000000-0000-4000-8000-000000000000'),
        connection.bgapi('originate loopback/1000 &park'),
      ]);
      expect(results[0]).toMatch(/^UP 0 years/);
      expect(results[1]).toMatch(/is ready\n/);
      expect(results[2]).toBe('-ERR bogus_command Command not found!\n');
      expect(results[3]).toBe('-ERR No such channel!\n');
      expect(results[4]).toMatch(/^\+OK [0-9a-f-]{36}\n$/);
      const notice = new Promise<string | undefined>((resolve) =>
        connection.once('disconnectNotice', (frame) => resolve(frame.body?.toString())),
      );
      await connection.exit();
      expect(await notice).toMatch(/^Disconnected, goodbye\./);
      expect(peer.mismatches).toEqual([]);
      expect(latencies.filter((n) => n === 'BACKGROUND_JOB')).toHaveLength(5);
      expect(connection.pending).toBe(0);
    });
  }

  it('onCommandLatency reports each reply by verb, never with arguments', async () => {
    const seen: string[] = [];
    const server = createServer((socket) => onCommands(socket, () => socket.write(apiResponse('+OK\n'))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
    const connection = new EslConnection(socket, { onCommandLatency: (c, ms) => seen.push(`${c}:${ms >= 0}`) });
    cleanups.push(async () => {
      await connection.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await connection.api('originate {origination_caller_id_number=15551234567}sofia/gw/x/15557654321 &park');
    expect(seen).toEqual(['api originate:true']);
  });
});
