// What an AI-call test waits for and reads back: the call's journal, the replies the agent said to their
// end, and the caller put through to a person. Shared by the conversation tests.
import type { CallSession } from '../../src/call/call-session.ts';
import type { CallEventRecord } from '../../src/core/call.ts';
import { eventually, type Harness } from './controller-harness.ts';

/** The call's journal once the session is over. */
export async function callEvents(h: Harness, session: CallSession): Promise<CallEventRecord[]> {
  await session.done;
  return (await h.controller.store.getCall(session.callId))?.events ?? [];
}

export const eventTypes = (list: CallEventRecord[]): string[] => list.map((e) => e.type);

/** The caller was put through to a person (a warm transfer bridges with uuid_bridge, not a `bridge` app). */
export async function bridgedToPerson(session: () => CallSession | undefined, timeoutMs = 10_000): Promise<void> {
  await eventually(() => session()?.state === 'bridged', 'the caller bridged to a person', timeoutMs);
}

/**
 * Waits until the agent has said `count` replies to their end, as its journal says (a streamed reply is a
 * file a sentence, so the number of prompts does not tell where a reply ends): a caller who lets it finish.
 */
export async function repliesSaid(h: Harness, session: () => CallSession | undefined, count: number): Promise<void> {
  await eventually(
    async () => {
      const current = session();
      const list = current === undefined ? [] : ((await h.controller.store.getCall(current.callId))?.events ?? []);
      return list.filter((e) => e.type === 'reply_spoken').length >= count;
    },
    `${count} replies said to their end`,
    10_000,
  );
}
