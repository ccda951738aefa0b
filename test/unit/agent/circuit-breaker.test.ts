import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../src/agent/circuit-breaker.ts';

function breaker(): { b: CircuitBreaker; advance: (ms: number) => void } {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold: 3, recoveryMs: 1000, now: () => now });
  return { b, advance: (ms) => (now += ms) };
}

describe('CircuitBreaker', () => {
  it('opens after the threshold of failures in a row; a success in between resets the count', () => {
    const { b } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.allows()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allows()).toBe(false);
  });

  it('lets exactly one probe through after the recovery time; success closes, failure reopens', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    advance(999);
    expect(b.allows()).toBe(false);
    advance(1);
    expect(b.allows()).toBe(true);
    expect(b.state).toBe('half_open');
    expect(b.allows()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    advance(1000);
    expect(b.allows()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allows()).toBe(true);
    expect(b.allows()).toBe(true);
  });
});
