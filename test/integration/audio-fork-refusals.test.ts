// Who may connect to the audio-fork endpoint, and what a slow consumer costs. A connection without a valid
// token, for an unknown or ended call, or a second one for the same call is refused on the upgrade with an
// HTTP status and a log line; the token never reaches a log line. The client here is the `ws` library
// speaking for FreeSWITCH (same subprotocol), plus a raw socket where a library would hide the bytes.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHarness, until, type Harness } from './audio-fork-support.ts';

let h: Harness | undefined;
const open: WebSocket[] = [];
afterEach(async () => {
  for (const ws of open.splice(0)) ws.terminate();
  await h?.close();
  h = undefined;
});

/** Tries an upgrade: 'open' (the socket is kept for the test) or the HTTP status of the refusal. */
function attempt(url: string, protocol: string | null = 'audio.drachtio.org'): Promise<{ result: 'open' | number; ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
    open.push(ws);
    ws.on('error', () => undefined);
    ws.once('open', () => resolve({ result: 'open', ws }));
    ws.once('unexpected-response', (req, res) => {
      res.resume();
      req.destroy();
      resolve({ result: res.statusCode ?? 0, ws });
    });
    setTimeout(() => reject(new Error('no answer to the upgrade')), 5_000).unref();
  });
}

const withToken = (url: string, token: string | undefined): string => {
  const u = new URL(url);
  if (token === undefined) u.searchParams.delete('token');
  else u.searchParams.set('token', token);
  return u.toString();
};

