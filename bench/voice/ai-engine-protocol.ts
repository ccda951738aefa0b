// IPC with the AI engine peer's process (ai-engine-child.ts).
import { fileURLToPath } from 'node:url';
import { IpcChild } from '../ipc-child.ts';

export type AiEngineRequest = { type: 'start'; greeting: string; reply: string } | { type: 'turns' } | { type: 'stop' };

export type AiEngineReply =
  | { type: 'started'; url: string }
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
