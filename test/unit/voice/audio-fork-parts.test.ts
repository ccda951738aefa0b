// The pure parts of the audio-fork server: the drop-oldest frame queue, fork URLs and tokens, and the
// JSON text frames sent to mod_audio_fork (shapes as recorded in audio-fork-ws.summary.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeMessage, FrameQueue } from '../../../src/voice/audio-fork/index.ts';
import { forkUrl, newToken, parseForkRequest, tokenMatches } from '../../../src/voice/audio-fork/tokens.ts';
import { serverFrames, TEXT_OPCODE } from '../../support/ws-frames.ts';

const TRACES = join(import.meta.dirname, '..', '..', 'fixtures', 'freeswitch-traces');

/** The text frames the recorded server wrote to FreeSWITCH (server frames are unmasked). */
function recordedServerTexts(): string[] {
  return [1, 2].flatMap((n) =>
    serverFrames(readFileSync(join(TRACES, `audio-fork-ws.conn${n}.wire-server-to-fs.raw`)))
      .filter((f) => f.opcode === TEXT_OPCODE)
      .map((f) => f.payload.toString('utf8')),
  );
}

describe('FrameQueue', () => {
  it('keeps frames in order and, when full, drops the oldest and counts it', () => {
    const q = new FrameQueue(3);
    const frames = [0, 1, 2, 3, 4].map((n) => Buffer.from([n]));
    expect(frames.map((f) => q.push(f))).toEqual([false, false, false, true, true]);
    expect(q.size).toBe(3);
    expect(q.dropped).toBe(2);
    expect([q.shift(), q.shift(), q.shift(), q.shift()].map((f) => f?.[0])).toEqual([2, 3, 4, undefined]);
    q.push(frames[0] ?? Buffer.alloc(0));
    q.clear();
    expect(q.size).toBe(0);
    expect(q.dropped).toBe(2);
  });

  it('keeps the very frame it was given (no copy)', () => {
    const q = new FrameQueue(2);
    const f = Buffer.alloc(640);
    q.push(f);
    expect(q.shift()).toBe(f);
  });

  it('refuses a capacity that cannot hold a frame', () => {
    expect(() => new FrameQueue(0)).toThrow(RangeError);
  });
});

describe('fork URL and token', () => {
  it('builds a URL FreeSWITCH can take in a space-split command and reads it back', () => {
    const token = newToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const url = forkUrl({ base: 'ws://10.0.0.5:8080/', path: '/v1/audio-fork', callId: 'call 7/a', token });
    expect(url).toBe(`ws://10.0.0.5:8080/v1/audio-fork/call%207%2Fa?token=${token}`);
    expect(url).not.toContain(' ');
    const target = url.slice('ws://10.0.0.5:8080'.length);
    expect(parseForkRequest(target, '/v1/audio-fork')).toEqual({ kind: 'fork', callId: 'call 7/a', token });
  });

  it('tells our paths from others and tolerates broken ones', () => {
    expect(parseForkRequest('/', '/v1/audio-fork')).toEqual({ kind: 'other' });
    expect(parseForkRequest('/v1/audio-forkx/a', '/v1/audio-fork')).toEqual({ kind: 'other' });
    expect(parseForkRequest('/v1/audio-fork/a', '/v1/audio-fork')).toEqual({ kind: 'fork', callId: 'a', token: undefined });
    expect(parseForkRequest('/v1/audio-fork/%E0%A4?token=x', '/v1/audio-fork')).toEqual({ kind: 'fork', callId: '', token: 'x' });
    expect(parseForkRequest('/v1/audio-fork/a/b?token=x', '/v1/audio-fork')).toEqual({ kind: 'fork', callId: '', token: 'x' });
  });

  it('matches only the exact token', () => {
    const t = newToken();
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(t, `${t}x`)).toBe(false);
    expect(tokenMatches(t, t.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')))).toBe(false);
    expect(tokenMatches(t, '')).toBe(false);
  });
});

describe('messages to mod_audio_fork', () => {
  it('are the text frames the recorded server sent', () => {
    const recorded = recordedServerTexts();
    expect(recorded).toHaveLength(9);
    const sent = [
      encodeMessage({ type: 'transcription', data: { text: 'hello world', is_final: true, confidence: 0.9 } }),
      encodeMessage({ type: 'json', data: { anything: 'goes', n: 1 } }),
      encodeMessage({ type: 'transfer', data: { exten: '1234' } }),
      encodeMessage({ type: 'error', data: { message: 'server side error example' } }),
      encodeMessage({ type: 'disconnect', data: { reason: 'server says disconnect (event only)' } }),
      encodeMessage({ type: 'killAudio' }),
    ];
    for (const s of sent) expect(recorded).toContain(s);
  });

  it('playAudio carries binary audio as base64 with the recorded field order', () => {
    const recorded = recordedServerTexts().find((t) => t.includes('playAudio')) ?? '';
    const { data } = JSON.parse(recorded) as { data: { audioContent: string } };
    const pcm = Buffer.from(data.audioContent, 'base64');
    expect(encodeMessage({ type: 'playAudio', data: { audioContentType: 'raw', sampleRate: 8000, audioContent: pcm, textContent: 'Hi there!' } })).toBe(recorded);
  });
});
