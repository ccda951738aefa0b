// The contract between routing and the rest of the controller: the facts of a call going in, the decision
// coming out. Routing itself (src/core/routing/) is a pure function of the routing document and these facts.

/** How the whole system is doing; set by failover (issue 6), given to routing as a fact. */
export type SystemMode = 'normal' | 'ai-down' | '3cx-down';

export interface CallFacts {
  /** The DID the caller dialled (E.164 or as 3CX sends it). */
  to: string;
  /** The caller's number (may be empty or anonymous). */
  from: string;
  /** The instant of the call; routing converts it to each location's time zone. */
  at: Date;
  /** Digits the caller pressed so far (e.g. the emergency escape), if any. */
  digits?: string;
  /** What we know of this caller's earlier calls (repeat-caller rule). */
  history?: CallerHistory;
  mode: SystemMode;
}

export interface CallerHistory {
  /** When this number last called. */
  lastCallAt?: Date;
  /** The ring group that handled the caller's last call, if it went to humans. */
  lastRingGroup?: string;
}

export interface RoutedAgent {
  /** 3CX extension number. */
  extension: string;
  name: string;
  skills: string[];
  /** Lower rings first. */
  priority: number;
}

export type RouteTarget =
  | {
      kind: 'ai_agent';
      /** BCP 47 language for speech and replies, e.g. en-US, es-US. */
      language: string;
      /** Whether the AI takes a message only (after hours) rather than helping fully. */
      messageOnly: boolean;
      /** Where the AI hands the caller when it cannot help (a ring group id). */
      handoffRingGroup: string;
    }
  | {
      kind: 'ring_group';
      ringGroup: string;
      /** In the order they should ring (priority, then skills match). */
      agents: RoutedAgent[];
      /** How long each agent rings before the next one. */
      ringSeconds: number;
      /** sequential: agents ring one after another in `agents` order; simultaneous: all at once. */
      strategy?: 'sequential' | 'simultaneous';
      /** Where the call goes when nobody in the group answers. */
      fallback: FallbackTarget;
    }
  | { kind: 'external'; number: string; via: 'threecx' | 'twilio' }
  | VoicemailTarget
  | { kind: 'reject'; cause: 'CALL_REJECTED' | 'USER_BUSY' };

/** A mailbox of the routing file; 3CX's voicemail on `extension` takes the message. */
export interface VoicemailTarget {
  kind: 'voicemail';
  mailbox: string;
  extension: string;
}

/** A ring group's last resort: never a dead end. */
export type FallbackTarget =
  | VoicemailTarget
  | { kind: 'external'; number: string; via: 'threecx' | 'twilio' }
  | { kind: 'ai_agent'; language: string; messageOnly: true; handoffRingGroup: string };

export interface RoutingDecision {
  target: RouteTarget;
  /** The location the DID belongs to, or null for an unknown DID. */
  location: string | null;
  recording: { enabled: boolean; announcement: string | null };
  /** The dialled number's language (en-US for an unknown number): whatever the caller is told is said in it. */
  language: string;
  /** A sentence an admin understands: why this target. */
  reason: string;
  /** Which rule matched, as a path into the routing document (e.g. `callers.blocked`, `numbers[2].after_hours`). */
  rule: string;
  /**
   * After hours: what the caller hears before anything else (`prompt`, in the number's language) and the
   * digits that take them to the on-call provider (`after_hours.urgent_digits`). Absent during opening hours.
   */
  urgentOffer?: { digits: string; prompt: string };
}
