// The call as the domain sees it: identity, parties, where it is in its life, and how it ended.
import type { VoiceQuality } from './voice-quality.ts';

export const CallStates = ['ringing', 'answered', 'in_conversation', 'transferring', 'bridged', 'ended'] as const;
export type CallState = (typeof CallStates)[number];

export type CallDirection = 'inbound' | 'outbound';

export interface CallRecord {
  /** Our id (uuid v4), stable across controllers; FreeSWITCH's channel uuid is kept beside it. */
  id: string;
  fsUuid: string;
  direction: CallDirection;
  fromNumber: string;
  toNumber: string;
  location: string | null;
  state: CallState;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  hangupCause: string | null;
  /** RTP statistics of the caller's audio at hangup; null until then, or for a call without RTP. */
  voiceQuality: VoiceQuality | null;
}

export interface CallEventRecord {
  callId: string;
  /** 1, 2, 3 … per call: the order in which the controller saw things happen. */
  seq: number;
  type: string;
  fromState: CallState | null;
  toState: CallState | null;
  /** Wall-clock time, for people. */
  at: Date;
  /** Monotonic milliseconds (process clock), for ordering and latency: never goes backwards. */
  monotonicMs: number;
  data: Record<string, unknown>;
}

export interface CallWithEvents extends CallRecord {
  events: CallEventRecord[];
}
