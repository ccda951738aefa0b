// Every recorded FreeSWITCH stream, parsed whole, must yield exactly the frames its summary lists.
import { describe, expect, it } from 'vitest';
import { EslFrameParser, isEventFrame, parseEvent, type EslFrame } from '../../src/esl/protocol/index.ts';
import { loadTrace, traceNames, type SummaryFrame } from '../unit/esl/traces.ts';

function decoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function checkFrame(frame: EslFrame, expected: SummaryFrame, where: string): void {
  expect(frame.headers.entries(), where).toEqual(expected.outer_headers.map(([n, v]) => [n, decoded(v)]));
  expect(frame.body?.length ?? 0, where).toBe(expected.body_length);
  if (expected.body_text !== undefined) expect(frame.body?.toString('utf8'), where).toBe(expected.body_text);
  if (expected.event_name === undefined) {
    expect(isEventFrame(frame), where).toBe(false);
    return;
  }
  const event = parseEvent(frame);
  expect(event.name, where).toBe(expected.event_name);
  if (expected.subclass !== undefined) expect(event.subclass, where).toBe(expected.subclass);
  if ('unique_id' in expected) expect(event.uniqueId, where).toBe(expected.unique_id);
  if (expected.application !== undefined) expect(event.headers.get('Application'), where).toBe(expected.application);
  if (expected.header_count !== undefined) {
    // The summaries count JSON keys the way JSON.parse sees them (distinct, `_body` included); our parser
    // keeps the repeats, which the dedicated duplicate-key tests check.
    const count =
      event.format === 'json'
        ? new Set(event.headers.entries().map(([n]) => n)).size + (event.body === undefined ? 0 : 1)
        : event.headers.size;
    expect(count, where).toBe(expected.header_count);
  }
  if (expected.inner_body_length !== undefined) {
    expect(Buffer.byteLength(event.body ?? ''), where).toBe(expected.inner_body_length);
  }
  if (expected.inner_body_text !== undefined) expect(event.body, where).toBe(expected.inner_body_text);
  if (expected.has_body_key !== undefined) expect(event.body !== undefined, where).toBe(expected.has_body_key);
  for (const [name, value] of Object.entries(expected.key_headers ?? {})) {
    expect(event.headers.getFirst(name), `${where} ${name}`).toBe(value);
  }
}

describe('ESL parser against every FreeSWITCH trace', () => {
  for (const name of traceNames()) {
    it(`${name}: all frames, headers, events and bodies as recorded`, () => {
      const trace = loadTrace(name);
      const frames = new EslFrameParser().push(trace.bytes);
      expect(frames.length).toBe(trace.frames.length);
      frames.forEach((frame, k) => checkFrame(frame, trace.frames[k] as SummaryFrame, `${name} frame ${k}`));
    });
  }
});
