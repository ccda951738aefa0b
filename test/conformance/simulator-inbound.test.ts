// Replays the recorded inbound-ESL client bytes against the simulator and compares its bytes with what the
// real FreeSWITCH 1.10.12 sent (see simulator-helpers.ts for what is compared and what is normalised).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe as suite, expect, it } from 'vitest';
import { CommandReader } from '../../src/simulator/command-reader.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { TRACE_DIR, describe, frames, perChannel, readTrace, type Described } from './simulator-helpers.ts';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: FreeSwitchSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

interface Hooks {
  /** Simulated-time factor; traces whose client paced commands against call timing need real time. */
  timeScale?: number;
  heartbeat?: boolean;
  /** Rewrites a command before it is sent (addresses of local peers). */
  rewrite?: (raw: string) => string;
  /** Also wait, after each command, for as many events as the recorded client saw before its next one. */
  paceByEvents?: boolean;
  /** Runs before command `index` (0-based, in the order the client sent them) is sent. */
  before?: (index: number, line: string, s: FreeSwitchSimulator, uuidMap: Map<string, string>) => Promise<void>;
}

/** Non-event frames FreeSWITCH sent after each client command (from the trace's summary). */
function perCommand(name: string): { replies: number[]; events: number[] } {
  const summary = JSON.parse(readFileSync(join(TRACE_DIR, `${name}.summary.json`), 'utf8')) as {
    sequence: Array<{ dir: string; event_name?: string; unique_id?: string | null; outer_headers?: Array<[string, string]> }>;
  };
  const counts: number[] = [];
  const events: number[] = [];
  let first = true;
  for (const e of summary.sequence) {
    if (e.dir === 'C->S') {
      counts.push(0);
      events.push(0);
      first = false;
    } else if (e.event_name !== undefined && !first) {
      // Only channel events pace the client: API / HEARTBEAT events come at their own times (rule 15).
      if (e.unique_id !== undefined && e.unique_id !== null) events[events.length - 1] = (events.at(-1) ?? 0) + 1;
    } else if (e.event_name === undefined && e.outer_headers !== undefined && e.outer_headers !== null && !first) {
      const ct = e.outer_headers?.find(([k]) => k === 'Content-Type')?.[1] ?? '';
      if (!ct.startsWith('text/event-') && ct !== 'log/data') counts[counts.length - 1] = (counts.at(-1) ?? 0) + 1;
    }
  }
  return { replies: counts, events };
}

async function replay(name: string, hooks: Hooks = {}): Promise<{ got: Described[]; want: Described[]; raw: string }> {
  // Heartbeats only where the trace is about them: elsewhere they would only add noise to the pacing.
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: hooks.timeScale ?? 0.01, heartbeatMs: hooks.heartbeat === true ? 20_000 : 0 });
  const { eslPort } = await sim.start();
  const trace = readTrace(name);
  const commands = new CommandReader().push(trace.client);
  const { replies: expected, events: expectedEvents } = perCommand(name);
  const want = frames(trace.fs).map(describe);
  const wantOther = frames(trace.fs).filter((f) => !describe(f).key.startsWith('event'));
  const sock: Socket = connect(eslPort, '127.0.0.1');
  let received = Buffer.alloc(0);
  let lastData = Date.now();
  sock.on('data', (d: Buffer) => {
    received = Buffer.concat([received, d]);
    lastData = Date.now();
  });
  const others = () => frames(received).filter((f) => !describe(f).key.startsWith('event'));
  const eventCount = () => frames(received).filter((f) => describe(f).uniqueId !== undefined).length;
  let wantEvents = 0;
  const waitFor = async (pred: () => boolean, rounds = 400) => {
    for (let i = 0; i < rounds && !pred(); i++) await sleep(5);
  };
  await waitFor(() => others().length >= 1); // auth/request banner
  const uuidMap = new Map<string, string>();
  let want_n = 1;
  for (const [i, cmd] of commands.entries()) {
    await hooks.before?.(i, cmd.line, sim, uuidMap);
    let raw = cmd.raw + (cmd.body ?? '');
    if (hooks.rewrite !== undefined) raw = hooks.rewrite(raw);
    for (const [t, s] of uuidMap) raw = raw.split(t).join(s);
    sock.write(raw);
    want_n += expected[i] ?? 1;
    await waitFor(() => others().length >= want_n);
    wantEvents += expectedEvents[i] ?? 0;
    // API events are not in step with replies (rule 15), so this wait is bounded and short.
    if (hooks.paceByEvents === true) {
      // Wait for the recorded number of channel events, or until the simulator has gone quiet (where it
      // sends fewer events than the capture — documented differences — or a hook placed the call late).
      await waitFor(() => eventCount() >= wantEvents || Date.now() - lastData > 100, 200);
    }
    // Learn uuid mappings from the matching replies (originate results, show rows …).
    const got = others();
    for (let k = 0; k < Math.min(got.length, wantOther.length); k++) {
      const a = JSON.stringify(wantOther[k]).match(UUID) ?? [];
      const b = JSON.stringify(got[k]).match(UUID) ?? [];
      a.forEach((u, j) => b[j] !== undefined && !uuidMap.has(u) && uuidMap.set(u, b[j] ?? u));
    }
  }
  await sleep(30);
  sock.destroy();
  return { got: frames(received).map(describe), want, raw: received.toString('utf8') };
}

