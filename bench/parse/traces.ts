// The benchmark input: every recorded FreeSWITCH → client byte stream, joined in file-name order. Each
// trace ends on a message boundary, so the joined bytes are a valid ESL stream of real messages.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const TRACE_DIR = fileURLToPath(new URL('../../test/fixtures/freeswitch-traces/', import.meta.url));

/** The trace files, in name order; without the one XML-event trace when `withXml` is false. */
export async function traceFiles(options: { withXml: boolean } = { withXml: true }): Promise<string[]> {
  return (await readdir(TRACE_DIR))
    .filter((name) => name.endsWith('.fs-to-client.raw'))
    .filter((name) => options.withXml || !name.includes('-xml-'))
    .sort();
}

export async function loadTraceBytes(options: { withXml: boolean } = { withXml: true }): Promise<Buffer> {
  const files = await traceFiles(options);
  return Buffer.concat(await Promise.all(files.map((name) => readFile(TRACE_DIR + name))));
}

/** Views of `data`, `size` bytes each (the last one shorter), like successive socket reads. */
export function splitReads(data: Buffer, size: number): Buffer[] {
  const reads: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) reads.push(data.subarray(offset, Math.min(offset + size, data.length)));
  return reads;
}
