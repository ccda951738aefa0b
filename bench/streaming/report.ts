// The streaming part's figures in bench/results.json (key `streaming_replies`) and its table: contract v1
// and v2 side by side, for replies of new words (TTS cache misses) and for a reply already cached.
import { markdownTable, table, type Summary } from '../stats.ts';
import type { StreamingBenchOutcome } from './index.ts';
import type { CallerEars, ControllerTurns, StreamingPass } from './worker.ts';

const METHOD =
  'Per contract version, one after the other: a fresh controller child (production config, embedded PGlite, empty TTS cache), simulator (timeScale 1, forks on their own 20 ms clocks), Speechmatics and Google TTS peers, and the AI engine stand-in in a child process. ' +
  'Every reply is S sentences, generated one after the other: the first ready F ms after the turn arrives, each next one G ms later (settings.firstSentenceMs, sentenceGapMs). v2 streams sentence k at F+(k-1)*G ms (AiEnginePeer: slow F, then sentenceGapMs before each later sentence); v1 answers the whole reply when its last sentence is ready, at F+(S-1)*G ms (settings.v1ReplyAfterMs; AiEnginePeer: slow). Every synthesis takes the Google peer a fixed time (the same for a whole v1 reply as for one v2 sentence, which favours v1). ' +
  'N callers: greeting heard, then turns (think 0.2-0.8 s, say "yes please", hear the whole reply: every playback after it stopped and none begun for quietMs). A caller\'s first missTurns replies are new words (cache misses), the rest a reply cached by a warm-up call. ' +
  'controller: journal turn_timing.totalMs (EndOfUtterance handled -> first audio command), the turn\'s last `sentence_speech` entry (-> the last sentence synthesized or found in the cache) and its last `prompt` entry (-> the command holding the last sentence; the controller plays one file at a time, so for v2 it follows the earlier sentences\' playback). callers: the caller\'s last audio frame -> PLAYBACK_START / last PLAYBACK_STOP on an inbound ESL connection of the benchmark (its clock; includes the recogniser\'s end-of-utterance wait).';

export function streamingFigures(outcome: StreamingBenchOutcome) {
  if (!outcome.ok) return { skipped: outcome.reason };
  const r = outcome.result;
  return { method: METHOD, calls: r.calls, cpus: r.cpus, settings: r.settings, versions: Object.fromEntries(r.passes.map((p) => [p.version, p])) };
}

const ms = (s: Summary): string => (s.count === 0 ? '–' : `${s.p50.toFixed(0)} / ${s.p99.toFixed(0)}`);
const perTurn = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([commands, turns]) => `${commands}×${turns}`)
    .join(', ');

function row(reply: string, p: StreamingPass, c: ControllerTurns, e: CallerEars): (string | number)[] {
  return [reply, p.version, c.turns, ms(c.firstAudioCommandMs), ms(c.lastSentenceReadyMs), ms(c.lastSentenceCommandMs), ms(c.agentMs), ms(c.ttsMs), perTurn(c.audioCommandsPerTurn), ms(e.firstAudioMs), ms(e.replyHeardMs)];
}

export function streamingTables(outcome: StreamingBenchOutcome, format: 'text' | 'markdown'): string {
  const md = format === 'markdown';
  const title = (text: string): string => (md ? `### ${text}\n` : text);
  if (!outcome.ok) return [title('Streamed replies'), outcome.reason].join('\n');
  const r = outcome.result;
  const s = r.settings;
  const out = [
    title(`Streamed replies: AI engine contract v1 vs v2, ${s.sentences} sentences a reply, ${s.sentenceGapMs} ms apart (ms p50 / p99)`),
    (md ? markdownTable : table)(
      ['reply', 'contract', 'turns', 'end of speech → first audio cmd', '→ last sentence ready', '→ last sentence\'s audio cmd (after the earlier ones played)', 'of which engine', 'synthesis', 'audio cmds × turns', 'caller: stops → hears it begin', '→ heard to its end'],
      [
        ...r.passes.map((p) => row('new words (TTS misses)', p, p.controller.miss, p.callers.miss)),
        ...r.passes.map((p) => row('cached', p, p.controller.cached, p.callers.cached)),
      ],
    ),
  ];
  const notes = r.passes.map((p) => {
    const noted = Object.entries(p.journal).filter(([, n]) => n > 0);
    return (
      `${p.version}: ${p.turnsSaid} turns said, ${p.unanswered} unanswered, streamed (first audio before the engine's done) ${p.controller.miss.streamed}/${p.controller.miss.turns} new-words and ${p.controller.cached.streamed}/${p.controller.cached.turns} cached turns, ${p.ttsRequests} TTS requests, controller CPU ${p.controllerCpuPercentOfOneCore}% of a core (loop delay p99 ${p.controllerEventLoopDelayMs.p99} ms), ` +
      `released ${p.released}/${r.calls}, left ${p.registryAfter}; ${noted.length === 0 ? 'no barge-ins, hand-offs, fallbacks or failed syntheses' : noted.map(([k, n]) => `${k} ${n}`).join(', ')}`
    );
  });
  out.push(
    `${md ? '\n' : ''}${r.calls} conversations per version, ${s.missTurns} turns of new words then ${s.cachedTurns} cached each; the engine's first sentence after ${s.firstSentenceMs} ms, the next ones ${s.sentenceGapMs} ms apart (v1: the whole reply after ${s.v1ReplyAfterMs} ms); synthesis ${s.ttsSynthesisMs} ms a request, ` +
      `${s.ttsMsPerChar} ms of audio a character; the caller speaks ${s.callerSayMs} ms. ${notes.join('. ')}.`,
  );
  return out.join('\n');
}
