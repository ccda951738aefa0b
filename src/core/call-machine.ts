// The call state machine: pure. It takes what happened (an input) and the call's current state, and gives
// back the new state plus the commands the controller should send. It never performs I/O and never throws
// on a bad sequence: an input that makes no sense in the current state is reported as `illegal`, recorded by
// the caller, and the state stays as it was. Real FreeSWITCH event orders are messy (a caller can hang up
// while we are still answering, an unbridge can race a hangup), so robustness here is a requirement.
import type { CallState } from './call.ts';
import type { CallPlan, UrgentOffer } from './call-plan.ts';

export type CallInput =
  /** FreeSWITCH handed us the call and routing made its plan. */
  | { type: 'offered'; plan: CallPlan }
  /** CHANNEL_ANSWER on our channel. */
  | { type: 'answered' }
  /** The greeting finished playing (EXECUTE_COMPLETE of its playback). */
  | { type: 'greeting_finished'; interrupted: boolean }
  /** Someone (policy, AI, staff) wants the call handed to a human or a number. */
  | {
      type: 'transfer_requested';
      target: string;
      reason: string;
      fallback?: string | null;
      /** The controller rings the people itself (warm transfer) instead of a `bridge`; it reports the outcome. */
      warm?: boolean;
    }
  /** CHANNEL_BRIDGE: the caller is now talking to the target. */
  | { type: 'bridged'; otherLegUuid: string }
  /** The transfer could not be completed (bridge failed, nobody answered). */
  | { type: 'transfer_failed'; cause: string }
  /** CHANNEL_UNBRIDGE while the caller stays on the line (the human hung up). */
  | { type: 'unbridged' }
  /** The controller decided to end the call (time limit, policy). */
  | { type: 'hangup_requested'; cause: string }
  /** CHANNEL_HANGUP / HANGUP_COMPLETE, or the socket vanished: the call is over. */
  | { type: 'hung_up'; cause: string }
  /** The caller let the on-call offer pass (no digits, other digits): connect them as the plan says. */
  | { type: 'urgent_offer_declined' };

export type CallCommand =
  | { type: 'answer' }
  | { type: 'start_recording' }
  /** A notice played before anything else (the recording announcement); does not wait for its end. */
  | { type: 'announce'; sound: string }
  | { type: 'play_greeting' }
  /** Say the on-call offer and listen for its digits; the controller reports a decline or transfers. */
  | ({ type: 'urgent_offer' } & UrgentOffer)
  | { type: 'hold' }
  | { type: 'bridge'; target: string }
  | { type: 'hangup'; cause: string }
  /** Release every resource the call holds; always the last command of a call. */
  | { type: 'release' };

export interface CallMachineState {
  state: CallState;
  hangupCause: string | null;
  plan: CallPlan | null;
  /** Whether the plan's fallback was already dialled (it is tried once, then the caller is held). */
  fallbackTried: boolean;
  /** The fallback of the transfer in progress (a hand-off's group fallback), tried once like the plan's. */
  transferFallback: string | null;
}

export type Transition =
  | { ok: true; from: CallState; to: CallState; next: CallMachineState; commands: CallCommand[] }
  | { ok: false; from: CallState; input: CallInput['type']; reason: string; next: CallMachineState; commands: [] };

export const initialCallState: CallMachineState = { state: 'ringing', hangupCause: null, plan: null, fallbackTried: false, transferFallback: null };

const TRANSFERABLE: ReadonlySet<CallState> = new Set(['answered', 'in_conversation', 'bridged']);

export function transition(current: CallMachineState, input: CallInput): Transition {
  const from = current.state;
  const move = (to: CallState, commands: CallCommand[], changes: Partial<CallMachineState> = {}): Transition => ({
    ok: true,
    from,
    to,
    next: { ...current, ...changes, state: to },
    commands,
  });
  const illegal = (reason: string): Transition => ({
    ok: false,
    from,
    input: input.type,
    reason,
    next: current,
    commands: [],
  });

  if (from === 'ended') return illegal('the call has already ended');

  switch (input.type) {
    case 'offered':
      if (from !== 'ringing' || current.plan !== null) return illegal('the call was already offered');
      return move('ringing', offerCommands(input.plan), { plan: input.plan });
    case 'answered':
      if (from !== 'ringing') return illegal('the call is already answered');
      // A call for people is connected once FreeSWITCH confirms the answer (after the announcement); after
      // hours the caller first hears the on-call offer and the call waits, answered, for their choice.
      if (current.plan?.kind === 'connect' && current.plan.offer !== undefined) return move('answered', [{ type: 'urgent_offer', ...current.plan.offer }]);
      if (current.plan?.kind === 'connect') return move('transferring', [{ type: 'bridge', target: current.plan.dial }]);
      return move('answered', []);
    case 'greeting_finished':
      if (from !== 'answered') return illegal('no greeting was playing');
      return move('in_conversation', [{ type: 'hold' }]);
    case 'transfer_requested':
      if (!TRANSFERABLE.has(from)) return illegal(`cannot transfer a call that is ${from}`);
      return move('transferring', input.warm === true ? [] : [{ type: 'bridge', target: input.target }], {
        transferFallback: input.fallback ?? null,
        fallbackTried: false,
      });
    case 'bridged':
      return from === 'transferring' ? move('bridged', []) : illegal('no transfer was in progress');
    case 'transfer_failed': {
      if (from !== 'transferring') return illegal('no transfer was in progress');
      const fallback = current.transferFallback ?? (current.plan?.kind === 'connect' ? current.plan.fallbackDial : null);
      if (fallback !== null && !current.fallbackTried) {
        return move('transferring', [{ type: 'bridge', target: fallback }], { fallbackTried: true });
      }
      // Never a dead end: the caller stays with the controller, on hold, rather than being dropped.
      return move('in_conversation', [{ type: 'hold' }]);
    }
    case 'unbridged':
      return from === 'bridged' ? move('in_conversation', [{ type: 'hold' }]) : illegal('the call was not bridged');
    case 'hangup_requested':
      // The state changes when FreeSWITCH confirms the hangup, not when we ask for it.
      return move(from, [{ type: 'hangup', cause: input.cause }]);
    case 'hung_up':
      return move('ended', [{ type: 'release' }], { hangupCause: input.cause });
    case 'urgent_offer_declined':
      if (from !== 'answered' || current.plan?.kind !== 'connect' || current.plan.offer === undefined) return illegal('no urgent offer was waiting');
      return move('transferring', [{ type: 'bridge', target: current.plan.dial }]);
  }
}

/**
 * The first commands go out at once: FreeSWITCH queues them on the channel and runs them strictly in order
 * (event-lock), so the caller hears the greeting without a round trip per step. Recording starts before
 * anything is played so the whole call is on it.
 */
function offerCommands(plan: CallPlan): CallCommand[] {
  if (plan.kind === 'reject') return [{ type: 'hangup', cause: plan.cause }];
  const commands: CallCommand[] = [{ type: 'answer' }];
  if (plan.record) commands.push({ type: 'start_recording' });
  if (plan.announcement !== null) commands.push({ type: 'announce', sound: plan.announcement });
  if (plan.kind === 'converse') commands.push({ type: 'play_greeting' });
  return commands;
}
