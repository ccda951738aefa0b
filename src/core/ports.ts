// Ports: what the domain and the per-call session need from the outside world. Adapters implement them;
// src/app/ wires them. Keeping them here lets the session be tested against any implementation.
import type { CallEventRecord, CallRecord, CallState, CallWithEvents } from './call.ts';

export interface Clock {
  /** Wall-clock time. */
  now(): Date;
  /** Monotonic milliseconds; only differences are meaningful. */
  monotonicMs(): number;
}

export interface CallListQuery {
  limit: number;
  offset?: number;
  state?: CallState;
}

export type CallUpdate = Partial<Pick<CallRecord, 'state' | 'answeredAt' | 'endedAt' | 'hangupCause' | 'location' | 'voiceQuality'>>;

/** Writes that belong together, applied atomically and in this order: new calls, events, updates. */
export interface CallWriteBatch {
  newCalls: CallRecord[];
  events: CallEventRecord[];
  updates: { id: string; update: CallUpdate }[];
}

/** Durable call storage (Postgres or embedded PGlite). */
export interface CallStore {
  /** One transaction for many calls' writes: the journal's way of keeping up with call bursts. */
  writeBatch(batch: CallWriteBatch): Promise<void>;
  createCall(call: CallRecord): Promise<void>;
  updateCall(id: string, update: CallUpdate): Promise<void>;
  appendEvent(event: CallEventRecord): Promise<void>;
  listCalls(query: CallListQuery): Promise<CallRecord[]>;
  getCall(id: string): Promise<CallWithEvents | undefined>;
  /** Calls not yet ended, to reconcile with FreeSWITCH after a restart or reconnect. */
  listUnendedCalls(): Promise<CallRecord[]>;
  ping(): Promise<void>;
  /** Calls started since `since`, oldest first, with the ring group routing chose (repeat-caller rule). */
  recentCallerRoutes(since: Date): Promise<CallerRoute[]>;
}

export interface CallerRoute {
  fromNumber: string;
  startedAt: Date;
  ringGroup: string | null;
}
