// IPC messages between the controller benchmark and its simulator child, plus the parent-side handle.
import { fileURLToPath } from 'node:url';
import { IpcChild } from '../ipc-child.ts';

export type SimulatorRequest =
  | { type: 'start'; password: string; socketTarget: { host: string; port: number } }
  | { type: 'place'; count: number }
  | { type: 'hangupAll'; timeoutMs: number }
  | { type: 'stop' };

export type SimulatorReply =
  | { type: 'started'; eslPort: number }
  | { type: 'placed'; calls: { uuid: string; placedAtMs: number }[] }
  | {
      type: 'hungUp';
      count: number;
      causes: Record<string, number>;
      /** Channels that ran exactly socket, answer, record_session, playback, park. */
      appsAsExpected: number;
      unexpectedApps: string[];
      ms: number;
      activeChannels: number;
    }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const CHILD = fileURLToPath(new URL('./simulator-child.ts', import.meta.url));

/** The simulator child process, one request at a time. */
export class SimulatorChild extends IpcChild<SimulatorRequest, SimulatorReply> {
  constructor() {
    super(CHILD);
  }

  /** Stops the simulator gracefully, or kills it after `timeoutMs`. */
  stop(timeoutMs: number): Promise<void> {
    return this.shutdown({ type: 'stop' }, 'stopped', timeoutMs);
  }
}
