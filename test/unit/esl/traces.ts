// Loads the recorded FreeSWITCH traces (test/fixtures/freeswitch-traces) and their summaries.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const TRACE_DIR = fileURLToPath(new URL('../../fixtures/freeswitch-traces/', import.meta.url));

export interface SummaryFrame {
  i: number;
  dir: 'S->C';
  rx_offset: number;
  rx_length: number;
  outer_headers: Array<[string, string]>;
  body_length: number;
  chunks?: [number, number];
  event_name?: string;
  subclass?: string;
  unique_id?: string;
  application?: string;
  header_count?: number;
  inner_body_length?: number;
  inner_body_text?: string;
  has_body_key?: boolean;
  key_headers?: Record<string, string>;
  body_text?: string;
  disconnect?: boolean;
}

export interface TraceSummary {
  scenario: string;
  sequence: Array<Record<string, unknown>>;
  tcp_chunks?: Array<{ t_ms: number; offset: number; length: number }>;
  [key: string]: unknown;
}

export interface Trace {
  name: string;
  bytes: Buffer;
  clientBytes: Buffer;
  summary: TraceSummary;
  /** The frames FreeSWITCH sent, in order (socket-close markers left out). */
  frames: SummaryFrame[];
}

export function traceNames(): string[] {
  return readdirSync(TRACE_DIR)
    .filter((f) => f.endsWith('.fs-to-client.raw'))
    .map((f) => f.slice(0, -'.fs-to-client.raw'.length))
    .sort();
}

export function loadTrace(name: string): Trace {
  const bytes = readFileSync(join(TRACE_DIR, `${name}.fs-to-client.raw`));
  const clientBytes = readFileSync(join(TRACE_DIR, `${name}.client-to-fs.raw`));
  const summary = JSON.parse(readFileSync(join(TRACE_DIR, `${name}.summary.json`), 'utf8')) as TraceSummary;
  const frames = summary.sequence.filter(
    (e) => e['dir'] === 'S->C' && Array.isArray(e['outer_headers']),
  ) as unknown as SummaryFrame[];
  return { name, bytes, clientBytes, summary, frames };
}

/** Deterministic PRNG (mulberry32) so random cuts are reproducible from the seed in a failure message. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits `bytes` into pieces at the given (sorted, unique) cut offsets. */
export function cutAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const c of cuts) {
    if (c <= from || c >= bytes.length) continue;
    pieces.push(bytes.subarray(from, c));
    from = c;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}
