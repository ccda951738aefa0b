import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEALTH_SOURCES,
  initialSystemModeState,
  nextCheckAt,
  stepSystemMode,
  SYSTEM_MODE_DEFAULTS,
  type HealthSource,
  type ModeTransition,
  type SystemModeInput,
  type SystemModeOptions,
  type SystemModeState,
} from '../../../src/core/system-mode.ts';

const OPTIONS: SystemModeOptions = { detectMs: 6_000, recoverMs: 30_000, minDwellMs: 30_000, historyLimit: 50 };
const SEVERITY = { normal: 0, 'ai-down': 1, '3cx-down': 2 } as const;

/** Runs inputs in order; returns the final state and every transition. */
function run(inputs: SystemModeInput[], options = OPTIONS, start = 0): { state: SystemModeState; transitions: ModeTransition[] } {
  let state = initialSystemModeState(start);
  const transitions: ModeTransition[] = [];
  for (const input of inputs) {
    const step = stepSystemMode(state, input, options);
    state = step.state;
    if (step.transition !== null) transitions.push(step.transition);
  }
  return { state, transitions };
}

const signal = (at: number, source: HealthSource, healthy: boolean, detail?: string): SystemModeInput => ({
  type: 'signal',
  at,
  source,
  healthy,
  ...(detail === undefined ? {} : { detail }),
});
const tick = (at: number): SystemModeInput => ({ type: 'tick', at });
/** A signal every `every` ms from `from` to `to` inclusive. */
const every = (from: number, to: number, step: number, source: HealthSource, healthy: boolean): SystemModeInput[] => {
  const out: SystemModeInput[] = [];
  for (let t = from; t <= to; t += step) out.push(signal(t, source, healthy));
  return out;
};

describe('system mode: detection', () => {
  it('starts normal', () => {
    expect(initialSystemModeState(0).mode).toBe('normal');
  });

  it('the 3CX gateway failing for detectMs switches to 3cx-down, with the reason and the detail', () => {
    const { state, transitions } = run([...every(1_000, 6_000, 1_000, 'threecx_gateway', false), tick(7_000)]);
    expect(state.mode).toBe('3cx-down');
    expect(transitions).toHaveLength(1);
    expect(transitions[0]).toMatchObject({ at: 7_000, from: 'normal', to: '3cx-down', cause: 'detected' });
    expect(transitions[0]?.reason).toContain('threecx_gateway failing for 6.0 s');
  });

  it('failures shorter than detectMs change nothing', () => {
    const { state, transitions } = run([signal(0, 'ai_engine', false), signal(5_999, 'ai_engine', false), signal(6_000, 'ai_engine', true), tick(20_000)]);
    expect(state.mode).toBe('normal');
    expect(transitions).toEqual([]);
  });

  it('one healthy signal restarts the failure clock', () => {
    const { state } = run([signal(0, 'stt', false), signal(4_000, 'stt', true), signal(5_000, 'stt', false), tick(10_999)]);
    expect(state.mode).toBe('normal');
    const later = stepSystemMode(state, tick(11_000), OPTIONS);
    expect(later.state.mode).toBe('ai-down');
  });

  it('STT, TTS or the AI engine down gives ai-down; 3cx-down wins when 3CX is down too', () => {
    const { state, transitions } = run([signal(0, 'tts', false, 'synthesis HTTP 503'), tick(6_000), signal(7_000, 'threecx_gateway', false), tick(13_000)]);
    expect(transitions.map((t) => t.to)).toEqual(['ai-down', '3cx-down']);
    expect(transitions[0]?.reason).toContain('synthesis HTTP 503');
    expect(state.detected).toBe('3cx-down');
  });

  it('nextCheckAt names the detection deadline, so a tick there switches exactly on time', () => {
    const { state } = run([signal(2_500, 'threecx_gateway', false)]);
    expect(nextCheckAt(state, OPTIONS)).toBe(8_500);
    expect(stepSystemMode(state, tick(8_499), OPTIONS).state.mode).toBe('normal');
    expect(stepSystemMode(state, tick(8_500), OPTIONS).state.mode).toBe('3cx-down');
  });

  it('a timestamp from the past is treated as now (the clock never goes back)', () => {
    const { state } = run([signal(10_000, 'ai_engine', false), signal(3_000, 'ai_engine', false), tick(15_999)]);
    expect(state.mode).toBe('normal');
    expect(state.sources.ai_engine.streak).toEqual({ healthy: false, since: 10_000 });
  });
});

