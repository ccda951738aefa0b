// The system mode machine: pure. Health signals from the parts callers depend on go in (the AI engine, speech
// to text, text to speech, the 3CX gateway as FreeSWITCH sees it), with the time they were observed; out comes
// the mode routing uses (normal | ai-down | 3cx-down) and each change with a reason. Time only ever comes in
// as numbers (ms), so the owner decides the clock and when to tick (`nextCheckAt`).
//
// Rules, chosen so callers reach people fast and the mode never flaps:
// - a source goes down when its failures persist for `detectMs` (no healthy signal in between), and comes back
//   when it has been healthy for `recoverMs` without a single failure (hysteresis: recoverMs ≫ detectMs);
// - 3cx-down wins over ai-down: with 3CX gone, ring groups cannot ring either;
// - a more severe mode is entered at once (never delayed: that is the failover-time promise);
// - a less severe mode is entered only after `minDwellMs` in the current mode and while no healthy source is
//   in the middle of a failure streak, so a recovery is never followed by a re-failure sooner than `detectMs`;
// - a manual override beats detection until it is cleared; detection keeps tracking the sources meanwhile.
import type { SystemMode } from './routing/types.ts';

export type HealthSource = 'ai_engine' | 'stt' | 'tts' | 'threecx_gateway';
export const HEALTH_SOURCES: readonly HealthSource[] = ['ai_engine', 'stt', 'tts', 'threecx_gateway'];

export type SystemModeInput =
  | { type: 'signal'; at: number; source: HealthSource; healthy: boolean; detail?: string }
  | { type: 'tick'; at: number }
  /** `mode: null` clears the override and hands the mode back to detection. */
  | { type: 'override'; at: number; mode: SystemMode | null; by: string };

export interface SystemModeOptions {
  /** Failures must persist this long before a source counts as down (≤ FAILOVER_TIMEOUT_SECONDS). */
  detectMs: number;
  /** Continuous health needed before a down source counts as up again. */
  recoverMs: number;
  /** Least time in a mode before detection may move to a less severe one. */
  minDwellMs: number;
  /** Transitions kept for /ready and the audit log (oldest dropped first). */
  historyLimit: number;
}

/**
 * Defaults: detection 6 s, so with the monitor's 2 s poll a gateway failure switches the mode within
 * FAILOVER_TIMEOUT_SECONDS (10 s); recovery after 30 s of continuous health; at least 30 s in a mode before
 * going back.
 */
export const SYSTEM_MODE_DEFAULTS: SystemModeOptions = { detectMs: 6_000, recoverMs: 30_000, minDwellMs: 30_000, historyLimit: 50 };

export interface SourceHealth {
  /** After hysteresis: what routing acts on. */
  status: 'up' | 'down';
  /** The current run of same-valued signals: since when the source has been failing (or healthy). */
  streak: { healthy: boolean; since: number } | null;
  /** The latest signal, as reported. */
  last: { at: number; healthy: boolean; detail: string | null } | null;
}

export interface ModeTransition {
  at: number;
  from: SystemMode;
  to: SystemMode;
  /** A sentence an operator understands. */
  reason: string;
  cause: 'detected' | 'recovered' | 'override' | 'override_cleared';
  /** Who set or cleared the override. */
  by?: string;
}

export interface SystemModeState {
  mode: SystemMode;
  /** The mode detection alone would give (shown next to an override). */
  detected: SystemMode;
  override: { mode: SystemMode; by: string; at: number } | null;
  sources: Readonly<Record<HealthSource, SourceHealth>>;
  /** Time of the latest input; earlier timestamps are treated as this one (the clock never goes back). */
  now: number;
  changedAt: number;
  history: readonly ModeTransition[];
}

export interface SystemModeStep {
  state: SystemModeState;
  /** The change this input caused, if any. */
  transition: ModeTransition | null;
}

const SEVERITY: Record<SystemMode, number> = { normal: 0, 'ai-down': 1, '3cx-down': 2 };
const AI_SOURCES: readonly HealthSource[] = ['ai_engine', 'stt', 'tts'];

export function initialSystemModeState(at: number): SystemModeState {
  const fresh: SourceHealth = { status: 'up', streak: null, last: null };
  return {
    mode: 'normal',
    detected: 'normal',
    override: null,
    sources: { ai_engine: fresh, stt: fresh, tts: fresh, threecx_gateway: fresh },
    now: at,
    changedAt: at,
    history: [],
  };
}

