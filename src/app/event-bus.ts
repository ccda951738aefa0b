// System events (emergency alerts, transfers, mode changes, SMS outcomes) fanned out to whoever listens:
// the log today, the audit trail, webhooks and the dashboard's live stream as they arrive (issue 7). The
// bus keeps the latest events in memory so a listener that attaches late can catch up.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { EventSink, SystemEvent } from '../core/notify-ports.ts';

const KEEP = 500;

export class EventBus implements EventSink {
  readonly #emitter = new EventEmitter<{ event: [SystemEvent] }>();
  readonly #recent: SystemEvent[] = [];
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  publish(event: SystemEvent): void {
    this.#recent.push(event);
    if (this.#recent.length > KEEP) this.#recent.shift();
    // Events carry ids, reasons and timings only (no numbers, no clinical words), so they can be logged.
    // State changes come several times per call: the call journal has them, the log only at debug.
    const level = event.type === 'CALL_STATE_CHANGED' ? 'debug' : 'info';
    this.#logger[level]({ event: event.type, callId: event.callId, ...event.data }, 'system event');
    this.#emitter.emit('event', event);
  }

  subscribe(listener: (event: SystemEvent) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  recent(type?: SystemEvent['type']): readonly SystemEvent[] {
    return type === undefined ? [...this.#recent] : this.#recent.filter((e) => e.type === type);
  }
}
