// The controller under benchmark logs JSON lines as in production; they go here instead of stdout: every
// line is counted, and warnings and errors (at most 10 kept) are what to read first when a run lost calls.
import { Writable } from 'node:stream';

export interface LogCounts {
  lines: number;
  warnings: { count: number; examples: string[] };
}

/** A log destination that counts; `tag` prefixes kept warnings (e.g. the phase they came in). */
export function countingLogSink(counts: LogCounts, tag: () => string = () => ''): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      counts.lines++;
      const line = chunk.toString();
      if (/"level":(40|50|60)/.test(line)) {
        counts.warnings.count++;
        if (counts.warnings.examples.length < 10) counts.warnings.examples.push(`${tag()}${line.trim().slice(0, 500)}`);
        if (process.env.BENCH_DEBUG) process.stderr.write(line);
      }
      done();
    },
  });
}
