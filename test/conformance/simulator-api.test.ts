// The simulator's programmatic API as tests, the demo and the benchmark use it: placed calls, caller
// hang-ups and digits, the unreachable-controller fallback, and a stop() that leaves nothing behind.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { describe as describeFrame, eventHeaders, frames } from './simulator-helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let sim: FreeSwitchSimulator | undefined;
let server: Server | undefined;
afterEach(async () => {
  await sim?.stop();
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  sim = undefined;
  server = undefined;
});

/** An inbound ESL client that authenticates, subscribes and collects every frame. */
async function listen(eslPort: number, events: string): Promise<{ text: () => Buffer; sock: Socket }> {
  const sock = connect(eslPort, '127.0.0.1');
  let buf = Buffer.alloc(0);
  sock.on('data', (d: Buffer) => (buf = Buffer.concat([buf, d])));
  sock.write(`auth ClueCon\n\nevent plain ${events}\n\n`);
  for (let i = 0; i < 200 && !buf.includes('event listener enabled'); i++) await sleep(5);
  return { text: () => buf, sock };
}

/** A stand-in controller: answers each outbound connection with `script`. */
async function controller(script: (sock: Socket) => void): Promise<number> {
  server = createServer((sock) => {
    // Always read (a socket nobody reads never sees the simulator's FIN) and never crash on a reset.
    sock.on('error', () => undefined);
    sock.resume();
    script(sock);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

describe('FreeSwitchSimulator API', () => {
  it('an unreachable controller: the dialplan falls back to the ring group and the call says so', async () => {
    const port = await controller(() => undefined);
    await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, socketTarget: { host: '127.0.0.1', port } });
    await sim.start();
    const failed = new Promise<void>((r) => sim?.once('socketFailed', () => r()));
    const call = sim.placeCall({ from: '+15550100', to: '+15550199', callerHangsUpAfterMs: 3000 });
    await failed;
    expect(await call.ended).toBe('NORMAL_CLEARING');
    expect(call.socketFailed).toBe(true);
    expect(call.applications.map((a) => a.app)).toEqual(['socket', 'bridge']);
    expect(call.answered).toBe(true);
  });

  it('caller digits arrive as DTMF events; a caller hang-up ends the call with its cause', async () => {
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01 });
    const { eslPort } = await sim.start();
    const client = await listen(eslPort, 'DTMF CHANNEL_HANGUP_COMPLETE');
    const call = sim.placeCall({ from: '+15550100', to: '5000', dtmf: [{ atMs: 600_000, digits: '1#' }] });
    await sleep(30);
    call.sendDtmf('*');
    call.hangup('USER_BUSY');
    expect(await call.ended).toBe('USER_BUSY');
    await sleep(20);
    const got = frames(client.text()).map(describeFrame).filter((d) => d.kind === 'event');
    expect(got.map((d) => d.eventName)).toEqual(['DTMF', 'CHANNEL_HANGUP_COMPLETE']);
    const texts = client.text().toString();
    expect(texts).toContain('DTMF-Digit: *\n');
    expect(texts).not.toContain('DTMF-Digit: %23'); // the scheduled digits never came: the caller left first
    client.sock.destroy();
  });

  it('the controller closing its socket mid-call hangs the call up; applications it ran are listed', async () => {
    const port = await controller((sock) => {
      sock.write('connect\n\nmyevents\n\nsendmsg\ncall-command: execute\nexecute-app-name: answer\n\n');
      sock.on('data', (d: Buffer) => {
        if (d.includes('CHANNEL_ANSWER')) sock.end();
      });
    });
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, socketTarget: { host: '127.0.0.1', port } });
    await sim.start();
    const call = sim.placeCall({ from: '+15550100', to: '+15550199' });
    expect(await call.ended).toBe('NORMAL_CLEARING');
    expect(call.applications.map((a) => a.app)).toEqual(['socket', 'answer']);
    expect(call.socketFailed).toBe(false);
  });

  it('`resume`: when the controller closes its socket the dialplan goes on (here to the ring group)', async () => {
    const port = await controller((sock) => {
      sock.write('connect\n\nresume\n\n');
      let seen = '';
      sock.on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.split('Reply-Text: +OK\n').length > 1) sock.end();
      });
    });
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, socketTarget: { host: '127.0.0.1', port } });
    await sim.start();
    // 100 s of simulated time (1 s real at this scale): the caller must still be there when the controller's
    // `resume` and close arrive, however busy the machine is.
    const call = sim.placeCall({ from: '+15550100', to: '+15550199', callerHangsUpAfterMs: 100_000 });
    expect(await call.ended).toBe('NORMAL_CLEARING');
    expect(call.applications.map((a) => a.app)).toEqual(['socket', 'bridge']);
    expect(call.answered).toBe(true);
  });

  it('the connect reply carries the caller and any SIP X-headers as channel variables', async () => {
    let reply = Buffer.alloc(0);
    const port = await controller((sock) => {
      sock.on('data', (d: Buffer) => (reply = Buffer.concat([reply, d])));
      sock.write('connect\n\n');
    });
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, socketTarget: { host: '127.0.0.1', port } });
    await sim.start();
    const call = sim.placeCall({ from: '+15550100', to: '+15550199', sipHeaders: { 'X-Location': 'north' } });
    for (let i = 0; i < 200 && !reply.includes('Control: full'); i++) await sleep(5);
    const headers = frames(reply)[0]?.outer ?? [];
    const get = (k: string) => {
      const v = headers.find(([n]) => n === k)?.[1];
      return v === undefined ? undefined : decodeURIComponent(v);
    };
    expect(get('Unique-ID')).toBe(call.uuid);
    expect(get('Channel-Caller-ID-Number')).toBe('+15550100');
    expect(get('Channel-Destination-Number')).toBe('+15550199');
    expect(get('variable_sip_h_X-Location')).toBe('north');
    expect(headers.find(([n]) => n === 'Reply-Text')?.[1]).toBe('%2BOK%0A');
    call.hangup();
    await call.ended;
  });

  it('originate: configured far ends per gateway number, {origination_uuid} honoured', async () => {
    sim = new FreeSwitchSimulator({
      password: 'ClueCon',
      timeScale: 0.01,
      endpoints: { 'gateway/threecx/101': { kind: 'busy' }, 'gateway/threecx/102': { kind: 'answer', answerAfterMs: 100 } },
    });
    const { eslPort } = await sim.start();
    const client = await listen(eslPort, 'BACKGROUND_JOB');
    const uuid = '11111111-2222-4333-8444-555555555555';
    const api = async (cmd: string): Promise<string> => {
      const before = frames(client.text()).length;
      client.sock.write(`api ${cmd}\n\n`);
      for (let i = 0; i < 400 && frames(client.text()).length <= before; i++) await sleep(5);
      return frames(client.text()).at(-1)?.body ?? '';
    };
    expect(await api('originate sofia/gateway/threecx/101 &park')).toBe('-ERR USER_BUSY\n');
    expect(await api(`originate {origination_uuid=${uuid}}sofia/gateway/threecx/102 &park`)).toBe(`+OK ${uuid}\n`);
    expect(await api(`uuid_exists ${uuid}`)).toBe('true');
    expect(await api('originate sofia/gateway/nosuch/1 &park')).toBe('-ERR INVALID_GATEWAY\n');
    expect(await api('show channels as json')).toMatch(/^\{"row_count":1,"rows":\[\{"uuid":"11111111-2222-4333-8444-555555555555"/);
    expect(await api(`uuid_kill ${uuid}`)).toBe('+OK\n');
    client.sock.destroy();
  });

  it('channelsDbLagMs: right after originate `show channels` can still be empty, as in FreeSWITCH', async () => {
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, channelsDbLagMs: 300 });
    const { eslPort } = await sim.start();
    const client = await listen(eslPort, 'BACKGROUND_JOB');
    const api = async (cmd: string): Promise<string> => {
      const before = frames(client.text()).length;
      client.sock.write(`api ${cmd}\n\n`);
      for (let i = 0; i < 400 && frames(client.text()).length <= before; i++) await sleep(5);
      return frames(client.text()).at(-1)?.body ?? '';
    };
    expect(await api('originate loopback/4000 &park')).toMatch(/^\+OK /);
    expect(await api('show channels as json')).toBe('{"row_count": 0}\n');
    await sleep(350);
    expect(await api('show channels as json')).toMatch(/^\{"row_count":2,/);
    client.sock.destroy();
  });

  it('stop({ graceful }) is idempotent, ends every call (listeners see it) and closes every socket', async () => {
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01 });
    const { eslPort } = await sim.start();
    const client = await listen(eslPort, 'CHANNEL_HANGUP_COMPLETE');
    const closed = new Promise<void>((r) => client.sock.once('close', () => r()));
    const calls = [sim.placeCall({ from: '1', to: '4000' }), sim.placeCall({ from: '2', to: '3000' })];
    await sleep(20);
    expect(sim.activeChannels).toBe(2);
    await Promise.all([sim.stop({ graceful: true }), sim.stop()]);
    expect(await Promise.all(calls.map((c) => c.ended))).toEqual(['SYSTEM_SHUTDOWN', 'SYSTEM_SHUTDOWN']);
    await closed;
    expect(sim.activeChannels).toBe(0);
    const hangups = frames(client.text()).filter((f) => eventHeaders(f).some(([k, v]) => k === 'Event-Name' && v === 'CHANNEL_HANGUP_COMPLETE'));
    expect(hangups).toHaveLength(2);
  });

  it('after stop() no socket, server or timer of the simulator is left', async () => {
    const count = () => {
      const c: Record<string, number> = {};
      for (const k of process.getActiveResourcesInfo()) c[k] = (c[k] ?? 0) + 1;
      return c;
    };
    const before = count();
    const port = await controller((sock) => sock.write('connect\n\nmyevents\n\nlinger\n\n'));
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, socketTarget: { host: '127.0.0.1', port } });
    const { eslPort } = await sim.start();
    const client = await listen(eslPort, 'ALL');
    sim.placeCall({ from: '1', to: '+15550199', callerHangsUpAfterMs: 60_000 });
    sim.placeCall({ from: '2', to: '3000' });
    await sleep(50);
    await sim.stop();
    client.sock.destroy();
    await new Promise<void>((r) => server?.close(() => r()));
    server = undefined;
    for (let i = 0; i < 100; i++) {
      const now = count();
      if (['TCPSocketWrap', 'TCPServerWrap', 'Timeout'].every((k) => (now[k] ?? 0) <= (before[k] ?? 0))) break;
      await sleep(10);
    }
    const now = count();
    for (const k of ['TCPSocketWrap', 'TCPServerWrap', 'Timeout']) expect(now[k] ?? 0, k).toBeLessThanOrEqual(before[k] ?? 0);
  });

  it('stop() by default is FreeSWITCH going away: sockets drop before any hangup is reported', async () => {
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01 });
    const { eslPort } = await sim.start();
    const client = await listen(eslPort, 'CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE');
    const closed = new Promise<void>((r) => client.sock.once('close', () => r()));
    const call = sim.placeCall({ from: '1', to: '4000' });
    await sleep(20);
    await sim.stop();
    await closed;
    expect(await call.ended).toBe('SYSTEM_SHUTDOWN');
    expect(frames(client.text()).filter((f) => describeFrame(f).kind === 'event')).toHaveLength(0);
  });
});
