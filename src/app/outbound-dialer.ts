// Outbound AI calls: accepts requests (the HTTP API's OutboundService), keeps them in the store, and places
// the due ones on the inbound ESL connection, each through the outbound policy (do-not-call, the request's
// window, calling hours on the patient's clock, rate limits) at the moment it is placed, not only when it was
// asked for. A call that is answered runs the `socket` application to our outbound-socket server, so it
// arrives like an inbound call, with `variable_callbridge_outbound_id` in its channel data; the session
// takes it from there (and reports who answered through noteAnswered).
//
// FreeSWITCH facts relied on (../shared/freeswitch-traces/README.md and mod_commands' originate): `originate
// <dial string> <&app(args)>` runs the application on the answered leg; the arguments are split on blanks
// outside '…' quotes (quotes removed), so `'&socket(host:port async full)'` stays one argument; `{var=value,…}`
// in front of the dial string sets channel variables on the new leg (origination_uuid names it,
// originate_timeout bounds the ringing); a bgapi originate's BACKGROUND_JOB body is `+OK <uuid>` once the far
// end answered and `-ERR <CAUSE>` otherwise (NO_ANSWER, USER_BUSY, GATEWAY_DOWN, INVALID_GATEWAY, …).
import { randomUUID } from 'node:crypto';
import {
  decideOutbound,
  DEFAULT_CALLING_HOURS,
  DEFAULT_OUTBOUND_LIMITS,
  type CallingHours,
  type OutboundAttempt,
  type OutboundLimits,
  type OutboundPurpose,
} from '../core/outbound-policy.ts';
import type { Clock } from '../core/ports.ts';
import type { DrizzleOutboundStore, OutboundCallRecord } from '../db/index.ts';
import { ChannelControl, type EslCommandSink } from '../esl/channel-control.ts';
import type { OutboundCallView, OutboundRequestInput, OutboundRequestResult, OutboundService } from '../http/index.ts';
import type { Logger } from './logger.ts';

export type OutboundStorePort = Pick<
  DrizzleOutboundStore,
  | 'create'
  | 'get'
  | 'due'
  | 'markPlacing'
  | 'reschedule'
  | 'complete'
  | 'refuse'
  | 'noteAnswered'
  | 'recentAttempts'
  | 'addDoNotCall'
  | 'removeDoNotCall'
  | 'listDoNotCall'
>;

export interface OutboundRetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** Wait before attempt n+1 after attempt n failed (the last value repeats). */
  backoffMs: readonly number[];
}

export const DEFAULT_RETRY: OutboundRetryPolicy = { maxAttempts: 3, backoffMs: [15 * 60_000, 60 * 60_000] };

export interface OutboundDialerOptions {
  store: OutboundStorePort;
  /** The inbound ESL connection now, or undefined while there is none (requests then wait). */
  connection: () => EslCommandSink | undefined;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
  /** The practice's number, shown to the patient. */
  callerIdNumber: string;
  /** FreeSWITCH gateway to dial through now: the 3CX one, or the Twilio trunk while 3CX is down. */
  gateway: () => string;
  /** Our outbound-socket server, where the answered leg's `socket` application connects. */
  socketTarget: { host: string; port: number };
  /** Used when a request names no time zone. */
  defaultTimeZone: string;
  callingHours?: CallingHours;
  limits?: OutboundLimits;
  retry?: OutboundRetryPolicy;
  /** Ringing time per attempt (originate_timeout). */
  ringSeconds?: number;
  /** How often due requests are looked for. */
  pollMs?: number;
}

/** Busy, no answer and trouble on the way are worth another try later; a wrong number is not. */
const RETRIABLE = new Set([
  'NO_ANSWER',
  'USER_BUSY',
  'NO_USER_RESPONSE',
  'GATEWAY_DOWN',
  'NORMAL_TEMPORARY_FAILURE',
  'RECOVERY_ON_TIMER_EXPIRE',
  'NETWORK_OUT_OF_ORDER',
  'DESTINATION_OUT_OF_ORDER',
  'SWITCH_CONGESTION',
  'NORMAL_CIRCUIT_CONGESTION',
  'NO_ORIGINATE_RESULT',
]);
const NOBODY_ANSWERED = new Set(['NO_ANSWER', 'USER_BUSY', 'NO_USER_RESPONSE']);
/** Beyond ringing: time for the BACKGROUND_JOB to arrive after originate_timeout. */
const ORIGINATE_GRACE_MS = 10_000;
const MINUTE_MS = 60_000;

