// Where a call goes when it leaves the agent: the agent's (or caller's) hand-off to people, staff moving the
// call, and an emergency escalation. It stores each transfer's context for the person who picks up, times
// the transfer to its outcome, runs warm transfers, and tracks the person the caller is bridged to (so staff
// can replace them). The call's session drives the state machine; this asks it for inputs through HandOffCall.
import type { Logger } from 'pino';
import type { CallRecord, CallState } from '../core/call.ts';
import type { CallInput, CallMachineState } from '../core/call-machine.ts';
import type { EmergencyTrigger } from '../core/emergency.ts';
import type { Clock } from '../core/ports.ts';
import type { RoutedAgent, RoutingDecision } from '../core/routing/types.ts';
import type { ChannelControl } from '../esl/channel-control.ts';
import type { Conversation, HandOffRequest } from './conversation.ts';

/** Where a hand-off goes, as dial strings (the live routing resolves the name). */
export interface HandOffDial {
  dial: string;
  fallbackDial: string | null;
  resolvedAs: string;
  /** A ring group's people, for a warm transfer (absent for numbers and voicemail). */
  warm?: WarmPlan;
}

export interface WarmPlan {
  agents: RoutedAgent[];
  ringSeconds: number;
}

/** Rings the people of a warm plan itself (whisper, then bridge); resolves with what happened. */
export type WarmTransferRunner = (transfer: {
  callId: string;
  fsUuid: string;
  request: HandOffRequest;
  plan: WarmPlan;
  signal: AbortSignal;
}) => Promise<'bridged' | 'no_answer' | 'caller_gone'>;

/** Where an emergency goes, and who hears about it (the controller's escalation policy). */
export interface EmergencyEscalation {
  dial(call: { callId: string; toNumber: string }): { dial: string; fallbackDial: string };
  /** The bridge command is out: alert staff, publish the event, count it. */
  escalated(call: { callId: string; record: CallRecord }, trigger: EmergencyTrigger, msToBridgeCommand: number): void;
}

export type EscalationResult = 'accepted' | 'already_escalated' | 'not_transferable';

/** Stores each hand-off's context (reason, summary, what was said) for the person who picks up. */
export interface TransferRecorder {
  /** Resolves with the record's id, or undefined when it could not be stored (the bridge goes ahead). */
  begin(transfer: {
    callId: string;
    requestedAt: Date;
    targetKind: string;
    targetName: string;
    reason: string;
    summary: string;
    urgency: 'normal' | 'urgent' | 'emergency';
    callerNumber: string;
    transcript: readonly { speaker: 'caller' | 'agent'; text: string }[];
  }): Promise<string | undefined>;
  end(id: string, outcome: 'bridged' | 'failed', at: Date): void;
}

/** A transfer ended: the caller was bridged, or every target (and fallback) failed; ms since the request. */
export type TransferEnded = (transfer: { outcome: 'bridged' | 'failed'; ms: number; reason: string }) => void;

export interface HandOffPolicy {
  /** Turns the agent's hand-off into dial strings (the live routing); required for calls with a conversation. */
  resolveHandOff?: (request: HandOffRequest, call: { callId: string; decision: RoutingDecision; toNumber: string }) => HandOffDial;
  /** Where an emergency goes and who is told. */
  emergency: EmergencyEscalation;
  transfers?: TransferRecorder;
  /** Warm transfers for the agent's hand-offs to ring groups; without it they are blind bridges. */
  warmTransfer?: WarmTransferRunner;
  onTransfer?: TransferEnded;
}

/** What hand-offs need from the call's session. */
export interface HandOffCall {
  readonly callId: string;
  readonly fsUuid: string;
  readonly record: CallRecord;
  readonly channel: ChannelControl;
  readonly clock: Clock;
  readonly logger: Logger;
  machine(): CallMachineState;
  decision(): RoutingDecision | undefined;
  conversation(): Conversation | undefined;
  apply(input: CallInput, data?: Record<string, unknown>): void;
  journal(type: string, data: Record<string, unknown>): void;
  background(what: string, promise: Promise<unknown>): void;
  /** An emergency is recorded even when the call's plan did not record it (unless it may not be recorded). */
  recordEmergency(): void;
}

