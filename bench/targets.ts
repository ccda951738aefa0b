// The DESIGN.md targets this benchmark can speak to, each with the measured figure next to it. Reported,
// never enforced: a missed target is news for the closing note, not a failing build.
import type { LengthResult } from './recording/worker.ts';
import type { BenchResults } from './report.ts';

interface RoundFigures {
  handled: number;
  greetedAndHeld: number;
  released: number;
  registryAfterRelease: number;
  controllerPickupMs: { p99: number };
  placedToGreetingCommandMs: { p99: number };
  stored: { checked: number; lifecycleOk: number; recordStartStored: number };
}

const mark = (met: boolean): string => (met ? 'met' : 'NOT met');

export function targetLines(results: BenchResults): string[] {
  const lines = ['Targets (DESIGN.md) — figures, not gates:'];
  const parse = results.esl_parse?.results as Record<string, { oursOverModesl: number }> | undefined;
  if (parse) {
    for (const [key, r] of Object.entries(parse)) {
      lines.push(`  ESL parsing ≥ 3× modesl (${key}): ${r.oursOverModesl.toFixed(2)}× — ${mark(r.oursOverModesl >= 3)}`);
    }
  }
  for (const [db, value] of Object.entries(results.call_setup ?? {})) {
    if ('skipped' in value) {
      lines.push(`  [${db}] ${String(value.skipped)}`);
      continue;
    }
    const rounds = value.rounds as Record<string, RoundFigures>;
    const r200 = rounds['200'];
    if (r200) {
      const p99 = r200.controllerPickupMs.p99;
      lines.push(
        `  [${db}] pickup p99 < 20 ms controller time at 200 calls: ${p99.toFixed(1)} ms — ${mark(p99 < 20)}` +
          ` (placed → greeting command p99 ${r200.placedToGreetingCommandMs.p99.toFixed(0)} ms end to end)`,
      );
    }
    const memory = (results.memory as Record<string, { heldCalls?: Record<string, { perCallBytes: number }> }> | undefined)?.[db]?.heldCalls ?? {};
    for (const [n, m] of Object.entries(memory)) {
      lines.push(`  [${db}] memory per active call < 200 KB (${n} held): ${(m.perCallBytes / 1024).toFixed(1)} KiB — ${mark(m.perCallBytes < 200 * 1024)}`);
    }
    const r1000 = rounds['1000'];
    if (r1000) {
      const s = r1000.stored;
      const complete = r1000.handled === 1000 && r1000.greetedAndHeld === 1000 && r1000.released === 1000 && r1000.registryAfterRelease === 0 && s.lifecycleOk === 1000;
      lines.push(
        `  [${db}] ≥ 1000 concurrent calls, none lost: handled ${r1000.handled}, held ${r1000.greetedAndHeld}, released ${r1000.released}, ` +
          `life cycle stored ${s.lifecycleOk}/${s.checked} — ${mark(complete)}; RECORD_START stored for ${s.recordStartStored}/${s.checked}`,
      );
    }
  }
  const voice = results.voice;
  if (voice !== undefined && !('skipped' in voice)) {
    const f = voice.forwarding;
    // The target is controller time: judged on the controller's clock, the end-to-end figure beside it.
    const c = f.controllerClock?.arrivalToHandedMs;
    const written = f.controllerClock?.arrivalToWrittenMs;
    const verdict =
      c === undefined || written === undefined
        ? 'no controller-clock figure'
        : `${c.p99.toFixed(2)} ms on the controller's clock (arrival → handed to STT, p50 ${c.p50.toFixed(2)}) — ${mark(voice.calls >= 150 && c.p99 < 2)}; ` +
          `→ its batched AddAudio written p50 ${written.p50.toFixed(1)} / p99 ${written.p99.toFixed(1)} ms`;
    lines.push(
      `  audio frame in → forwarded to STT, p99 < 2 ms at 150 forks (${voice.calls} forks, ${f.framesPerSecond} frames/s): ${verdict}; ` +
        `end to end ${f.latencyMs.p99.toFixed(1)} ms simulator → Speechmatics peer, both local sockets included` +
        `; ${f.lost} of ${f.stamped} frames lost; controller CPU ${f.controllerCpuPercentOfOneCore.toFixed(0)}% of one core of ${voice.cpus}`,
    );
    const t = voice.endOfUtteranceToPlaybackCommand;
    lines.push(
      `  caller stops speaking → playback command, p99 < 50 ms controller time (0-latency AI peer, cached TTS; ${voice.calls} conversations, ${t.timed} turns): ` +
        `${t.totalMs.p99.toFixed(1)} ms — ${mark(t.totalMs.p99 < 50)} (p50 ${t.totalMs.p50.toFixed(1)} ms; controller CPU ${voice.talking.controllerCpuPercentOfOneCore.toFixed(0)}% of one core meanwhile)`,
    );
  }
  const handoffs = results.handoffs;
  if (handoffs !== undefined && !('skipped' in handoffs)) {
    const e = handoffs.emergencies;
    const p99 = e.triggerToBridgeCommandMs.p99;
    lines.push(
      `  emergency phrase in a partial transcript → bridge command, p99 < 50 ms (${e.calls} conversations escalating at once, ${e.escalated} escalated): ` +
        `${p99.toFixed(1)} ms — ${mark(e.escalated === e.calls && p99 < 50)} (p50 ${e.triggerToBridgeCommandMs.p50.toFixed(1)} ms)`,
    );
    const wire = e.speechToBridgedMs;
    lines.push(
      `  emergency < 5 s end to end (practice goal): caller starts the sentence → bridged to the emergency target p99 ${wire.p99.toFixed(0)} ms, ${wire.count} of ${e.calls} — ${mark(wire.count === e.calls && wire.p99 < 5000)}`,
    );
    const t = handoffs.transfers;
    lines.push(
      `  transfer < 30 s (practice goal; ${t.calls} simultaneous warm transfers): request → bridged p99 ${t.requestToBridgedMs.p99.toFixed(0)} ms, ` +
        `${t.bridged} of ${t.calls} bridged — ${mark(t.bridged === t.calls && t.requestToBridgedMs.p99 < 30_000)}`,
    );
  }
  const recording = results.recording;
  if (recording !== undefined && !('skipped' in recording)) {
    const hour = recording.lengths.find((l) => l.seconds >= 3600);
    const longest = hour ?? recording.lengths[recording.lengths.length - 1];
    if (longest !== undefined) {
      const steps = (l: LengthResult) => [l.finish, l.decrypt, l.decryptAndMeter];
      const live = (l: LengthResult): number => Math.max(...steps(l).map((f) => f.liveMemory.heapAndBuffersGrowthMiB));
      const peak = (l: LengthResult): number => Math.max(...steps(l).map((f) => Math.max(f.memory.heapAndBuffersGrowthMiB, f.memory.rssGrowthMiB)));
      const ok = ({ checks: c }: LengthResult): boolean => c.sha256Matches && c.rowMatches && c.outboxJobs === 1 && c.plaintextDeleted && c.talkStatsMatch;
      const others = recording.lengths.filter((l) => l !== longest).map((l) => `${l.seconds / 60} min: live ≤ ${live(l).toFixed(1)} MiB, peak ≤ ${peak(l).toFixed(0)} MiB`);
      lines.push(
        `  post-call worker: ${longest.seconds / 60}-minute recording (${(longest.plaintextBytes / 1e6).toFixed(0)} MB) encrypt/decrypt streaming with flat memory: ` +
          `encrypt + verify ${longest.finish.mbPerSecond.toFixed(0)} MB/s, decrypt ${longest.decrypt.mbPerSecond.toFixed(0)} MB/s; ` +
          `live memory growth ≤ ${live(longest).toFixed(1)} MiB, peak with garbage ≤ ${peak(longest).toFixed(0)} MiB` +
          `${others.length > 0 ? ` (${others.join('; ')})` : ''} — ${hour === undefined ? 'no 1-hour recording in this run' : mark(ok(longest) && live(longest) < 5)}`,
      );
    }
  }
  return lines;
}
