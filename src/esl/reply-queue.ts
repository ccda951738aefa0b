// The FIFO of commands waiting for their reply. FreeSWITCH answers commands strictly in order and never
// says which command a reply belongs to, so the only safe pairing is by position. When a caller stops
// waiting (timeout) its slot stays in the queue until its reply arrives and is then dropped; removing the
// slot would hand that late reply to the next command and shift every later reply by one.
import { EslCommandTimeoutError, EslConnectionClosedError } from '../core/errors.ts';
import type { EslFrame } from './protocol/parser.ts';

interface Slot {
  command: string;
  startedAt: number;
  resolve: ((frame: EslFrame) => void) | undefined;
  reject: ((error: Error) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class ReplyQueue {
  #slots: Slot[] = [];
  #head = 0;
  readonly #onLatency: ((command: string, ms: number) => void) | undefined;

  constructor(onLatency?: (command: string, ms: number) => void) {
    this.#onLatency = onLatency;
  }

  /** Slots still waiting for a reply, including those whose caller already timed out. */
  get length(): number {
    return this.#slots.length - this.#head;
  }

  /** Adds a slot; call BEFORE writing the command so a fast reply always finds it. */
  enqueue(command: string, timeoutMs: number): Promise<EslFrame> {
    return new Promise<EslFrame>((resolve, reject) => {
      const slot: Slot = { command, startedAt: performance.now(), resolve, reject, timer: undefined };
      slot.timer = setTimeout(() => {
        slot.timer = undefined;
        const fail = slot.reject;
        slot.resolve = undefined;
        slot.reject = undefined;
        fail?.(new EslCommandTimeoutError(command, timeoutMs));
      }, timeoutMs);
      this.#slots.push(slot);
    });
  }

  /** Hands a reply to the oldest slot. Returns false when no command was waiting (a protocol anomaly). */
  deliver(frame: EslFrame): boolean {
    if (this.#head >= this.#slots.length) return false;
    const slot = this.#slots[this.#head] as Slot;
    this.#slots[this.#head] = undefined as unknown as Slot;
    this.#head++;
    // Compact now and then instead of shift() per reply.
    if (this.#head > 64 && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    const resolve = slot.resolve;
    slot.resolve = undefined;
    slot.reject = undefined;
    if (resolve !== undefined) {
      this.#onLatency?.(slot.command, performance.now() - slot.startedAt);
      resolve(frame);
    }
    return true;
  }

  /** Rejects every waiting caller at once (the socket closed) and empties the queue. */
  failAll(error: EslConnectionClosedError): void {
    const slots = this.#slots.slice(this.#head);
    this.#slots = [];
    this.#head = 0;
    for (const slot of slots) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      const reject = slot.reject;
      slot.resolve = undefined;
      slot.reject = undefined;
      reject?.(error);
    }
  }
}
