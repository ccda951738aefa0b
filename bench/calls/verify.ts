// After a round: is every call in the database the way a caller who was greeted, held and then hung up
// should leave it? This is the "no lost events" check: a missing answer, greeting completion, hangup or
// release shows up here as a problem.
import type { CallStore } from '../../src/core/ports.ts';

export interface StoredCheck {
  checked: number;
  /** Calls with nothing wrong at all. */
  ok: number;
  /** Calls whose life cycle is complete (record, state, transitions, released, no failures), recording events aside. */
  lifecycleOk: number;
  /** Calls whose journal holds the RECORD_START FreeSWITCH reported for record_session. */
  recordStartStored: number;
  /** Kind of problem → how many calls had it. */
  problemCounts: Record<string, number>;
  /** Up to five examples of what was wrong. */
  problems: string[];
}

const NO_RECORD_START = 'no record_start event';
const EXPECTED_TRANSITIONS = ['ringing>answered', 'answered>in_conversation', 'in_conversation>ended'];

export async function verifyStoredCalls(store: CallStore, callIds: readonly string[]): Promise<StoredCheck> {
  const result: StoredCheck = { checked: 0, ok: 0, lifecycleOk: 0, recordStartStored: 0, problemCounts: {}, problems: [] };
  for (const id of callIds) {
    result.checked++;
    const call = await store.getCall(id);
    const wrong: string[] = [];
    if (call === undefined) {
      wrong.push('not stored');
    } else {
      if (call.state !== 'ended') wrong.push(`state ${call.state}`);
      if (call.hangupCause !== 'NORMAL_CLEARING') wrong.push(`hangup cause ${String(call.hangupCause)}`);
      if (call.answeredAt === null) wrong.push('no answeredAt');
      if (call.endedAt === null) wrong.push('no endedAt');
      const transitions = call.events.filter((e) => e.fromState !== e.toState).map((e) => `${e.fromState}>${e.toState}`);
      if (transitions.join(',') !== EXPECTED_TRANSITIONS.join(',')) wrong.push(`transitions ${transitions.join(',')}`);
      const types = call.events.map((e) => e.type);
      if (types.includes('record_start')) result.recordStartStored++;
      else wrong.push(NO_RECORD_START);
      if (!types.includes('released')) wrong.push('no released event');
      const bad = types.filter((t) => t === 'command_failed' || t.startsWith('illegal'));
      if (bad.length > 0) wrong.push(`events ${bad.join(',')}`);
      if (call.events.some((e, i) => e.seq !== i + 1)) wrong.push('event sequence has gaps');
    }
    for (const kind of wrong) result.problemCounts[kind] = (result.problemCounts[kind] ?? 0) + 1;
    if (wrong.length === 0) result.ok++;
    if (wrong.every((w) => w === NO_RECORD_START)) result.lifecycleOk++;
    if (wrong.length > 0 && result.problems.length < 5) result.problems.push(`${id}: ${wrong.join('; ')}`);
  }
  return result;
}