function compare(got: Described[], want: Described[]): void {
  expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
  const g = perChannel(got).filter((c) => c.uuid !== '');
  const w = perChannel(want).filter((c) => c.uuid !== '');
  expect(g.map((c) => c.events.map((e) => e.eventName))).toEqual(w.map((c) => c.events.map((e) => e.eventName)));
  g.forEach((c, ci) =>
    c.events.forEach((e, ei) => expect(e.names, `channel ${ci} event ${ei} ${e.eventName}`).toEqual(w[ci]?.events[ei]?.names)),
  );
}

function dropRacedConsumeMedia(ds: Described[]): Described[] {
  return ds.filter((d, i) => {
    if (d.eventName !== 'CHANNEL_STATE' || d.channelState !== 'CS_CONSUME_MEDIA') return true;
    const next = ds.slice(i + 1).find((n) => n.uniqueId === d.uniqueId);
    const prev = ds.slice(0, i).reverse().find((n) => n.uniqueId === d.uniqueId);
    return !(next?.channelState === 'CS_EXCHANGE_MEDIA' && prev?.eventName === 'CHANNEL_EXECUTE');
  });
}

interface PeerFrame {
  opcode: number;
  text?: string;
  length?: number;
  code?: number;
}

/** Unmask and split client→server WebSocket frames (after the upgrade request). */
function clientFrames(b: Buffer): PeerFrame[] {
  const out: PeerFrame[] = [];
  let i = b.indexOf('\r\n\r\n') + 4;
  while (i + 2 <= b.length) {
    const opcode = (b[i] ?? 0) & 0x0f;
    let len = (b[i + 1] ?? 0) & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = b.readUInt16BE(off);
      off += 2;
    }
    const mask = b.subarray(off, off + 4);
    off += 4;
    if (off + len > b.length) break;
    const p = Buffer.from(b.subarray(off, off + len).map((x, k) => x ^ (mask[k & 3] ?? 0)));
    out.push(opcode === 2 ? { opcode, length: len } : opcode === 8 ? { opcode, code: p.readUInt16BE(0) } : { opcode, text: p.toString('utf8') });
    i = off + len;
  }
  return out;
}

/**
 * A WebSocket server at the wire: answers the upgrade (Accept computed for the simulator's key) and then
 * sends the text frames the recorded server sent on that connection; answers a close with a close.
 */
