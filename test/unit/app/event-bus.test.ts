// The system event bus is called from inside a call's state changes: a failing listener must neither reach
// the call nor keep the other listeners (audit trail, live stream, webhooks) from the event.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/app/event-bus.ts';
import { createLogger } from '../../../src/app/logger.ts';
import type { SystemEvent } from '../../../src/core/notify-ports.ts';

function bus(): { bus: EventBus; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { bus: new EventBus(createLogger({ level: 'info', format: 'json', destination })), lines };
}

const event: SystemEvent = { type: 'CALL_ENDED', at: new Date(0), callId: 'call-1', data: { outcome: 'completed' } };

describe('EventBus', () => {
  it('keeps delivering to the other listeners when one throws, and logs the failure instead of throwing', () => {
    const { bus: b, lines } = bus();
    const seen: string[] = [];
    b.subscribe(() => {
      throw new Error('listener broke');
    });
    b.subscribe((e) => seen.push(e.type));
    expect(() => b.publish(event)).not.toThrow();
    expect(seen).toEqual(['CALL_ENDED']);
    expect(lines.some((l) => l.includes('system event listener failed') && l.includes('listener broke'))).toBe(true);
  });

  it('stops delivering once unsubscribed', () => {
    const { bus: b } = bus();
    const seen: string[] = [];
    const off = b.subscribe((e) => seen.push(e.type));
    b.publish(event);
    off();
    b.publish(event);
    expect(seen).toEqual(['CALL_ENDED']);
  });
});
