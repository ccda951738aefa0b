// Reconnect delays: full jitter under a capped exponential.
import { describe, expect, it } from 'vitest';
import { backoffDelay, resolveBackoff } from '../../../src/esl/backoff.ts';
import { parseChannelRows } from '../../../src/esl/channels.ts';
import { EslProtocolError } from '../../../src/core/errors.ts';

describe('backoffDelay', () => {
  const backoff = resolveBackoff({ initialMs: 100, maxMs: 1_000, factor: 2 });

  it('grows exponentially up to the cap; random() scales it between 0 and the cap', () => {
    const top = (attempt: number): number => backoffDelay(backoff, attempt, () => 0.9999);
    expect([0, 1, 2, 3, 4, 10, 1_000].map(top)).toEqual([99, 199, 399, 799, 999, 999, 999]);
    expect(backoffDelay(backoff, 5, () => 0)).toBe(0);
    expect(backoffDelay(backoff, 1, () => 0.5)).toBe(100);
  });

  it('defaults are sane for production', () => {
    expect(resolveBackoff()).toEqual({ initialMs: 250, maxMs: 30_000, factor: 2, healthyAfterMs: 60_000 });
  });
});

describe('parseChannelRows', () => {
  it('idle, rows, and garbage', () => {
    expect(parseChannelRows('{"row_count": 0}\n')).toEqual([]);
    expect(parseChannelRows('{"row_count":1,"rows":[{"uuid":"u","name":"n","x":null}]}')).toEqual([
      { uuid: 'u', name: 'n', x: '' },
    ]);
    expect(() => parseChannelRows('-ERR no reply\n')).toThrow(EslProtocolError);
    expect(() => parseChannelRows('{"rows":[]}')).toThrow(EslProtocolError);
  });
});
