// Media facts the simulator needs without real media: how long a playback lasts, and its file type.
import { open } from 'node:fs/promises';

/**
 * Duration of a playback argument in ms. `tone_stream://%(on,off,freq…)…;loops=N` is summed from its
 * segments (loops=-1 plays forever → Infinity); `silence_stream://N` lasts N ms; `local_stream://` (music on
 * hold) forever; anything else (a file)
 * lasts `fileMs`.
 */
export function playbackDurationMs(arg: string, fileMs: number): number {
  if (arg.startsWith('tone_stream://')) {
    let total = 0;
    for (const m of arg.matchAll(/%\((\d+),(\d+)/g)) total += Number(m[1]) + Number(m[2]);
    const loops = /loops=(-?\d+)/.exec(arg);
    if (loops !== null) {
      const n = Number(loops[1]);
      if (n < 0) return Number.POSITIVE_INFINITY;
      total *= Math.max(1, n);
    }
    return total;
  }
  // Music on hold (mod_local_stream) never ends by itself: only uuid_break or a bridge stops it.
  if (arg.startsWith('local_stream://')) return Number.POSITIVE_INFINITY;
  if (arg.startsWith('silence_stream://')) {
    const n = Number.parseInt(arg.slice('silence_stream://'.length), 10);
    return Number.isFinite(n) && n >= 0 ? n : Number.POSITIVE_INFINITY;
  }
  return fileMs;
}

export function playbackFileType(arg: string): string {
  const scheme = /^([a-z_]+):\/\//.exec(arg);
  if (scheme !== null) return scheme[1] ?? 'file';
  const ext = /\.([A-Za-z0-9]+)$/.exec(arg);
  return ext?.[1] ?? 'file';
}

/**
 * Duration in ms of a WAV file on disk (data chunk size / byte rate), or undefined when `path` is not a
 * readable RIFF/WAVE file with a fmt and a data chunk. Only the chunk headers are read.
 */
export async function wavFileDurationMs(path: string): Promise<number | undefined> {
  if (!/\.wav$/i.test(path) || /^[a-z_]+:\/\//.test(path)) return undefined;
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.alloc(12);
    await file.read(head, 0, 12, 0);
    if (head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') return undefined;
    let byteRate = 0;
    // A chunk header (id, size), then for fmt: format, channels, sample rate, byte rate.
    const chunk = Buffer.alloc(20);
    // Walk the chunks (fmt, LIST, fact, … may come in any order before data).
    for (let pos = 12; ; ) {
      const { bytesRead } = await file.read(chunk, 0, 20, pos);
      if (bytesRead < 8) return undefined;
      const id = chunk.toString('latin1', 0, 4);
      const size = chunk.readUInt32LE(4);
      if (id === 'fmt ' && bytesRead >= 20) byteRate = chunk.readUInt32LE(16);
      if (id === 'data') return byteRate > 0 ? (size / byteRate) * 1000 : undefined;
      pos += 8 + size + (size % 2);
    }
  } finally {
    await file.close();
  }
}
