// TCP reads cut ESL messages anywhere (trace rule 18). Whatever the cuts, the parser must produce the very
// same messages as when it gets the whole stream in one read.
import { describe, expect, it } from 'vitest';
import { EslFrameParser, type EslFrame } from '../../../src/esl/protocol/index.ts';
import { cutAt, loadTrace, seededRandom, traceNames } from './traces.ts';

type Snapshot = Array<[ReadonlyArray<readonly [string, string]>, string | null]>;

function snapshot(frames: EslFrame[]): Snapshot {
  return frames.map((f) => [f.headers.entries(), f.body === undefined ? null : f.body.toString('latin1')]);
}

function parsePieces(pieces: Buffer[]): Snapshot {
  const parser = new EslFrameParser();
  const frames: EslFrame[] = [];
  for (const piece of pieces) frames.push(...parser.push(piece));
  expect(parser.bufferedBytes).toBe(0);
  return snapshot(frames);
}

const SMALL_LIMIT = 8 * 1024;
const names = traceNames();
const small = names.filter((n) => loadTrace(n).bytes.length <= SMALL_LIMIT);
const big = names.filter((n) => loadTrace(n).bytes.length > SMALL_LIMIT);

describe('ESL parser: reads cut anywhere give the same messages', () => {
  it('has small and big traces to cut', () => {
    expect(small.length).toBeGreaterThanOrEqual(5);
    expect(big.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of small) {
    it(`${name}: every single byte boundary`, () => {
      const { bytes } = loadTrace(name);
      const whole = parsePieces([bytes]);
      for (let cut = 1; cut < bytes.length; cut++) {
        const got = parsePieces(cutAt(bytes, [cut]));
        if (got.length !== whole.length) expect.fail(`${name}: cut at ${cut} gave ${got.length} frames`);
        expect(got).toEqual(whole);
      }
    });
  }

  for (const name of big) {
    it(`${name}: seeded random cuts and the recorded TCP reads`, () => {
      const trace = loadTrace(name);
      const { bytes } = trace;
      const whole = parsePieces([bytes]);
      expect(whole.length).toBe(trace.frames.length);
      let totalCuts = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const random = seededRandom(seed * 7919 + bytes.length);
        const maxPiece = [3, 40, 700, 5000, 70000, 200][seed - 1] as number;
        const cuts: number[] = [];
        for (let at = 0; ; ) {
          at += 1 + Math.floor(random() * maxPiece);
          if (at >= bytes.length || cuts.length >= 4000) break;
          cuts.push(at);
        }
        totalCuts += cuts.length;
        expect(parsePieces(cutAt(bytes, cuts)), `seed ${seed}`).toEqual(whole);
      }
      expect(totalCuts).toBeGreaterThan(1000);
      const chunks = trace.summary.tcp_chunks;
      if (chunks !== undefined) {
        expect(parsePieces(chunks.map((c) => bytes.subarray(c.offset, c.offset + c.length)))).toEqual(whole);
      }
    });
  }

  it('1-byte pieces of a whole outbound call', () => {
    const { bytes } = loadTrace('outbound-socket-call2000-linger-plain');
    const pieces: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1));
    expect(parsePieces(pieces)).toEqual(parsePieces([bytes]));
  });

  it('a read ending between the two LFs of a header block does not end the message early', () => {
    const trace = loadTrace('inbound-load-100-loopback-plain');
    const stats = trace.summary['tcp_chunk_stats'] as Record<string, unknown>;
    expect((stats['boundaries_between_the_two_LFs_ending_the_outer_header_block'] as unknown[]).length).toBe(1);
    const parser = new EslFrameParser();
    expect(parser.push(Buffer.from('Content-Type: api/response\nContent-Length: 4\n'))).toEqual([]);
    const frames = parser.push(Buffer.from('\n+OK\n'));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.body?.toString()).toBe('+OK\n');
  });

  it('bodies handed out stay intact while later reads arrive', () => {
    const { bytes } = loadTrace('inbound-log7');
    const parser = new EslFrameParser();
    const frames: EslFrame[] = [];
    const random = seededRandom(42);
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + Math.floor(random() * 300);
      frames.push(...parser.push(Buffer.from(bytes.subarray(at, at + n))));
      at += n;
    }
    expect(snapshot(frames)).toEqual(parsePieces([bytes]));
  });
});
