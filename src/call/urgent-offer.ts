// The on-call offer of an after-hours call that goes to people, a phone or a mailbox (no AI on the line to
// make it): the sentence is spoken, then the channel is parked so FreeSWITCH keeps reading the caller's
// digits (a running application dequeues RFC 2833 digits and fires DTMF, as in the recorded traces), and
// the caller's digits are collected until they are complete, cannot become the offer's digits any more, or
// nothing more comes for `timeoutMs` after the sentence. What the digits mean is routing's business: the
// session routes the call again with them (urgent → on-call, the emergency escape → emergency).
import type { Logger } from 'pino';
import type { UrgentOffer } from '../core/call-plan.ts';
import type { ChannelControl, MediaPrompt } from '../esl/channel-control.ts';

export interface UrgentOfferOptions {
  channel: ChannelControl;
  fsUuid: string;
  offer: UrgentOffer;
  /** How this call says a sentence of ours (the practice's voice in the call's language, or FreeSWITCH's own). */
  sentence: (text: string) => Promise<MediaPrompt>;
  /** How long the caller has, after the sentence ended (or after their last digit), to press. */
  timeoutMs: number;
  logger: Logger;
  /** Called once: the digits the caller pressed ('' when none). */
  collected: (digits: string) => void;
}

/** Longest the sentence may take before we stop waiting for its end and start the caller's time anyway. */
const PROMPT_TIMEOUT_MS = 60_000;
const DTMF = /^[0-9*#A-D]$/;

export class UrgentOfferListener {
  readonly #o: UrgentOfferOptions;
  #digits = '';
  #speaking = false;
  #done = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: UrgentOfferOptions) {
    this.#o = options;
  }

  /** Says the offer, then holds the caller (park) while they choose. */
  start(): void {
    const { channel } = this.#o;
    this.#speaking = true;
    this.#o
      .sentence(this.#o.offer.prompt)
      .then((prompt) => {
        const said = channel.play(prompt, PROMPT_TIMEOUT_MS);
        // Queued behind the sentence (event-lock): the caller is held, and their digits read, while they choose.
        channel.park().catch((error: unknown) => {
          if (!channel.closed) this.#o.logger.warn({ err: error }, 'park during the urgent offer failed');
        });
        return said;
      })
      .catch((error: unknown) => {
        if (!channel.closed) this.#o.logger.warn({ err: error }, 'urgent offer prompt failed');
      })
      .finally(() => {
        this.#speaking = false;
        this.#arm();
      });
  }

  /** A DTMF event of this call. */
  digit(digit: string): void {
    if (this.#done || !DTMF.test(digit)) return;
    this.#digits += digit;
    // "1" of a "12" offer: more digits are coming.
    if (this.#o.offer.digits.startsWith(this.#digits) && this.#digits !== this.#o.offer.digits) return this.#arm();
    this.#finish();
  }

  /** The call ended or moved on: no more listening, no timer left behind. */
  stop(): void {
    this.#done = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    if (this.#done || this.#speaking) return;
    this.#timer = setTimeout(() => this.#finish(), this.#o.timeoutMs);
  }

  #finish(): void {
    if (this.#done) return;
    this.stop();
    // A choice made while the sentence still plays: stop it, or the next bridge would wait behind it.
    if (this.#speaking) {
      this.#o.channel.breakAll(this.#o.fsUuid).catch((error: unknown) => this.#o.logger.debug({ err: error }, 'uuid_break after the urgent offer failed'));
    }
    this.#o.collected(this.#digits);
  }
}