describe('system mode: recovery', () => {
  const down: SystemModeInput[] = [signal(0, 'threecx_gateway', false), tick(6_000)];

  it('needs recoverMs of continuous health', () => {
    const { state } = run([...down, ...every(10_000, 39_000, 1_000, 'threecx_gateway', true)]);
    expect(state.mode).toBe('3cx-down');
    const back = stepSystemMode(state, tick(40_000), OPTIONS);
    expect(back.state.mode).toBe('normal');
    expect(back.transition).toMatchObject({ from: '3cx-down', to: 'normal', cause: 'recovered' });
    expect(back.transition?.reason).toContain('every source healthy');
  });

  it('one failure during recovery starts the health clock again', () => {
    const { state } = run([...down, signal(10_000, 'threecx_gateway', true), signal(30_000, 'threecx_gateway', false), signal(31_000, 'threecx_gateway', true), tick(60_000)]);
    expect(state.mode).toBe('3cx-down');
    expect(stepSystemMode(state, tick(61_000), OPTIONS).state.mode).toBe('normal');
  });

  it('stays in a mode at least minDwellMs even when health comes back sooner', () => {
    const options = { ...OPTIONS, recoverMs: 1_000, minDwellMs: 20_000 };
    const { state } = run([...down, signal(7_000, 'threecx_gateway', true), tick(9_000)], options);
    expect(state.mode).toBe('3cx-down');
    expect(nextCheckAt(state, options)).toBe(26_000);
    expect(stepSystemMode(state, tick(26_000), options).state.mode).toBe('normal');
  });

  it('does not recover while another source is in the middle of failing', () => {
    const { state } = run([...down, signal(7_000, 'threecx_gateway', true), signal(36_000, 'ai_engine', false), tick(38_000)]);
    expect(state.mode).toBe('3cx-down');
    // The AI engine then fails long enough: ai-down, not a detour through normal.
    const { transition } = stepSystemMode(state, tick(42_000), OPTIONS);
    expect(transition).toMatchObject({ from: '3cx-down', to: 'ai-down' });
  });

  it('3cx-down with the AI also down recovers to ai-down, then to normal', () => {
    const { transitions } = run([
      signal(0, 'threecx_gateway', false),
      signal(0, 'ai_engine', false),
      tick(6_000),
      signal(10_000, 'threecx_gateway', true),
      tick(40_000),
      signal(45_000, 'ai_engine', true),
      tick(75_000),
    ]);
    expect(transitions.map((t) => `${t.from}>${t.to}@${t.at}`)).toEqual(['normal>3cx-down@6000', '3cx-down>ai-down@40000', 'ai-down>normal@75000']);
  });
});

describe('system mode: override', () => {
  it('forcing beats detection; clearing hands the mode back to detection at once', () => {
    const { state, transitions } = run([
      { type: 'override', at: 1_000, mode: 'ai-down', by: 'dr.smith' },
      signal(2_000, 'threecx_gateway', false),
      tick(9_000),
    ]);
    expect(state.mode).toBe('ai-down');
    expect(state.detected).toBe('3cx-down');
    expect(nextCheckAt(state, OPTIONS)).toBeNull();
    expect(transitions).toEqual([{ at: 1_000, from: 'normal', to: 'ai-down', reason: 'Forced to ai-down by dr.smith.', cause: 'override', by: 'dr.smith' }]);
    const cleared = stepSystemMode(state, { type: 'override', at: 10_000, mode: null, by: 'admin' }, OPTIONS);
    expect(cleared.state.mode).toBe('3cx-down');
    expect(cleared.transition).toMatchObject({ from: 'ai-down', to: '3cx-down', cause: 'override_cleared', by: 'admin' });
    expect(cleared.transition?.reason).toContain('threecx_gateway failing');
  });

  it('forcing normal keeps calls on the AI even while a source is failing', () => {
    const { state } = run([signal(0, 'ai_engine', false), tick(6_000), { type: 'override', at: 7_000, mode: 'normal', by: 'ops' }, tick(60_000)]);
    expect(state.mode).toBe('normal');
    expect(state.override).toEqual({ mode: 'normal', by: 'ops', at: 7_000 });
  });

  it('forcing the mode it already has records the override but no transition', () => {
    const step = stepSystemMode(initialSystemModeState(0), { type: 'override', at: 5, mode: 'normal', by: 'ops' }, OPTIONS);
    expect(step.transition).toBeNull();
    expect(step.state.override?.by).toBe('ops');
  });
});

