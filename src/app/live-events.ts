// The dashboard's live stream: every system event, numbered and kept in a ring buffer so a client that
// reconnects gets exactly what it missed. Ids are `<epoch>-<n>`: n counts up from 1, and the epoch is new
// for every process, so an id from before a restart (or from the future) is recognised as gone and the
// client is told to start over (a `reset` carrying the calls live now) instead of silently missing events.
import { randomBytes } from 'node:crypto';
import type { SystemEvent } from '../core/notify-ports.ts';
import type { Clock } from '../core/ports.ts';
import type { LiveEventMessage, LiveEventSource } from '../http/events.ts';

/** What the reset event shows of a call live now (no numbers). */
export interface LiveCallView {
  callId: string;
  state: string;
  direction: string;
  location: string | null;
  startedAt: string;
  answeredAt: string | null;
}

export interface LiveEventsOptions {
  subscribe: (listener: (event: SystemEvent) => void) => () => void;
  /** The calls live now, for `reset`. */
  calls: () => LiveCallView[];
  clock: Clock;
  /** Events kept for resuming clients (default 1000). */
  capacity?: number;
}

const DEFAULT_CAPACITY = 1000;

export class LiveEvents implements LiveEventSource {
  readonly #epoch = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly #ring: (LiveEventMessage | undefined)[];
  readonly #capacity: number;
  readonly #listeners = new Set<(event: LiveEventMessage) => void>();
  readonly #options: LiveEventsOptions;
  readonly #unsubscribe: () => void;
  /** The number of the latest event (0: none yet). */
  #last = 0;

  constructor(options: LiveEventsOptions) {
    this.#options = options;
    this.#capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.#ring = new Array<LiveEventMessage | undefined>(this.#capacity);
    this.#unsubscribe = options.subscribe((event) => this.#add(event));
  }

  /** The events after `lastId`, oldest first; 'gone' when some of them are no longer kept (or the id is not ours). */
  since(lastId: string): readonly LiveEventMessage[] | 'gone' {
    const n = this.#number(lastId);
    if (n === undefined || n > this.#last || n < this.#last - this.#capacity) return 'gone';
    const events: LiveEventMessage[] = [];
    for (let i = n + 1; i <= this.#last; i++) events.push(this.#ring[i % this.#capacity] as LiveEventMessage);
    return events;
  }

  /** "Forget what you know": the calls live now, under the latest id (resuming from it misses nothing). */
  reset(): LiveEventMessage {
    return { id: this.#id(this.#last), type: 'reset', at: this.#options.clock.now().toISOString(), callId: null, data: { calls: this.#options.calls() } };
  }

  subscribe(listener: (event: LiveEventMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Streams following now. */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Stops following the event bus. */
  close(): void {
    this.#unsubscribe();
    this.#listeners.clear();
  }

  #add(event: SystemEvent): void {
    this.#last++;
    const message: LiveEventMessage = {
      id: this.#id(this.#last),
      type: event.type,
      at: event.at.toISOString(),
      callId: event.callId ?? null,
      data: event.data,
    };
    this.#ring[this.#last % this.#capacity] = message;
    // Each stream guards its own socket; one failing listener must not keep the event from the others.
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }

  #id(n: number): string {
    return `${this.#epoch}-${n}`;
  }

  #number(id: string): number | undefined {
    const dash = id.lastIndexOf('-');
    if (dash < 0 || id.slice(0, dash) !== this.#epoch) return undefined;
    const digits = id.slice(dash + 1);
    if (!/^\d{1,15}$/.test(digits)) return undefined;
    return Number(digits);
  }
}
