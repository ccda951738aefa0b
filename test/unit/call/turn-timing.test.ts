import { describe, expect, it } from 'vitest';
import { TurnTimer } from '../../../src/call/turn-timing.ts';
import { createMetrics } from '../../../src/http/metrics.ts';

/** A clock the test moves by hand. */
function handClock(): { now(): Date; monotonicMs(): number; advance(ms: number): void } {
  let ms = 1000;
  return { now: () => new Date(ms), monotonicMs: () => ms, advance: (by) => (ms += by) };
}

function timer() {
  const clock = handClock();
  const journal: Array<{ type: string; data: Record<string, unknown> }> = [];
  const metrics = createMetrics({ defaultMetrics: false });
  const t = new TurnTimer({ clock, metrics, journal: (type, data) => journal.push({ type, data }) });
  return { clock, journal, metrics, t };
}

describe('turn timing', () => {
  it('times end of speech → first audio command by stage, once per turn, for a streamed reply', async () => {
    const { clock, journal, metrics, t } = timer();
    t.endOfSpeech(3, true);
    clock.advance(120);
    t.replied(3);
    clock.advance(40);
    t.ready(3);
    // Later pieces of the same reply do not move the engine's mark.
    clock.advance(1);
    t.replied(3);
    clock.advance(1);
    t.firstAudioSent(3, 2);
    // The second sentence's command is not the turn's first audio.
    clock.advance(900);
    t.complete(3);
    t.firstAudioSent(3, 2);
    expect(journal).toEqual([{ type: 'turn_timing', data: { turn: 2, streamed: true, agentMs: 120, ttsMs: 40, playbackMs: 2, totalMs: 162 } }]);
    expect(await metrics.registry.getSingleMetricAsString('callbridge_turn_stage_seconds')).toMatch(/callbridge_turn_stage_seconds_count\{stage="total"\} 1/);
  });

  it('journals nothing for audio of another turn, or before the reply and its speech are known', () => {
    const { clock, journal, t } = timer();
    t.endOfSpeech(1, true);
    clock.advance(50);
    t.firstAudioSent(1, 1);
    t.replied(0);
    t.ready(0);
    t.firstAudioSent(0, 1);
    expect(journal).toEqual([]);
    // A reply that was whole before its audio went out (v1) is not streamed.
    t.replied(1);
    t.complete(1);
    t.ready(1);
    t.firstAudioSent(1, 1);
    expect(journal[0]?.data).toMatchObject({ turn: 1, streamed: false, totalMs: 50 });
  });

  it('never counts a reply from an engine that does not stream (v1, built-in) as streamed, even read sentence by sentence', () => {
    const { journal, t } = timer();
    t.endOfSpeech(2, false);
    t.replied(2);
    t.ready(2);
    t.firstAudioSent(2, 1);
    expect(journal[0]?.data).toMatchObject({ turn: 1, streamed: false });
  });
});
