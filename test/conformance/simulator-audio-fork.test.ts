// mod_audio_fork against the recording: the ESL side of audio-fork-esl replayed like the other inbound
// traces, and the WebSocket side checked at the wire against audio-fork-ws.* (a peer that answers the
// upgrade and sends the frames the recorded server sent).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe as suite, expect, it } from 'vitest';
import { TRACE_DIR, type Described } from './simulator-helpers.ts';
import { compare, replay, sleep, stopReplaySimulator } from './simulator-replay.ts';
import { serverFrames, TEXT_OPCODE } from '../support/ws-frames.ts';

afterEach(stopReplaySimulator);

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
  const textFramesOf = (b: Buffer): Buffer[] => serverFrames(b).filter((f) => f.opcode === TEXT_OPCODE).map((f) => f.raw);
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

suite('simulator replays the mod_audio_fork traces', () => {
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
      // The text frames in the recorded order; audio frames (every 20 ms from the connect) may come between
      // them, as they would in any run: in the capture the send_text happened to beat the first frame.
      expect(first.filter((f) => f.opcode === 1).map((f) => f.text).slice(0, 2)).toEqual(['{"callId":"x"}', '{"hello":"from_send_text"}']);
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

});
