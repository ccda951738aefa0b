// Reconnect delays: capped exponential backoff with full jitter (a random delay between 0 and the capped
// exponential). Jitter keeps several controllers from reconnecting to a restarted FreeSWITCH in lockstep.

export interface BackoffOptions {
  /** Cap for the first retry (ms). */
  initialMs?: number;
  /** Largest delay (ms); also used after an authentication failure, which retrying fast cannot fix. */
  maxMs?: number;
  factor?: number;
  /** A connection that stayed up this long resets the backoff (ms). */
  healthyAfterMs?: number;
}

export type ResolvedBackoff = Required<BackoffOptions>;

export function resolveBackoff(options: BackoffOptions = {}): ResolvedBackoff {
  return {
    initialMs: options.initialMs ?? 250,
    maxMs: options.maxMs ?? 30_000,
    factor: options.factor ?? 2,
    healthyAfterMs: options.healthyAfterMs ?? 60_000,
  };
}

/** Delay before retry number `attempt` (0 for the first retry); `random` returns [0, 1). */
export function backoffDelay(backoff: ResolvedBackoff, attempt: number, random: () => number): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * Math.pow(backoff.factor, Math.max(0, attempt)));
  return Math.floor(random() * cap);
}