describe('system mode: history', () => {
  it('keeps the latest historyLimit transitions', () => {
    const inputs: SystemModeInput[] = [];
    for (let i = 0; i < 10; i++) inputs.push({ type: 'override', at: i, mode: i % 2 === 0 ? 'ai-down' : 'normal', by: 'ops' });
    const { state } = run(inputs, { ...OPTIONS, historyLimit: 4 });
    expect(state.history.map((t) => t.at)).toEqual([6, 7, 8, 9]);
  });

  it('defaults keep detection inside FAILOVER_TIMEOUT_SECONDS with a 2 s poll', () => {
    expect(SYSTEM_MODE_DEFAULTS.detectMs + 2_000).toBeLessThanOrEqual(10_000);
    expect(SYSTEM_MODE_DEFAULTS.recoverMs).toBeGreaterThan(SYSTEM_MODE_DEFAULTS.detectMs);
  });
});

/** Random signals (healthy or not, from any source) and ticks at increasing times. */
const timeline = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 0, max: 8_000 }),
      kind: fc.constantFrom('signal', 'signal', 'signal', 'tick'),
      source: fc.constantFrom(...HEALTH_SOURCES),
      healthy: fc.boolean(),
    }),
    { maxLength: 300 },
  )
  .map((steps) => {
    let at = 0;
    return steps.map(({ gap, kind, source, healthy }): SystemModeInput => {
      at += gap;
      return kind === 'tick' ? tick(at) : signal(at, source, healthy);
    });
  });

const optionsArb = fc
  .record({ detectMs: fc.integer({ min: 500, max: 10_000 }), recoverMs: fc.integer({ min: 1_000, max: 40_000 }), minDwellMs: fc.integer({ min: 0, max: 40_000 }) })
  .map((o): SystemModeOptions => ({ ...o, historyLimit: 1_000 }));

describe('system mode: properties', () => {
  it('never flaps: within a dwell window the mode only ever gets more severe, and never re-fails sooner than detectMs after recovering', () => {
    fc.assert(
      fc.property(timeline, optionsArb, (inputs, options) => {
        const { transitions } = run(inputs, options);
        for (let i = 1; i < transitions.length; i++) {
          const previous = transitions[i - 1] as ModeTransition;
          const current = transitions[i] as ModeTransition;
          const gap = current.at - previous.at;
          const escalates = SEVERITY[current.to] > SEVERITY[current.from];
          if (gap < options.minDwellMs) expect(escalates).toBe(true);
          const reverses = escalates && SEVERITY[previous.to] < SEVERITY[previous.from];
          if (reverses) expect(gap).toBeGreaterThanOrEqual(options.detectMs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a single flapping source changes the mode at most once per min(minDwellMs, detectMs)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 1, max: 5_000 }), healthy: fc.boolean() }), { maxLength: 300 }),
        optionsArb,
        fc.constantFrom<HealthSource>('ai_engine', 'threecx_gateway'),
        (flaps, options, source) => {
          let at = 0;
          const inputs = flaps.flatMap(({ gap, healthy }) => {
            at += gap;
            return [signal(at, source, healthy), tick(at + Math.floor(gap / 2))];
          });
          const window = Math.min(options.minDwellMs, options.detectMs);
          const { transitions } = run(inputs, options);
          for (let i = 1; i < transitions.length; i++) {
            expect((transitions[i] as ModeTransition).at - (transitions[i - 1] as ModeTransition).at).toBeGreaterThanOrEqual(window);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a persistent failure switches the mode within detectMs, whatever happened before', () => {
    fc.assert(
      fc.property(
        timeline,
        optionsArb,
        fc.constantFrom<HealthSource>(...HEALTH_SOURCES),
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 20 }),
        (before, options, source, gaps) => {
          const wanted = source === 'threecx_gateway' ? '3cx-down' : 'ai-down';
          let current = run(before, options).state;
          const start = current.now + 1;
          let reachedAt: number | null = SEVERITY[current.mode] >= SEVERITY[wanted] ? start : null;
          const apply = (input: SystemModeInput): void => {
            current = stepSystemMode(current, input, options).state;
            if (reachedAt === null && SEVERITY[current.mode] >= SEVERITY[wanted]) reachedAt = current.now;
            if (reachedAt !== null) expect(SEVERITY[current.mode]).toBeGreaterThanOrEqual(SEVERITY[wanted]);
          };
          // The owner ticks at nextCheckAt, as the failover monitor does.
          const tickUntil = (t: number): void => {
            for (let d = nextCheckAt(current, options); d !== null && d <= t; d = nextCheckAt(current, options)) apply(tick(d));
          };
          // From `start` on, the source only fails.
          let at = start;
          apply(signal(at, source, false));
          for (const gap of gaps) {
            at += gap;
            tickUntil(at);
            apply(signal(at, source, false));
          }
          tickUntil(start + options.detectMs);
          expect(reachedAt).not.toBeNull();
          expect(reachedAt as unknown as number).toBeLessThanOrEqual(start + options.detectMs);
        },
      ),
      { numRuns: 300 },
    );
  });
});
