// The audio-fork server against FreeSWITCH's own bytes: audio-fork-ws.connN.wire-fs-to-server.raw written
// at the wire, on a raw TCP socket, to the server attached to a Fastify HTTP server.
// The one rewrite: the request line's target `/` (conn 1) or `/second?x=1` (conn 2) becomes
// `/v1/audio-fork/<callId>?token=<token>`, as the controller's fork URL makes FreeSWITCH send it. Every
// other byte is as recorded: Host without the port, Origin, the same Sec-WebSocket-Key (so the
// Sec-WebSocket-Accept must equal the recorded one), and the masked frames after the request.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { serverFrames, startHarness, trace, until, type Harness } from './audio-fork-support.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Writes `bytes` in pieces of 1–1499 bytes (FreeSWITCH's frames land across TCP reads anywhere). */
async function writeInPieces(sock: Socket, bytes: Buffer): Promise<void> {
  let seed = 7;
  for (let i = 0; i < bytes.length; ) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const n = 1 + (seed % 1499);
    const ok = sock.write(bytes.subarray(i, i + n));
    i += n;
    if (!ok) await new Promise((r) => sock.once('drain', r));
  }
}

function rewriteTarget(raw: Buffer, target: string): Buffer {
  const eol = raw.indexOf('\r\n');
  const line = raw.toString('latin1', 0, eol);
  const rewritten = line.replace(/^GET \S+ HTTP\/1\.1$/, `GET ${target} HTTP/1.1`);
  expect(rewritten).not.toBe(line);
  return Buffer.concat([Buffer.from(rewritten, 'latin1'), raw.subarray(eol)]);
}

interface Replay {
  fromServer: Buffer;
  metadata: string[];
  texts: string[];
  audio: Buffer[];
  closed: Array<[number, string]>;
}

async function replayConnection(harness: Harness, conn: 1 | 2, callId: string): Promise<Replay> {
  const fork = harness.forks.expect(callId);
  const got: Replay = { fromServer: Buffer.alloc(0), metadata: [], texts: [], audio: [], closed: [] };
  // Copy here only because the test keeps every frame after the event; the server hands out views.
  fork.on('audio', (frame) => got.audio.push(Buffer.from(frame)));
  fork.on('metadata', (raw) => got.metadata.push(raw));
  fork.on('text', (text) => got.texts.push(text));
  fork.on('closed', (code, reason) => got.closed.push([code, reason]));
  const url = new URL(fork.url(harness.base));
  const bytes = rewriteTarget(trace(`audio-fork-ws.conn${conn}.wire-fs-to-server.raw`), `${url.pathname}${url.search}`);
  const sock = connect({ host: '127.0.0.1', port: harness.port });
  sock.on('data', (d: Buffer) => (got.fromServer = Buffer.concat([got.fromServer, d])));
  const ended = new Promise<void>((r) => sock.once('close', () => r()));
  await new Promise<void>((r) => sock.once('connect', () => r()));
  await writeInPieces(sock, bytes);
  await until(() => got.closed.length === 1);
  sock.end();
  await ended;
  return got;
}

describe('audio-fork server replaying FreeSWITCH 1.10.12 (mod_audio_fork) at the wire', () => {
  it('conn 1 (mono 16k): the recorded 101 answer, the metadata, 306 frames of 640 bytes, send_text, stop text and close 1000', async () => {
    h = await startHarness();
    const got = await replayConnection(h, 1, 'call-1');
    const response = got.fromServer.toString('latin1', 0, got.fromServer.indexOf('\r\n\r\n') + 4);
    // Same key as recorded, so the whole answer must equal what the recorded server sent.
    const recordedResponse = trace('audio-fork-ws.conn1.wire-server-to-fs.raw');
    expect(response).toBe(recordedResponse.toString('latin1', 0, recordedResponse.indexOf('\r\n\r\n') + 4));
    expect(response).toContain('Sec-WebSocket-Protocol: audio.drachtio.org\r\n');
    expect(got.metadata).toEqual(['{"callId":"x"}']);
    expect(got.texts).toEqual(['{"hello":"from_send_text"}', '{"final":"bye"}']);
    expect(got.audio).toHaveLength(306);
    expect(new Set(got.audio.map((f) => f.length))).toEqual(new Set([640]));
    // The PCM is exactly what FreeSWITCH sent (the capture's WAV holds the same payloads after its header).
    const wav = trace('audio-fork-ws.received-audio-16k-mono.wav');
    expect(Buffer.concat(got.audio).equals(wav.subarray(wav.length - 306 * 640))).toBe(true);
    expect(got.closed).toEqual([[1000, '']]);
    // The server answered FreeSWITCH's close with a close of its own (code 1000), and nothing else.
    expect(serverFrames(got.fromServer).map((f) => [f.opcode, f.payload.readUInt16BE(0)])).toEqual([[8, 1000]]);
    expect(h.forks.stats).toMatchObject({ expected: 0, connected: 0 });
  });

  it('conn 2 (mono 8k, a URL with a query): metadata and 76 frames of 320 bytes, then close 1000', async () => {
    h = await startHarness();
    const got = await replayConnection(h, 2, 'call 2/β');
    expect(got.metadata).toEqual(['{"callId":"z"}']);
    expect(got.audio).toHaveLength(76);
    expect(new Set(got.audio.map((f) => f.length))).toEqual(new Set([320]));
    expect(got.texts).toEqual([]);
    expect(got.closed).toEqual([[1000, '']]);
  });

  it('Fastify keeps its plain HTTP routes, and after close() nothing of ours is left running', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap').length;
    const before = sockets();
    h = await startHarness();
    const res = await fetch(`http://127.0.0.1:${h.port}/health`);
    expect(await res.json()).toEqual({ ok: true });
    const got = await replayConnection(h, 1, 'call-3');
    expect(got.audio).toHaveLength(306);
    await h.close();
    await h.close(); // idempotent
    h = undefined;
    // Every socket and listener we opened is gone (fetch's keep-alive socket is closed by the server).
    await until(() => sockets() <= before);
    expect(sockets()).toBeLessThanOrEqual(before);
  });
});
