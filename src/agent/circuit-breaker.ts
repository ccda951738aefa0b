// A circuit breaker for the AI engine: after `failureThreshold` failures in a row it stops sending new work
// to the engine for `recoveryMs` (callers go straight to the built-in agent instead of waiting on a dead
// service), then lets one probe through; the probe's outcome closes or reopens it.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  recoveryMs: number;
  /** Monotonic milliseconds (injected so tests control recovery without waiting). */
  now: () => number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly options: CircuitBreakerOptions;

  constructor(options: CircuitBreakerOptions) {
    this.options = options;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a request may go to the engine now; in half-open state only one probe at a time. */
  allows(): boolean {
    if (this.current === 'open' && this.options.now() - this.openedAt >= this.options.recoveryMs) {
      this.current = 'half_open';
      this.probing = false;
    }
    if (this.current === 'closed') return true;
    if (this.current === 'half_open' && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.current = 'closed';
    this.failures = 0;
    this.probing = false;
  }

  failure(): void {
    this.failures++;
    if (this.current === 'half_open' || this.failures >= this.options.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.options.now();
      this.probing = false;
    }
  }
}
