// System events (call life cycle, emergency alerts, transfers, mode changes, SMS outcomes) fanned out to
// whoever listens: the log, the audit trail, webhooks and the dashboard's live stream (which keeps its own
// catch-up buffer). Events are published from inside a call's state changes, so a listener that throws is
// logged here and never reaches the call.
import type { Logger } from 'pino';
import type { EventSink, SystemEvent } from '../core/notify-ports.ts';

type Listener = (event: SystemEvent) => void;

export class EventBus implements EventSink {
  readonly #listeners = new Set<Listener>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  publish(event: SystemEvent): void {
    // Events carry ids, reasons and timings only (no numbers, no clinical words), so they can be logged.
    // State changes come several times per call: the call journal has them, the log only at debug.
    const level = event.type === 'CALL_STATE_CHANGED' ? 'debug' : 'info';
    if (this.#logger.isLevelEnabled(level)) this.#logger[level]({ event: event.type, callId: event.callId, ...event.data }, 'system event');
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.error({ err: error, event: event.type, callId: event.callId }, 'system event listener failed');
      }
    }
  }

  subscribe(listener: Listener): () => void {
    // Wrapped so the same function may subscribe twice and unsubscribe each independently.
    const entry: Listener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }
}