export function stepSystemMode(state: SystemModeState, input: SystemModeInput, options: SystemModeOptions = SYSTEM_MODE_DEFAULTS): SystemModeStep {
  const now = Math.max(state.now, input.at);
  let sources = state.sources;
  if (input.type === 'signal') sources = { ...sources, [input.source]: observe(sources[input.source], input, now) };
  sources = settle(sources, now, options);
  const detected = modeOf(sources);
  let next: SystemModeState = { ...state, now, sources, detected };

  if (input.type === 'override') {
    const override = input.mode === null ? null : { mode: input.mode, by: input.by, at: now };
    next = { ...next, override };
    const to = override?.mode ?? detected;
    const reason =
      override === null
        ? `Override cleared by ${input.by}; detection decides again (${describeSources(sources, now)}).`
        : `Forced to ${override.mode} by ${input.by}.`;
    return change(next, to, reason, override === null ? 'override_cleared' : 'override', options, input.by);
  }
  if (next.override !== null) return { state: next, transition: null };

  if (SEVERITY[detected] > SEVERITY[next.mode]) {
    return change(next, detected, `${describeDown(sources, now)}.`, 'detected', options);
  }
  if (SEVERITY[detected] < SEVERITY[next.mode] && now - next.changedAt >= options.minDwellMs && !failurePending(sources)) {
    return change(next, detected, `Back from ${next.mode}: ${describeSources(sources, now)}.`, 'recovered', options);
  }
  return { state: next, transition: null };
}

/**
 * The earliest time at which the mode could change without a new signal (a detection or recovery deadline,
 * or the end of the dwell), or null when only a new signal can change it. Tick at that time.
 */
export function nextCheckAt(state: SystemModeState, options: SystemModeOptions = SYSTEM_MODE_DEFAULTS): number | null {
  if (state.override !== null) return null;
  let earliest: number | null = null;
  const consider = (t: number): void => {
    if (t > state.now && (earliest === null || t < earliest)) earliest = t;
  };
  for (const source of HEALTH_SOURCES) {
    const { status, streak } = state.sources[source];
    if (streak === null) continue;
    if (status === 'up' && !streak.healthy) consider(streak.since + options.detectMs);
    if (status === 'down' && streak.healthy) consider(streak.since + options.recoverMs);
  }
  if (SEVERITY[state.detected] < SEVERITY[state.mode]) consider(state.changedAt + options.minDwellMs);
  return earliest;
}

function observe(health: SourceHealth, signal: { healthy: boolean; detail?: string }, now: number): SourceHealth {
  const continues = health.streak !== null && health.streak.healthy === signal.healthy;
  return {
    ...health,
    streak: continues ? health.streak : { healthy: signal.healthy, since: now },
    last: { at: now, healthy: signal.healthy, detail: signal.detail ?? null },
  };
}

/** Applies hysteresis: a failure streak of detectMs takes a source down, a health streak of recoverMs up. */
function settle(sources: Readonly<Record<HealthSource, SourceHealth>>, now: number, options: SystemModeOptions): Record<HealthSource, SourceHealth> {
  const settled = { ...sources };
  for (const source of HEALTH_SOURCES) {
    const health = sources[source];
    const streak = health.streak;
    if (streak === null) continue;
    if (health.status === 'up' && !streak.healthy && now - streak.since >= options.detectMs) settled[source] = { ...health, status: 'down' };
    if (health.status === 'down' && streak.healthy && now - streak.since >= options.recoverMs) settled[source] = { ...health, status: 'up' };
  }
  return settled;
}

function modeOf(sources: Readonly<Record<HealthSource, SourceHealth>>): SystemMode {
  if (sources.threecx_gateway.status === 'down') return '3cx-down';
  return AI_SOURCES.some((s) => sources[s].status === 'down') ? 'ai-down' : 'normal';
}

/** A source counted as up but currently failing could take the mode down any moment: do not recover now. */
function failurePending(sources: Readonly<Record<HealthSource, SourceHealth>>): boolean {
  return HEALTH_SOURCES.some((s) => sources[s].status === 'up' && sources[s].streak?.healthy === false);
}

function change(
  state: SystemModeState,
  to: SystemMode,
  reason: string,
  cause: ModeTransition['cause'],
  options: SystemModeOptions,
  by?: string,
): SystemModeStep {
  if (to === state.mode) return { state, transition: null };
  const transition: ModeTransition = { at: state.now, from: state.mode, to, reason, cause, ...(by === undefined ? {} : { by }) };
  const history = [...state.history, transition].slice(-options.historyLimit);
  return { state: { ...state, mode: to, changedAt: state.now, history }, transition };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function describeDown(sources: Readonly<Record<HealthSource, SourceHealth>>, now: number): string {
  const down = HEALTH_SOURCES.filter((s) => sources[s].status === 'down').map((s) => {
    const { streak, last } = sources[s];
    const since = streak !== null && !streak.healthy ? ` for ${seconds(now - streak.since)}` : '';
    return `${s} failing${since}${last?.detail ? ` (${last.detail})` : ''}`;
  });
  return down.join('; ');
}

function describeSources(sources: Readonly<Record<HealthSource, SourceHealth>>, now: number): string {
  const down = describeDown(sources, now);
  return down === '' ? 'every source healthy' : `still down: ${down}`;
}