describe('audio-fork refusals', () => {
  it('refuses a missing or wrong token (401), an unknown or ended call (404) and a second connection (409)', async () => {
    h = await startHarness();
    const fork = h.forks.expect('call-r1');
    const url = fork.url(h.base);
    expect((await attempt(withToken(url, undefined))).result).toBe(401);
    expect((await attempt(withToken(url, `${fork.token.slice(0, -1)}${fork.token.endsWith('A') ? 'B' : 'A'}`))).result).toBe(401);
    expect((await attempt(url.replace('call-r1', 'call-nobody'))).result).toBe(404);
    expect((await attempt(url, null)).result).toBe(400); // no audio.drachtio.org subprotocol
    expect(fork.state).toBe('waiting'); // none of that used the token up

    const first = await attempt(url);
    expect(first.result).toBe('open');
    expect(first.ws.protocol).toBe('audio.drachtio.org');
    expect((await attempt(url)).result).toBe(409); // same token while connected
    const closed = new Promise<number>((r) => fork.once('closed', (code) => r(code)));
    first.ws.close(1000);
    expect(await closed).toBe(1000);
    expect((await attempt(url)).result).toBe(404); // single use: the call's fork has ended

    // A cancelled call and a superseded token are refused as well.
    const cancelled = h.forks.expect('call-r2');
    cancelled.cancel();
    expect((await attempt(cancelled.url(h.base))).result).toBe(404);
    const old = h.forks.expect('call-r3');
    const restarted = h.forks.expect('call-r3');
    expect(old.state).toBe('cancelled');
    expect((await attempt(old.url(h.base))).result).toBe(401);
    expect((await attempt(restarted.url(h.base))).result).toBe('open');

    expect(h.forks.stats.refused).toEqual({ 400: 1, 401: 3, 404: 3, 409: 1, 503: 0 });
    const refusals = h.lines.filter((l) => l.msg === 'audio fork connection refused');
    expect(refusals).toHaveLength(8);
    expect(refusals.map((l) => (l.obj as { status: number }).status)).toEqual([401, 401, 404, 400, 409, 404, 404, 401]);
    expect(refusals[2]?.obj).toMatchObject({ callId: 'call-nobody', status: 404 });
    const logged = JSON.stringify(h.lines);
    for (const token of [fork.token, old.token, restarted.token]) expect(logged).not.toContain(token);
  });

  it('a token nobody used within its lifetime expires (404 afterwards)', async () => {
    h = await startHarness({ tokenTtlMs: 30 });
    const fork = h.forks.expect('call-ttl');
    const expired = new Promise<void>((r) => fork.once('expired', () => r()));
    await expired;
    expect(fork.state).toBe('cancelled');
    expect(h.forks.stats.expected).toBe(0);
    expect((await attempt(fork.url(h.base))).result).toBe(404);
  });

  it('cancel() on a connected call closes its fork with 1000', async () => {
    h = await startHarness();
    const fork = h.forks.expect('call-r4');
    const { ws } = await attempt(fork.url(h.base));
    const peerClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    fork.cancel();
    fork.cancel();
    expect(await peerClosed).toBe(1000);
    await until(() => fork.state === 'closed');
  });

  it('leaves other upgrade paths to their own handler, and answers 404 when there is none', async () => {
    h = await startHarness();
    const raw = (path: string) =>
      new Promise<string>((resolve) => {
        const sock = connect({ host: '127.0.0.1', port: h?.port ?? 0 });
        let got = '';
        sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
        sock.on('close', () => resolve(got));
        sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      });
    expect(await raw('/v1/live')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    // Another WebSocket endpoint on the same server (the dashboard's live stream, say) keeps its paths.
    h.app.server.on('upgrade', (req, socket) => {
      if (req.url === '/v1/live') socket.end('HTTP/1.1 418 I\'m a Teapot\r\nConnection: close\r\n\r\n');
    });
    expect(await raw('/v1/live')).toMatch(/^HTTP\/1\.1 418 /);
    expect(await raw('/v1/audio-fork/nobody?token=x')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  });
});

describe('audio-fork back-pressure', () => {
  it('a paused consumer gets the newest frames of a bounded buffer; the drops are counted and reported once', async () => {
    h = await startHarness({ maxBufferedFrames: 10 });
    const fork = h.forks.expect('call-bp');
    const delivered: number[] = [];
    const overruns: Array<{ dropped: number; buffered: number }> = [];
    const texts: string[] = [];
    fork.on('audio', (f) => delivered.push(f.readUInt16LE(0)));
    fork.on('overrun', (o) => overruns.push(o));
    fork.on('text', (t) => texts.push(t));
    const { ws } = await attempt(fork.url(h.base));
    const frame = (n: number) => {
      const b = Buffer.alloc(640);
      b.writeUInt16LE(n, 0);
      return b;
    };
    ws.send('{"callId":"call-bp"}');
    ws.send(frame(0));
    await until(() => delivered.length === 1);
    fork.pause();
    for (let n = 1; n <= 60; n++) ws.send(frame(n));
    ws.send('barrier'); // text is never held back: once it arrives, every frame before it has too
    await until(() => texts.length === 1);
    expect(delivered).toEqual([0]);
    expect(fork.bufferedFrames).toBe(10);
    expect(fork.droppedFrames).toBe(50);
    expect(overruns).toEqual([{ dropped: 1, buffered: 10 }]);
    fork.resume();
    expect(delivered).toEqual([0, ...Array.from({ length: 10 }, (_, i) => 51 + i)]);
    ws.send(frame(61));
    await until(() => delivered.length === 12);
    expect(delivered.at(-1)).toBe(61);
    expect(fork.framesReceived).toBe(62);
    expect(h.lines.filter((l) => l.msg.includes('too slow'))).toHaveLength(1);
  });

  it('a listener that throws is logged and does not break the fork', async () => {
    h = await startHarness();
    const fork = h.forks.expect('call-throw');
    let frames = 0;
    fork.on('audio', () => {
      frames++;
      throw new Error('consumer bug');
    });
    const { ws } = await attempt(fork.url(h.base));
    ws.send(Buffer.alloc(640));
    ws.send(Buffer.alloc(640));
    await until(() => frames === 2);
    expect(fork.state).toBe('connected');
    expect(h.lines.filter((l) => l.level === 'error' && l.msg === 'audio fork listener threw')).toHaveLength(2);
  });
});
