// IPC with the streaming benchmark's AI engine stand-in (engine-child.ts), a process of its own so its
// timers are not queued behind the simulator's frames.
import { fileURLToPath } from 'node:url';
import { IpcChild } from '../ipc-child.ts';

export type ContractVersion = 'v1' | 'v2';

export interface EngineSettings {
  version: ContractVersion;
  greeting: string;
  /** Sentences a reply has, each taking `generationMs` to generate (one after the other). */
  sentences: number;
  generationMs: number;
  /** A caller's first `missTurns` replies are new words (TTS cache misses); later ones are `cachedReply`. */
  missTurns: number;
  cachedReply: string[];
}

export type EngineRequest =
  | { type: 'start'; settings: EngineSettings }
  /** While on, every turn is answered with the cached reply (the warm-up call that puts it in the cache). */
  | { type: 'warmup'; on: boolean }
  | { type: 'turns' }
  | { type: 'stop' };

export type EngineReply =
  | { type: 'started'; url: string }
  | { type: 'warmup' }
  | { type: 'turns'; turns: number }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const CHILD = fileURLToPath(new URL('./engine-child.ts', import.meta.url));

export class EngineChild extends IpcChild<EngineRequest, EngineReply> {
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
 * misses), the same in both contract versions' runs, and every sentence about as long as the cached ones.
 */
export function missReply(caller: number, seq: number, sentences: number): string[] {
  const ordinal = ['first', 'second', 'third', 'fourth', 'fifth'];
  return Array.from({ length: sentences }, (_, i) => `Caller ${caller}, reply ${seq}, the ${ordinal[i] ?? `${i + 1}th`} part.`);
}