async function wsPeer(): Promise<{ port: number; connections: Array<{ fromSim: Buffer; frames: PeerFrame[] }>; close(): Promise<void> }> {
  const recorded = [1, 2].map((n) => readFileSync(join(TRACE_DIR, `audio-fork-ws.conn${n}.wire-server-to-fs.raw`)));
  const textFramesOf = (b: Buffer): Buffer[] => {
    const out: Buffer[] = [];
    let i = b.indexOf('\r\n\r\n') + 4;
    while (i + 2 <= b.length) {
      let len = (b[i + 1] ?? 0) & 0x7f;
      let off = i + 2;
      if (len === 126) {
        len = b.readUInt16BE(off);
        off += 2;
      }
      if (((b[i] ?? 0) & 0x0f) === 1) out.push(b.subarray(i, off + len));
      i = off + len;
    }
    return out;
  };
  const connections: Array<{ fromSim: Buffer; frames: PeerFrame[] }> = [];
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    const conn = { fromSim: Buffer.alloc(0), frames: [] as PeerFrame[] };
    const index = connections.push(conn) - 1;
    let upgraded = false;
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      conn.fromSim = Buffer.concat([conn.fromSim, d]);
      if (!upgraded && conn.fromSim.includes('\r\n\r\n')) {
        upgraded = true;
        const key = /Sec-WebSocket-Key: (\S+)/.exec(conn.fromSim.toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: audio.drachtio.org\r\n\r\n`);
        for (const f of textFramesOf(recorded[index] ?? Buffer.alloc(0))) sock.write(f);
      }
      conn.frames = clientFrames(conn.fromSim);
      if (conn.frames.at(-1)?.opcode === 8) sock.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : 0,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const addr = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof addr === 'object' && addr !== null ? addr.port : 0;
}

/** The uuid of the first channel a trace's client used in its commands. */
function firstCaller(name: string): string {
  const text = readTrace(name).client.toString('utf8');
  return text.match(UUID)?.[0] ?? '';
}

async function callAfterSubscribe(index: number, line: string, s: FreeSwitchSimulator): Promise<void> {
  if (line === 'exit') {
    const call = s.placeCall({ from: 'sipp', to: '1000' });
    await call.ended;
    await sleep(20);
  }
  void index;
}

suite('simulator replays the inbound ESL traces', () => {
  it('auth-wrong-password: -ERR invalid, disconnect notice, close', async () => {
    const { got, want } = await replay('inbound-auth-wrong-password');
    compare(got, want);
  });

  it('command-before-auth: -ERR command not found, socket stays open, later auth works', async () => {
    const { got, want } = await replay('inbound-command-before-auth');
    compare(got, want);
  });

  it('bgapi-plain: Job-UUID replies (caller-chosen honoured), BACKGROUND_JOB with inner body', async () => {
    const { got, want } = await replay('inbound-bgapi-plain');
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
    const jobs = (ds: Described[]) => ds.filter((d) => d.eventName === 'BACKGROUND_JOB').map((d) => d.names);
    expect(jobs(got)).toEqual(jobs(want));
  });

  it('bgapi-json: the same in json', async () => {
    const { got, want } = await replay('inbound-bgapi-json');
    const jobs = (ds: Described[]) => ds.filter((d) => d.eventName === 'BACKGROUND_JOB').map((d) => d.names);
    expect(jobs(got)).toEqual(jobs(want));
  });

  for (const fmt of ['plain', 'json', 'xml']) {
    it(`event-${fmt}-call1000: the SIP call's events, per-event header order`, async () => {
      const { got, want } = await replay(`inbound-event-${fmt}-call1000`, { before: callAfterSubscribe });
      compare(got, want);
    });
  }

  it('originate-failures: BACKGROUND_JOB results and the failed legs\' HANGUP_COMPLETE per endpoint', async () => {
    const { got, want } = await replay('inbound-originate-failures-plain', { paceByEvents: true });
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
    // BACKGROUND_JOB and HANGUP_COMPLETE come in either order (rule 16): compare each stream on its own.
    const jobs = (ds: Described[]) => ds.filter((d) => d.eventName === 'BACKGROUND_JOB').map((d) => [d.innerBody, d.names]);
    expect(jobs(got)).toEqual(jobs(want));
    const legs = (ds: Described[]) =>
      ds.filter((d) => d.eventName === 'CHANNEL_HANGUP_COMPLETE').map((d) => [d.names]);
    expect(legs(got)).toEqual(legs(want));
  });

  it('media-control: uuid_answer, uuid_broadcast/uuid_break, uuid_record, uuid_setvar/getvar, uuid_hold, uuid_kill', async () => {
    const { got, want } = await replay('inbound-media-control-call4100-plain', {
      paceByEvents: true,
      before: async (i, _line, s, uuidMap) => {
        if (i === 2) {
          // sipp calls 4100 (pre_answer, park) right after the subscription.
          const call = s.placeCall({ from: 'sipp', to: '4100' });
          uuidMap.set('52730023-48b1-49d2-bcf7-00b516c5a576', call.uuid);
          await sleep(30);
        }
      },
    });
    compare(got, want);
  });

  it('dtmf-rfc2833-call5000: RTP digits, uuid_recv_dtmf (APP), uuid_send_dtmf (no event), errors', async () => {
    let call: ReturnType<FreeSwitchSimulator['placeCall']> | undefined;
    const { got, want, raw } = await replay('inbound-dtmf-rfc2833-call5000-plain', {
      paceByEvents: true,
      before: async (i, line, s, uuidMap) => {
        if (i === 2) {
          // sipp calls 5000 (answer, park) and sends 1 2 3 # * 9 as RFC 2833, 1.0-4.0 s after the ACK.
          const c = s.placeCall({
            from: 'sipp',
            to: '5000',
            dtmf: [
              { atMs: 1000, digits: '1', durationMs: 100 },
              { atMs: 1600, digits: '2', durationMs: 160 },
              { atMs: 2200, digits: '3', durationMs: 100 },
              { atMs: 2800, digits: '#', durationMs: 200 },
              { atMs: 3400, digits: '*', durationMs: 100 },
              { atMs: 4000, digits: '9', durationMs: 100 },
            ],
          });
          call = c;
          uuidMap.set('c9ba9fc3-0d6e-4901-a2f6-b9b9268c2c6e', c.uuid);
          await sleep(80);
        }
        if (line === 'exit' && call !== undefined) {
          call.hangup('NORMAL_CLEARING');
          await call.ended;
        }
      },
    });
    compare(got, want);
    // `#` is URL-encoded, `*` is not (rule 20); durations are 8 kHz samples.
    const trace = readTrace('inbound-dtmf-rfc2833-call5000-plain').fs.toString('utf8');
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('DTMF-'));
    expect(lines(raw)).toEqual(lines(trace));
  });

  it('misc-commands: event/nixevent/noevents/filter/linger/log/sendevent replies; sendevent echoed as CUSTOM', async () => {
    const { got, want } = await replay('inbound-misc-commands');
    compare(got, want);
    const custom = (ds: Described[]) => ds.filter((d) => d.eventName === 'CUSTOM').map((d) => [d.names, d.innerBody]);
    expect(custom(got)).toEqual(custom(want));
    expect(custom(got)).toHaveLength(1);
  });

  it('load-100-loopback: 100 bgapi originates, 200 legs created and answered, hupall ends all 200', async () => {
    const { got, want } = await replay('inbound-load-100-loopback-plain', {
      // Real time: the recorded client sent hupall while every loopback/1000 was still in its 4 s dialplan.
      timeScale: 1,
      before: async (_i, line) => {
        if (line === 'api hupall') await sleep(50);
      },
    });
    const count = (ds: Described[], n: string) => ds.filter((d) => d.eventName === n).length;
    for (const n of ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE']) expect(count(got, n)).toBe(count(want, n));
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
    // FreeSWITCH delivered a few legs' CHANNEL_ANSWER before their CHANNEL_CREATE (two threads racing);
    // that interleaving cannot be reproduced on purpose, so this trace is compared per channel as a
    // multiset of events, and per event name as the set of header layouts seen.
    const perLeg = (ds: Described[]) => perChannel(ds).filter((c) => c.uuid !== '').map((c) => c.events.map((e) => e.eventName).sort().join(',')).sort();
    expect(perLeg(got)).toEqual(perLeg(want));
    const layouts = (ds: Described[]) => [...new Set(ds.filter((d) => d.kind === 'event').map((d) => `${d.eventName}: ${d.names?.join(' ')}`))].sort();
    expect(layouts(got)).toEqual(layouts(want));
  });

  for (const fmt of ['plain', 'json']) {
    it(`heartbeat-${fmt}: HEARTBEAT every 20 s with its RE_SCHEDULE, check_ip once a minute`, async () => {
      // 20 s × 0.01 = 200 ms per heartbeat; the recorded client idled through two of them.
      const { got, want } = await replay(`inbound-heartbeat-${fmt}`, {
        heartbeat: true,
        before: async (_i, line) => {
          if (line === 'exit') await sleep(500);
        },
      });
      expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
      const events = (ds: Described[]) => ds.filter((d) => d.kind === 'event').map((d) => [d.eventName, d.names]);
      expect(events(got)).toEqual(events(want));
    });
  }

  for (const fmt of ['plain', 'json']) {
    it(`bridge-transfer-call6000-${fmt}: bridge to a SIP far end, uuid_transfer, originate + uuid_bridge, errors`, async () => {
      const { got, want } = await replay(`inbound-bridge-transfer-call6000-${fmt}`, {
        paceByEvents: true,
        before: async (i, _line, s, uuidMap) => {
          if (i === 2) {
            // sipp calls 6000, which bridges to the sipp UAS on 5090.
            const call = s.placeCall({ from: 'sipp', to: '6000' });
            uuidMap.set(fmt === 'plain' ? '5a7af1f4-9251-4faa-8cc8-37b8b863269b' : firstCaller(`inbound-bridge-transfer-call6000-${fmt}`), call.uuid);
            await sleep(50);
          }
        },
      });
      // The json capture saw the uuid_bridge'd loopback-a pass through CS_CONSUME_MEDIA before
      // CS_EXCHANGE_MEDIA; the plain capture of the same scenario did not (a FreeSWITCH thread race).
      // The simulator follows the plain capture, so that one extra state is dropped from the json one.
      compare(got, fmt === 'json' ? dropRacedConsumeMedia(want) : want);
    });
  }

  it.skip('log7 — out of scope for v1: `log N` is acknowledged (+OK log level N [N]) but the simulator writes no log/data lines (the trace holds 116 lines of FreeSWITCH console text from another connection)', () => {});

  it('audio-fork-esl: uuid_audio_fork replies, media bugs and mod_audio_fork::* events; the WebSocket side as recorded', async () => {
    const peer = await wsPeer();
    const closedPort = await unusedPort();
    try {
      const { got, want } = await replay('audio-fork-esl', {
        // Real time: the call is a sipp call to 3000 (sleep 15 s) that only killAudio ends.
        timeScale: 1,
        paceByEvents: true,
        rewrite: (raw) => raw.replace(/127\.0\.0\.1:8090/g, `127.0.0.1:${peer.port}`).replace(/127\.0\.0\.1:8099/g, `127.0.0.1:${closedPort}`),
        before: async (i, line, s, uuidMap) => {
          if (i === 2) {
            const call = s.placeCall({ from: 'sipp', to: '3000' });
            uuidMap.set('fd94bffa-6cde-4eef-89b3-e020a9a491f3', call.uuid);
            await sleep(30);
          }
          if (line === 'exit') await sleep(50);
        },
      });
      compare(got, want);
      const custom = (ds: Described[]) => ds.filter((d) => d.eventName === 'CUSTOM').map((d) => [d.names, d.innerBody?.replace(/_\d+\.tmp/, '_N.tmp')]);
      expect(custom(got)).toEqual(custom(want));
      // The WebSocket side: the upgrade request, byte for byte but the key, then metadata and PCM frames.
      const recorded = readFileSync(join(TRACE_DIR, 'audio-fork-ws.conn1.wire-fs-to-server.raw'));
      const requestOf = (b: Buffer) => b.toString('latin1', 0, b.indexOf('\r\n\r\n')).replace(/Sec-WebSocket-Key: \S+/, 'Sec-WebSocket-Key: <key>');
      expect(peer.connections.map((c) => requestOf(c.fromSim).split('\r\n')[0])).toEqual(['GET / HTTP/1.1', 'GET /second?x=1 HTTP/1.1']);
      expect(requestOf(peer.connections[0]?.fromSim ?? Buffer.alloc(0))).toBe(requestOf(recorded));
      const first = peer.connections[0]?.frames ?? [];
      expect(first[0]).toEqual({ opcode: 1, text: '{"callId":"x"}' });
      expect(first[1]).toEqual({ opcode: 1, text: '{"hello":"from_send_text"}' });
      expect(first.filter((f) => f.opcode === 2).every((f) => f.length === 640)).toBe(true);
      expect(first.filter((f) => f.opcode === 1).map((f) => f.text)).toContain('{"final":"bye"}');
      expect(first.at(-1)).toMatchObject({ opcode: 8, code: 1000 });
      const second = peer.connections[1]?.frames ?? [];
      expect(second[0]).toEqual({ opcode: 1, text: '{"callId":"z"}' });
      expect(second.filter((f) => f.opcode === 2).every((f) => f.length === 320)).toBe(true);
    } finally {
      await peer.close();
    }
  });

  it('api-commands: replies to version, status, show channels, originate, uuid_*, errors', async () => {
    const { got, want } = await replay('inbound-api-commands', {
      // Real time: the originated loopback/1000 must still be up (4 s dialplan) when uuid_kill comes.
      timeScale: 1,
      before: async (i, line, s) => {
        if (line === 'api show channels as json' && i > 12) await sleep(50);
        if (i === 20) {
          s.placeCall({ from: 'sipp', to: '3000' });
          await sleep(20);
        }
      },
    });
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
  });
});
