import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/ports.ts';

export const systemClock: Clock = {
  now: () => new Date(),
  monotonicMs: () => performance.now(),
};
