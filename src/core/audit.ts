// What an audit entry is and what checking the chain reports: shared by the store that writes the chain
// (src/db), the HTTP routes that show it and the CLI, so each reads the same shape.

/** One entry of the append-only, hash-chained audit trail. */
export interface AuditEntry {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export type AuditProblem = 'altered' | 'missing' | 'broken_link';

export interface AuditVerification {
  ok: boolean;
  /** Entries read (all of them when ok, up to the first bad one otherwise). */
  checked: number;
  /** The newest entry when ok: keep it elsewhere to notice entries cut off the end later. */
  head?: { seq: number; hash: string };
  firstBadSeq?: number;
  problem?: AuditProblem;
  message?: string;
}
