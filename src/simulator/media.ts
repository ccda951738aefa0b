// Media facts the simulator needs without real media: how long a playback lasts, and its file type.

/**
 * Duration of a playback argument in ms. `tone_stream://%(on,off,freq…)…;loops=N` is summed from its
 * segments (loops=-1 plays forever → Infinity); `silence_stream://N` lasts N ms; anything else (a file)
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