export class OutboundDialer implements OutboundService {
  readonly #o: OutboundDialerOptions;
  readonly #hours: CallingHours;
  readonly #limits: OutboundLimits;
  readonly #retry: OutboundRetryPolicy;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: OutboundDialerOptions) {
    this.#o = options;
    this.#hours = options.callingHours ?? DEFAULT_CALLING_HOURS;
    this.#limits = options.limits ?? DEFAULT_OUTBOUND_LIMITS;
    this.#retry = options.retry ?? DEFAULT_RETRY;
  }

  /** Starts looking for due requests every pollMs (default 30 s). */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => void this.runDue(), this.#o.pollMs ?? 30_000);
    this.#timer.unref();
    void this.runDue();
  }

  /** Stops the timer and waits for the originates in progress to report. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
    await Promise.all([...this.#inFlight]);
  }

  /** Placing attempts still waiting for their originate result. */
  get placing(): number {
    return this.#inFlight.size;
  }

  /**
   * Places what is due now. Runs one at a time; a call while one runs makes it go round once more. Resolves
   * when the due requests have been decided and their originates sent (not when they are answered).
   */
  runDue(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#placeDue();
        } while (this.#again && !this.#stopped);
      } catch (error) {
        this.#o.logger.error({ err: error }, 'outbound dialer: could not place due calls');
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  /** Waits until every originate sent so far has reported (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#running;
    await Promise.all([...this.#inFlight]);
  }

  async request(input: OutboundRequestInput): Promise<OutboundRequestResult> {
    const now = this.#o.clock.now();
    const timeZone = input.timeZone ?? this.#o.defaultTimeZone;
    const decision = decideOutbound({
      request: { to: input.to, notBefore: input.notBefore, notAfter: input.notAfter },
      now,
      patientTimeZone: timeZone,
      callingHours: this.#hours,
      doNotCall: await this.#doNotCall(),
      recentAttempts: await this.#o.store.recentAttempts(this.#attemptsSince(now)),
      limits: this.#limits,
    });
    const base = { to: input.to, purpose: input.purpose, context: input.context, notBefore: input.notBefore, notAfter: input.notAfter, timeZone };
    if (decision.kind === 'refuse') {
      const record = await this.#o.store.create({ ...base, status: 'refused', scheduledAt: now, result: decision.reason });
      return { kind: 'refused', id: record.id, reason: decision.reason };
    }
    const scheduledAt = decision.kind === 'schedule' ? decision.at : now;
    const record = await this.#o.store.create({ ...base, status: 'scheduled', scheduledAt });
    if (decision.kind === 'place_now' && !this.#stopped) void this.runDue();
    return { kind: 'accepted', call: view(record) };
  }

  async get(id: string): Promise<OutboundCallView | undefined> {
    const record = await this.#o.store.get(id);
    return record === undefined ? undefined : view(record);
  }

  async addDoNotCall(number: string, reason: string | null): Promise<void> {
    await this.#o.store.addDoNotCall(number, { reason, at: this.#o.clock.now() });
  }

  removeDoNotCall(number: string): Promise<boolean> {
    return this.#o.store.removeDoNotCall(number);
  }

  /**
   * For the session that took over an answered outbound leg (its channel data carries
   * `variable_callbridge_outbound_id`): our call id, and whether a machine answered. False for an id that is
   * not an outbound request being placed or answered.
   */
  noteAnswered(outboundId: string, answer: { callId?: string; machine?: boolean }): Promise<boolean> {
    return this.#o.store.noteAnswered(outboundId, { ...answer, at: this.#o.clock.now() });
  }

  async #doNotCall(): Promise<Set<string>> {
    return new Set((await this.#o.store.listDoNotCall()).map((e) => e.number));
  }

  #attemptsSince(now: Date): Date {
    return new Date(now.getTime() - Math.max(this.#limits.perNumberIntervalMs, MINUTE_MS));
  }

  async #placeDue(): Promise<void> {
    if (this.#stopped) return;
    const connection = this.#o.connection();
    // Without FreeSWITCH nothing can be placed; the requests stay scheduled for the next round.
    if (connection === undefined || this.#stopped) return;
    const now = this.#o.clock.now();
    const due = await this.#o.store.due(now);
    if (due.length === 0) return;
    const doNotCall = await this.#doNotCall();
    const attempts: OutboundAttempt[] = await this.#o.store.recentAttempts(this.#attemptsSince(now));
    for (const call of due) {
      if (this.#stopped) return;
      const decision = decideOutbound({
        request: { to: call.to, notBefore: call.notBefore, notAfter: call.notAfter },
        now,
        patientTimeZone: call.timeZone,
        callingHours: this.#hours,
        doNotCall,
        // The request's own last attempt is its retry backoff's business, not the per-number limit's.
        recentAttempts: attempts.filter((a) => call.lastAttemptAt === null || a.to !== call.to || a.at.getTime() !== call.lastAttemptAt.getTime()),
        limits: this.#limits,
      });
      if (decision.kind === 'refuse') {
        await this.#o.store.refuse(call.id, decision.reason, now);
        this.#o.logger.info({ outboundId: call.id, reason: decision.reason }, 'outbound call refused when due');
        continue;
      }
      if (decision.kind === 'schedule') {
        await this.#o.store.reschedule(call.id, decision.at, { result: decision.reason, now });
        continue;
      }
      if (!(await this.#o.store.markPlacing(call.id, now))) continue;
      attempts.push({ to: call.to, at: now });
      const attempt = this.#place(connection, call).finally(() => this.#inFlight.delete(attempt));
      this.#inFlight.add(attempt);
    }
  }

  async #place(connection: EslCommandSink, call: OutboundCallRecord): Promise<void> {
    const legUuid = randomUUID();
    const ring = this.#o.ringSeconds ?? 30;
    const command = originateCommand({
      legUuid,
      outboundId: call.id,
      purpose: call.purpose,
      callerIdNumber: this.#o.callerIdNumber,
      gateway: this.#o.gateway(),
      to: call.to,
      ringSeconds: ring,
      socketTarget: this.#o.socketTarget,
    });
    this.#o.logger.info({ outboundId: call.id, legUuid, attempt: call.attempts + 1 }, 'placing outbound call');
    let reply: string | undefined;
    try {
      reply = (await connection.bgapi(command, { timeoutMs: ring * 1000 + ORIGINATE_GRACE_MS })).trim();
    } catch {
      reply = undefined;
    }
    try {
      await this.#settle(connection, call, legUuid, reply);
    } catch (error) {
      this.#o.logger.error({ err: error, outboundId: call.id }, 'outbound call: could not record the result');
    }
  }

  async #settle(connection: EslCommandSink, call: OutboundCallRecord, legUuid: string, reply: string | undefined): Promise<void> {
    const now = this.#o.clock.now();
    if (reply?.startsWith('+OK') === true) {
      // Answered: the leg is running the socket application; the session reports person or machine.
      await this.#o.store.complete(call.id, { status: 'answered', at: now });
      return;
    }
    if (reply === undefined) {
      // No result (timeout, connection lost): the leg may still be ringing somewhere, so make sure it is not.
      await new ChannelControl(connection).kill(legUuid).catch(() => undefined);
    }
    const cause = reply === undefined ? 'NO_ORIGINATE_RESULT' : reply.replace(/^-ERR\s*/, '').split(/\s+/)[0] || 'UNKNOWN';
    const attempts = call.attempts + 1;
    if (RETRIABLE.has(cause) && attempts < this.#retry.maxAttempts) {
      const backoff = this.#retry.backoffMs[Math.min(attempts - 1, this.#retry.backoffMs.length - 1)] ?? 0;
      await this.#o.store.reschedule(call.id, new Date(now.getTime() + backoff), { result: cause, now });
      this.#o.logger.info({ outboundId: call.id, cause, attempts }, 'outbound call not answered; will retry');
      return;
    }
    await this.#o.store.complete(call.id, { status: NOBODY_ANSWERED.has(cause) ? 'no_answer' : 'failed', result: cause, at: now });
    this.#o.logger.info({ outboundId: call.id, cause, attempts }, 'outbound call given up');
  }
}

export interface OriginateCommandInput {
  legUuid: string;
  outboundId: string;
  purpose: OutboundPurpose;
  callerIdNumber: string;
  gateway: string;
  to: string;
  ringSeconds: number;
  socketTarget: { host: string; port: number };
}

/**
 * The bgapi command that rings the patient and, once answered, hands the leg to our socket server. Built here
 * rather than by ChannelControl.originate: its variables and gateway are sanitised part by part below.
 */
export function originateCommand(i: OriginateCommandInput): string {
  // Only dialable characters reach the dial string: nothing there can be read as syntax.
  const dialable = (s: string) => s.replace(/[^0-9+]/g, '');
  const vars = [
    `origination_uuid=${i.legUuid}`,
    `origination_caller_id_number=${dialable(i.callerIdNumber)}`,
    `originate_timeout=${i.ringSeconds}`,
    `callbridge_outbound_id=${i.outboundId}`,
    `callbridge_purpose=${i.purpose}`,
    'ignore_early_media=true',
  ];
  const gateway = i.gateway.replace(/[^A-Za-z0-9_.-]/g, '');
  return `originate {${vars.join(',')}}sofia/gateway/${gateway}/${dialable(i.to)} '&socket(${i.socketTarget.host}:${i.socketTarget.port} async full)'`;
}

function view(r: OutboundCallRecord): OutboundCallView {
  return {
    id: r.id,
    to: r.to,
    purpose: r.purpose,
    status: r.status,
    scheduledAt: r.scheduledAt,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    timeZone: r.timeZone,
    attempts: r.attempts,
    callId: r.callId,
    result: r.result,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
