// IPC with the AI engine peer's process (ai-engine-child.ts), shared by the voice benchmark (a fixed reply at
// once) and the streaming benchmark (replies that take time to generate, in contract v1 or v2).
import { fileURLToPath } from 'node:url';
import { IpcChild } from '../ipc-child.ts';

export type ContractVersion = 'v1' | 'v2';

/**
 * Replies that take the engine time to generate, the same in both contract versions: sentence 1 is ready
 * `firstSentenceMs` after the turn arrives, each next one `sentenceGapMs` after the one before. A v2 engine
 * streams each sentence when it is ready; a v1 engine answers once the last one is.
 */
export interface GeneratedReplies {
  contract: ContractVersion;
  sentences: number;
  firstSentenceMs: number;
  sentenceGapMs: number;
  /** A caller's first `freshTurns` replies are new words (TTS cache misses); later ones are the fixed reply. */
  freshTurns: number;
}

export type AiEngineRequest =
  /** `reply`: the fixed reply; without `generated`, every turn gets it at once. */
  | { type: 'start'; greeting: string; reply: string; generated?: GeneratedReplies }
  /** While on, every turn is answered with the fixed reply (a warm-up call that puts it in the TTS cache). */
  | { type: 'warmup'; on: boolean }
  | { type: 'turns' }
  | { type: 'stop' };

export type AiEngineReply =
  | { type: 'started'; url: string }
  | { type: 'warmup' }
  /** Turns the engine has processed so far. */
  | { type: 'turns'; turns: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const CHILD = fileURLToPath(new URL('./ai-engine-child.ts', import.meta.url));

export class AiEngineChild extends IpcChild<AiEngineRequest, AiEngineReply> {
  constructor() {
    super(CHILD);
  }

  async turns(): Promise<number> {
    return (await this.request({ type: 'turns' }, 'turns', 5000)).turns;
  }

  stop(timeoutMs: number): Promise<void> {
    return this.shutdown({ type: 'stop' }, 'stopped', timeoutMs);
  }
}

/**
 * The words of a caller's reply to its turn `seq`: new for every caller and turn (so the controller's TTS cache
 * misses), the same in both contract versions' runs, and every sentence about as long as a cached one.
 */
export function freshReply(caller: number, seq: number, sentences: number): string {
  const ordinal = ['first', 'second', 'third', 'fourth', 'fifth'];
  return Array.from({ length: sentences }, (_, i) => `Caller ${caller}, reply ${seq}, the ${ordinal[i] ?? `${i + 1}th`} part.`).join(' ');
}

/** How long the engine stand-in holds a reply back: v1 until the whole reply is generated, v2 until its first sentence. */
export function engineDelayMs(g: GeneratedReplies): number {
  return g.contract === 'v1' ? g.firstSentenceMs + (g.sentences - 1) * g.sentenceGapMs : g.firstSentenceMs;
}
