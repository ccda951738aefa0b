// Outbound-socket traces: the simulator's `socket` application connects to a test listener, which sends
// the recorded client bytes; the simulator's bytes are compared per channel with FreeSWITCH's.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe as suite, it } from 'vitest';
import { CommandReader } from '../../src/simulator/command-reader.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { describe, frames, readTrace, type Described } from './simulator-helpers.ts';
import { compare } from './simulator-replay.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let sim: FreeSwitchSimulator | undefined;
let server: Server | undefined;
afterEach(async () => {
  await sim?.stop();
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  sim = undefined;
  server = undefined;
});

/** `hangUpOnPlayback`: the caller hangs up once this many PLAYBACK_START events were seen (0 = never). */
async function replayOutbound(name: string, hangUpOnPlayback: number): Promise<{ got: Described[]; want: Described[] }> {
  const trace = readTrace(name);
  const commands = new CommandReader().push(trace.client);
  let received = Buffer.alloc(0);
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  server = createServer((sock: Socket) => {
    sock.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
    sock.on('close', () => done());
    void (async () => {
      for (const cmd of commands) {
        if (cmd.line === 'exit') {
          // The recorded client sent exit after the linger notice.
          for (let i = 0; i < 400 && !received.includes('Content-Disposition: linger'); i++) await sleep(5);
        }
        const before = frames(received).filter((f) => f.outer[0]?.[0] !== 'Content-Length').length;
        sock.write(cmd.raw + (cmd.body ?? ''));
        for (let i = 0; i < 200 && frames(received).filter((f) => f.outer[0]?.[0] !== 'Content-Length').length <= before; i++) await sleep(5);
      }
    })();
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, socketTarget: { host: '127.0.0.1', port } });
  await sim.start();
  const call = sim.placeCall({ from: 'sipp', to: '2000' });
  if (hangUpOnPlayback > 0) {
    // The recorded caller hung up mid-playback, after all three sendmsg had been answered.
    const count = (s: string) => received.toString().split(s).length - 1;
    for (let i = 0; i < 400 && !(count('Event-Name: PLAYBACK_START') >= hangUpOnPlayback && count('Reply-Text: +OK\n') >= 3); i++) await sleep(5);
    call.hangup('NORMAL_CLEARING');
  }
  await Promise.race([finished, sleep(4000)]);
  return { got: frames(received).map(describe), want: frames(trace.fs).map(describe) };
}

suite('simulator replays the outbound-socket traces', () => {
  it('eventlock-bridge: answer, playback, bridge to loopback/7000 one after another; BYE while bridged', async () => {
    const { got, want } = await replayOutbound('outbound-socket-call2000-eventlock-bridge-plain', 2);
    // Three channels (caller, loopback-a, loopback-b) interleave by thread timing: compare per channel.
    compare(got, want);
  });

  it('linger: connect reply, myevents, linger notice after HANGUP_COMPLETE, exit → bye + final notice', async () => {
    const { got, want } = await replayOutbound('outbound-socket-call2000-linger-plain', 0);
    compare(got, want);
  });

  it('linger3: FreeSWITCH closes by itself after the linger time', async () => {
    const { got, want } = await replayOutbound('outbound-socket-call2000-linger3-plain', 0);
    compare(got, want);
  });

  it('nolinger-json: disconnect notice right after CHANNEL_HANGUP_COMPLETE, then close', async () => {
    const { got, want } = await replayOutbound('outbound-socket-call2000-nolinger-json', 0);
    compare(got, want);
  });

  it('eventlock-bye-midplayback: PLAYBACK ERROR, queued bridge never runs but its PRIVATE_COMMAND fires', async () => {
    const { got, want } = await replayOutbound('outbound-socket-call2000-eventlock-bye-midplayback-plain', 1);
    compare(got, want);
  });
});
