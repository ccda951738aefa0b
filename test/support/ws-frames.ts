// Reading recorded WebSocket bytes in tests: what a server wrote after its upgrade response (unmasked frames).

export interface WsFrame {
  opcode: number;
  /** The whole frame as it was on the wire. */
  raw: Buffer;
  payload: Buffer;
}

export function serverFrames(bytes: Buffer): WsFrame[] {
  const out: WsFrame[] = [];
  let i = bytes.indexOf('\r\n\r\n') + 4;
  while (i + 2 <= bytes.length) {
    let len = (bytes[i + 1] ?? 0) & 0x7f;
    let off = i + 2;
    if (len === 126) {
      len = bytes.readUInt16BE(off);
      off += 2;
    }
    if (off + len > bytes.length) break;
    out.push({ opcode: (bytes[i] ?? 0) & 0x0f, raw: bytes.subarray(i, off + len), payload: bytes.subarray(off, off + len) });
    i = off + len;
  }
  return out;
}

export const TEXT_OPCODE = 1;