/** Longest a hand-off waits for its context to be stored before bridging anyway. */
const CONTEXT_STORE_WAIT_MS = 500;

export class CallHandOffs {
  readonly #call: HandOffCall;
  readonly #policy: HandOffPolicy;
  readonly #warmAbort = new AbortController();
  /** The stored context of the transfer in progress. */
  #transferRecord: Promise<string | undefined> | undefined;
  #escalated = false;
  #otherLeg: string | undefined;
  /**
   * The caller was put through by a warm transfer (`uuid_bridge`): ending that person's leg would end the
   * caller's too (FreeSWITCH hangs up a uuid_bridge'd leg when its partner leaves), so staff cannot move it.
   */
  #warmBridged = false;
  /** The transfer in progress: when it was asked for and why. */
  #transfer: { startedMs: number; reason: string } | undefined;

  constructor(call: HandOffCall, policy: HandOffPolicy) {
    this.#call = call;
    this.#policy = policy;
  }

  /** The caller was bridged to this leg (CHANNEL_BRIDGE). */
  bridgedTo(otherLeg: string | undefined): void {
    this.#otherLeg = otherLeg;
  }

  /** The call is being released: a warm transfer still ringing people stops. */
  stop(): void {
    this.#warmAbort.abort();
  }

  /** See CallSession.escalate. */
  async escalate(trigger: EmergencyTrigger): Promise<EscalationResult> {
    const call = this.#call;
    if (this.#escalated) return call.machine().state === 'ended' ? 'not_transferable' : 'already_escalated';
    if (!this.#movable()) return 'not_transferable';
    this.#escalated = true;
    const startedMs = call.clock.monotonicMs();
    await call.conversation()?.interruptForEmergency(trigger);
    if (call.machine().state === 'ended') return 'not_transferable';
    call.recordEmergency();
    const dial = this.#policy.emergency.dial({ callId: call.callId, toNumber: call.record.toNumber });
    // Stored alongside the bridge, not before it: in an emergency seconds matter more than the screen pop.
    void this.#recordTransfer({ name: 'emergency', reason: `emergency (${trigger.kind})`, summary: '' }, 'emergency', 'emergency');
    const otherLeg = call.machine().state === 'bridged' ? this.#otherLeg : undefined;
    call.apply({ type: 'transfer_requested', target: dial.dial, reason: 'emergency', fallback: dial.fallbackDial }, { emergency: trigger.kind });
    // The queued emergency bridge runs once the current one ends.
    if (otherLeg !== undefined) call.background('uuid_kill', call.channel.kill(otherLeg));
    const ms = call.clock.monotonicMs() - startedMs;
    call.journal('emergency', { trigger: trigger.kind, msToBridgeCommand: Math.round(ms * 1000) / 1000 });
    this.#policy.emergency.escalated({ callId: call.callId, record: call.record }, trigger, ms);
    return 'accepted';
  }

  /** See CallSession.transfer. */
  transfer(request: HandOffRequest): 'accepted' | 'not_transferable' {
    const call = this.#call;
    if (!this.#movable()) return 'not_transferable';
    const otherLeg = call.machine().state === 'bridged' ? this.#otherLeg : undefined;
    call.conversation()?.release();
    void this.handOff(request).then(() => {
      // The new bridge is queued behind the current one: ending the person's leg lets it run.
      if (otherLeg !== undefined) call.background('uuid_kill', call.channel.kill(otherLeg));
    });
    return 'accepted';
  }

  /** See CallSession.handOverToPeople. */
  handOverToPeople(reason: string): boolean {
    const conversation = this.#call.conversation();
    if (conversation?.active !== true) return false;
    conversation.handOverToPeople(reason);
    return true;
  }

  /** The agent (or the caller, with a digit) wants a person: bridge to where routing sends this name. */
  async handOff(request: HandOffRequest): Promise<void> {
    const call = this.#call;
    const decision = call.decision();
    const resolve = this.#policy.resolveHandOff;
    if (decision === undefined || resolve === undefined || call.machine().state === 'ended') return;
    const dial = resolve(request, { callId: call.callId, decision, toNumber: call.record.toNumber });
    const [kind = 'ring_group', name = request.name] = dial.resolvedAs.split(':');
    const stored = this.#recordTransfer(request, kind, name);
    // The context is stored before the bridge (the agent's screen reads it when the phone rings), but a slow
    // database never holds the caller up for more than a moment.
    await settledWithin(stored, CONTEXT_STORE_WAIT_MS);
    if (call.machine().state === 'ended') return;
    const warmTransfer = this.#policy.warmTransfer;
    if (dial.warm !== undefined && warmTransfer !== undefined) return this.#warmHandOff(request, dial, dial.warm, warmTransfer);
    call.apply({ type: 'transfer_requested', target: dial.dial, reason: request.reason, fallback: dial.fallbackDial }, { to: dial.resolvedAs });
  }

  /** Every transfer is timed from its request to the bridge, or to its last failed target. */
  timeTransfer(input: CallInput, to: CallState): void {
    const call = this.#call;
    if (input.type === 'transfer_requested') {
      this.#transfer ??= { startedMs: call.clock.monotonicMs(), reason: input.reason };
      return;
    }
    const transfer = this.#transfer;
    if (transfer === undefined) return;
    const outcome = input.type === 'bridged' ? 'bridged' : input.type === 'transfer_failed' && to !== 'transferring' ? 'failed' : input.type === 'hung_up' ? 'failed' : undefined;
    if (outcome === undefined) return;
    this.#transfer = undefined;
    const ms = call.clock.monotonicMs() - transfer.startedMs;
    call.journal(`transfer_${outcome}`, { reason: transfer.reason, ms: Math.round(ms) });
    this.#policy.onTransfer?.({ outcome, ms, reason: transfer.reason });
    const record = this.#transferRecord;
    this.#transferRecord = undefined;
    const at = call.clock.now();
    void record?.then((id) => id !== undefined && this.#policy.transfers?.end(id, outcome, at));
  }

  /** Staff can move a call that is answered, with the agent, or bridged (not one a warm transfer put through). */
  #movable(): boolean {
    const state = this.#call.machine().state;
    if (state !== 'answered' && state !== 'in_conversation' && state !== 'bridged') return false;
    return !(state === 'bridged' && this.#warmBridged);
  }

  /** The people are rung by the controller; if nobody takes the call, the group's fallback is dialled. */
  async #warmHandOff(request: HandOffRequest, dial: HandOffDial, plan: WarmPlan, run: WarmTransferRunner): Promise<void> {
    const call = this.#call;
    call.apply(
      { type: 'transfer_requested', target: dial.resolvedAs, reason: request.reason, fallback: dial.fallbackDial, warm: true },
      { to: dial.resolvedAs, warm: true },
    );
    const outcome = await run({ callId: call.callId, fsUuid: call.fsUuid, request, plan, signal: this.#warmAbort.signal }).catch((error: unknown) => {
      call.logger.error({ err: error }, 'warm transfer failed');
      return 'no_answer' as const;
    });
    if (outcome === 'bridged') this.#warmBridged = true;
    if (outcome !== 'no_answer' || call.machine().state !== 'transferring') return;
    // The caller is still hearing hold music: stop it, or the fallback's bridge would wait behind it.
    await call.channel.breakAll(call.fsUuid).catch(() => undefined);
    call.apply({ type: 'transfer_failed', cause: 'NO_ANSWER' }, { warm: true });
  }

  #recordTransfer(request: HandOffRequest, targetKind: string, targetName: string): Promise<string | undefined> {
    const call = this.#call;
    const recorder = this.#policy.transfers;
    if (recorder === undefined) return Promise.resolve(undefined);
    const stored = recorder
      .begin({
        callId: call.callId,
        requestedAt: call.clock.now(),
        targetKind,
        targetName,
        reason: request.reason,
        summary: request.summary,
        urgency: targetKind === 'emergency' ? 'emergency' : 'normal',
        callerNumber: call.record.fromNumber,
        transcript: (call.conversation()?.transcript() ?? []).map(({ speaker, text }) => ({ speaker, text })),
      })
      .catch((error: unknown) => {
        call.logger.error({ err: error }, 'transfer context could not be stored; transferring anyway');
        return undefined;
      });
    this.#transferRecord = stored;
    return stored;
  }
}

/** Waits for `promise` (whatever its outcome) at most `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
