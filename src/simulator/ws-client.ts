// The small WebSocket client mod_audio_fork is (RFC 6455 over plain TCP): the HTTP upgrade with the
// header order recorded from FreeSWITCH (Host without the port, Origin, subprotocol audio.drachtio.org),
// masked client frames, and text / binary / close / ping handling for what the server sends.
// Hand-written on purpose: the simulator must send the upgrade request byte for byte as FreeSWITCH does
// (header order, Host without the port, no extra headers), which a general client such as `ws` does not
// let us control. The controller's own audio-fork server (issue 5) uses a real library.
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WsClientEvents {
  open: [];
  text: [text: string];
  close: [code: number | undefined];
  error: [error: Error];
}

export class WsClient extends EventEmitter<WsClientEvents> {
  private readonly sock: Socket;
  private readonly key = randomBytes(16).toString('base64');
  private buffer: Buffer = Buffer.alloc(0);
  private open = false;
  private opened = false;
  private closed = false;
  private fragments: Buffer[] = [];

  constructor(url: string, opts: { protocol: string; connectTimeoutMs: number }) {
    super();
    const u = new URL(url);
    const port = Number(u.port === '' ? 80 : u.port);
    this.sock = connect({ host: u.hostname, port });
    this.sock.setNoDelay(true);
    const timer = setTimeout(() => this.fail(new Error(`websocket connect timeout to ${u.host}`)), opts.connectTimeoutMs);
    this.sock.once('connect', () => {
      clearTimeout(timer);
      this.sock.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nHost: ${u.hostname}\r\n` +
          `Origin: http://${u.hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\n` +
          `Sec-WebSocket-Protocol: ${opts.protocol}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('error', (err) => {
      clearTimeout(timer);
      this.fail(err);
    });
    this.sock.on('close', () => {
      clearTimeout(timer);
      this.finish(undefined);
    });
  }

  get isOpen(): boolean {
    return this.open && !this.closed;
  }

  sendText(text: string): void {
    this.send(1, Buffer.from(text, 'utf8'));
  }

  sendBinary(data: Buffer): void {
    this.send(2, data);
  }

  /** Close handshake with `code`; the socket ends once the server answers (or right away if it is gone). */
  close(code = 1000): void {
    if (!this.isOpen) {
      this.sock.destroy();
      return;
    }
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.send(8, payload);
    this.open = false;
    this.sock.end();
  }

  destroy(): void {
    this.sock.destroy();
  }

  private send(opcode: number, payload: Buffer): void {
    if (!this.open || this.closed || !this.sock.writable) return;
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    if (len < 126) head[1] = 0x80 | len;
    else if (len < 65536) {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(len, 2);
    } else {
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(len), 2);
    }
    const body = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) body[i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
    this.sock.write(Buffer.concat([head, mask, body]));
  }

  private onData(d: Buffer): void {
    this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
    if (!this.open && !this.closed) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buffer.toString('latin1', 0, end);
      this.buffer = this.buffer.subarray(end + 4);
      const accept = createHash('sha1').update(this.key + GUID).digest('base64');
      if (!/^HTTP\/1\.1 101/.test(head) || !head.toLowerCase().includes(`sec-websocket-accept: ${accept.toLowerCase()}`)) {
        this.fail(new Error(`websocket upgrade refused: ${head.split('\r\n')[0] ?? ''}`));
        return;
      }
      this.open = true;
      this.opened = true;
      this.emit('open');
    }
    this.parseFrames();
  }

  private parseFrames(): void {
    for (;;) {
      const b = this.buffer;
      if (b.length < 2) return;
      const fin = ((b[0] ?? 0) & 0x80) !== 0;
      const opcode = (b[0] ?? 0) & 0x0f;
      let len = (b[1] ?? 0) & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = ((b[1] ?? 0) & 0x80) !== 0;
      const maskKey = masked ? b.subarray(offset, offset + 4) : undefined;
      if (masked) offset += 4;
      if (b.length < offset + len) return;
      let payload = b.subarray(offset, offset + len);
      if (maskKey !== undefined) payload = Buffer.from(payload.map((x, i) => x ^ (maskKey[i & 3] ?? 0)));
      this.buffer = b.subarray(offset + len);
      this.onFrame(fin, opcode, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 0 || opcode === 1 || opcode === 2) {
      this.fragments.push(payload);
      if (!fin) return;
      const whole = Buffer.concat(this.fragments);
      this.fragments = [];
      if (opcode !== 2) this.emit('text', whole.toString('utf8'));
    } else if (opcode === 8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : undefined;
      if (this.open) this.close(code ?? 1000);
      this.finish(code);
    } else if (opcode === 9) {
      this.send(10, payload);
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.sock.destroy();
    if (!this.opened) {
      this.closed = true;
      this.emit('error', err);
      return;
    }
    this.finish(undefined);
  }

  private finish(code: number | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.open = false;
    this.sock.destroy();
    if (this.opened) this.emit('close', code);
    else this.emit('error', new Error('websocket closed before the upgrade'));
  }
}
