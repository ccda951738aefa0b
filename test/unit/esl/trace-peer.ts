// A FreeSWITCH stand-in at the wire for connection tests: it replays the bytes FreeSWITCH sent in a
// recorded trace, group by group: after the client's k-th command it writes the frames FreeSWITCH sent
// after the k-th recorded command, in random pieces. Ids the client chooses itself (Event-UUID for
// sendmsg, Job-UUID for bgapi) differ from the recorded ones, so the peer maps recorded ids to the ids it
// received and fixes each rewritten frame's Content-Length. It also records whether each command matched
// the recorded command byte for byte (after that mapping).
import type { Socket } from 'node:net';
import { seededRandom, type Trace } from './traces.ts';

interface Group {
  /** The recorded client command this group answers (undefined for the banner before any command). */
  recorded: string | undefined;
  frames: string[];
}

export class TracePeer {
  readonly received: string[] = [];
  readonly mismatches: Array<{ index: number; expected: string; got: string }> = [];
  readonly #groups: Group[];
  readonly #closesAtEnd: boolean;
  readonly #random: () => number;
  readonly #map = new Map<string, string>();
  #socket: Socket | undefined;
  #pending = '';

  constructor(trace: Trace, options: { seed?: number } = {}) {
    this.#random = seededRandom(options.seed ?? 1);
    const groups: Group[] = [{ recorded: undefined, frames: [] }];
    let lastWasClose = false;
    for (const entry of trace.summary.sequence) {
      lastWasClose = false;
      if (entry['dir'] === 'C->S') groups.push({ recorded: entry['text'] as string, frames: [] });
      else if (typeof entry['rx_length'] === 'number') {
        const start = entry['rx_offset'] as number;
        const frame = trace.bytes.subarray(start, start + (entry['rx_length'] as number)).toString('latin1');
        (groups[groups.length - 1] as Group).frames.push(frame);
      } else if (entry['socket'] !== undefined) lastWasClose = true;
    }
    this.#groups = groups;
    this.#closesAtEnd = lastWasClose && trace.summary['socket_closed_by_freeswitch'] !== false;
  }

  attach(socket: Socket): void {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk.toString('latin1')));
    socket.on('error', () => undefined);
    this.#sendGroup(0);
  }

  #onData(text: string): void {
    this.#pending += text;
    for (;;) {
      const end = this.#pending.indexOf('\n\n');
      if (end === -1) return;
      const command = this.#pending.slice(0, end + 2);
      this.#pending = this.#pending.slice(end + 2);
      this.received.push(command);
      const index = this.received.length;
      const group = this.#groups[index];
      if (group === undefined) continue;
      this.#learnIds(group, command);
      const expected = this.#rewrite(stripJobUuid(group.recorded ?? ''));
      if (expected !== stripJobUuid(command)) this.mismatches.push({ index, expected, got: command });
      this.#sendGroup(index);
    }
  }

  #learnIds(group: Group, command: string): void {
    const ours = /^Event-UUID: (.+)$/m.exec(command)?.[1];
    const recorded = /^Event-UUID: (.+)$/m.exec(group.recorded ?? '')?.[1];
    if (ours !== undefined && recorded !== undefined) this.#map.set(recorded, ours);
    const ourJob = /^Job-UUID: (.+)$/m.exec(command)?.[1];
    const recordedJob = /^Job-UUID: (.+)$/m.exec(group.frames[0] ?? '')?.[1];
    if (ourJob !== undefined && recordedJob !== undefined) this.#map.set(recordedJob, ourJob);
  }

  #rewrite(text: string): string {
    let out = text;
    for (const [from, to] of this.#map) out = out.split(from).join(to);
    return out;
  }

  #rewriteFrame(frame: string): string {
    const cut = frame.indexOf('\n\n') + 2;
    const head = this.#rewrite(frame.slice(0, cut));
    const body = this.#rewrite(frame.slice(cut));
    return head.replace(/^Content-Length: \d+$/m, `Content-Length: ${Buffer.byteLength(body, 'latin1')}`) + body;
  }

  #sendGroup(index: number): void {
    const socket = this.#socket;
    const group = this.#groups[index];
    if (socket === undefined || group === undefined) return;
    const bytes = Buffer.from(group.frames.map((f) => this.#rewriteFrame(f)).join(''), 'latin1');
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + Math.floor(this.#random() * 700);
      socket.write(bytes.subarray(at, at + n));
      at += n;
    }
    if (index === this.#groups.length - 1 && this.#closesAtEnd) socket.end();
  }
}

function stripJobUuid(command: string): string {
  return command.replace(/^Job-UUID: .*\n/m, '');
}
