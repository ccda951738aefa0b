// Reads what an ESL client sends: a command line plus optional header lines, ended by a blank line; a
// `Content-Length` header (sendmsg / sendevent) means that many body bytes follow. Bytes arrive in any
// TCP pieces, so everything is buffered until a whole command is there.

export interface ClientCommand {
  /** The first line, e.g. `api status` or `sendmsg <uuid>`. */
  readonly line: string;
  /** The header lines after it, in order, as sent (names keep their case). */
  readonly headers: Array<[string, string]>;
  readonly body?: string;
  /** The exact text of the command block (PRIVATE_COMMAND echoes it). */
  readonly raw: string;
}

export class CommandReader {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): ClientCommand[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const out: ClientCommand[] = [];
    let start = 0;
    for (;;) {
      const end = this.buffer.indexOf('\n\n', start);
      if (end < 0) break;
      const block = this.buffer.toString('utf8', start, end).replace(/\r/g, '');
      const lines = block.split('\n');
      // Blank lines between commands are ignored, as FreeSWITCH does.
      while (lines.length > 0 && lines[0] === '') lines.shift();
      const headers: Array<[string, string]> = [];
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i > 0) headers.push([l.slice(0, i).trim(), l.slice(i + 1).trim()]);
      }
      const length = headers.find(([k]) => k.toLowerCase() === 'content-length');
      let next = end + 2;
      let body: string | undefined;
      if (length !== undefined) {
        const n = Number.parseInt(length[1], 10);
        if (Number.isFinite(n) && n > 0) {
          if (this.buffer.length < next + n) break;
          body = this.buffer.toString('utf8', next, next + n);
          next += n;
        }
      }
      start = next;
      if (lines.length === 0) continue;
      out.push({ line: lines[0] ?? '', headers, body, raw: `${lines.join('\n')}\n\n` });
    }
    this.buffer = start >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(start);
    return out;
  }
}

export function header(cmd: ClientCommand, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = cmd.headers.length - 1; i >= 0; i--) {
    const h = cmd.headers[i];
    if (h !== undefined && h[0].toLowerCase() === lower) return h[1];
  }
  return undefined;
}
