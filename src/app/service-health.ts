// Health signals of the AI side for failover: every real use of the AI engine, speech-to-text and
// text-to-speech reports whether it worked, and while a source counts as failing a light probe checks it
// again every few seconds — in ai-down no caller reaches the AI, so without probes nothing would ever say
// it is back.
import type { HealthSource } from '../core/system-mode.ts';
import type { AgentReplyChunk, ConversationEngine, ConversationTurn, SpeechToText } from '../core/voice-ports.ts';
import type { SpeechSynthesizer, SynthesisInput } from '../voice/tts/index.ts';

export type HealthReport = (source: HealthSource, healthy: boolean, detail?: string) => void;

/** The engine, reporting each start and turn (the resilient engine's own fallback still answers the caller). */
export function reportingEngine(engine: ConversationEngine, report: HealthReport): ConversationEngine {
  const watch = <T>(work: Promise<T>): Promise<T> =>
    work.then(
      (value) => {
        report('ai_engine', true);
        return value;
      },
      (error: unknown) => {
        report('ai_engine', false, error instanceof Error ? error.name : 'error');
        throw error;
      },
    );
  // A streamed turn (contract v2) worked when its done arrives (its reader need not read on after it); a
  // stream the reader leaves earlier says nothing.
  const stream = engine.turnStream?.bind(engine);
  async function* watchStream(chunks: AsyncIterable<AgentReplyChunk>): AsyncGenerator<AgentReplyChunk> {
    try {
      for await (const chunk of chunks) {
        if (chunk.type === 'done') report('ai_engine', true);
        yield chunk;
      }
    } catch (error) {
      report('ai_engine', false, error instanceof Error ? error.name : 'error');
      throw error;
    }
  }
  return {
    start: (start) => watch(engine.start(start)),
    turn: (callId, turn) => watch(engine.turn(callId, turn)),
    ...(stream === undefined ? {} : { turnStream: (callId: string, turn: ConversationTurn) => watchStream(stream(callId, turn)) }),
    end: (callId, reason) => engine.end(callId, reason),
  };
}

export function reportingStt(stt: SpeechToText, report: HealthReport): SpeechToText {
  return {
    start: (options) =>
      stt.start(options).then(
        (stream) => {
          report('stt', true);
          stream.onEvent((event) => {
            if (event.type === 'failed') report('stt', false, 'stream lost');
          });
          return stream;
        },
        (error: unknown) => {
          report('stt', false, 'session refused');
          throw error;
        },
      ),
  };
}

export function reportingSynthesizer(synthesizer: SpeechSynthesizer, report: HealthReport): SpeechSynthesizer {
  return {
    synthesize: (input: SynthesisInput) =>
      synthesizer.synthesize(input).then(
        (audio) => {
          report('tts', true);
          return audio;
        },
        (error: unknown) => {
          report('tts', false, 'synthesis failed');
          throw error;
        },
      ),
  };
}

export interface HealthProbes {
  ai_engine?: () => Promise<void>;
  stt?: () => Promise<void>;
  tts?: () => Promise<void>;
}

/** Runs the probe of every source `isFailing` names, every `intervalMs`, one round at a time. */
export class HealthProber {
  readonly #timer: NodeJS.Timeout;
  #running = false;

  constructor(options: { probes: HealthProbes; isFailing: (source: HealthSource) => boolean; intervalMs: number }) {
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = true;
      const due = (Object.keys(options.probes) as (keyof HealthProbes)[]).filter((source) => options.isFailing(source));
      // A probe's outcome is reported by the reporting wrappers it goes through; its rejection is expected.
      void Promise.allSettled(due.map((source) => options.probes[source]?.())).finally(() => (this.#running = false));
    }, options.intervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
