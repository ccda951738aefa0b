// IPC between the voice benchmark (simulator and peers, one process) and the controller in a child process
// of its own, so the controller's CPU time is its own.
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/app/free-port.ts';
import { IpcChild } from '../ipc-child.ts';
import type { FramePathFigures } from './frame-path-clock.ts';

/** The AI line of test/support/routing.yaml (open around the clock, answered by the AI), and the peers' keys. */
export const AI_LINE = '+15559870100';
export const STT_KEY = 'bench-speechmatics-key';
export const TTS_KEY = 'bench-google-key';
export const GREETING = 'Hello, this is the practice assistant. How can I help?';

/** The environment every voice benchmark's controller starts with: the simulator, the speech peers, the AI peer. */
export async function voiceControllerEnv(options: {
  eslPort: number;
  controllerPort: number;
  stt: { url: string; managementUrl: string };
  ttsUrl: string;
  aiUrl: string;
}): Promise<Record<string, string>> {
  return {
    FREESWITCH_ESL_PORT: String(options.eslPort),
    FREESWITCH_ESL_PASSWORD: 'ClueCon',
    CONTROLLER_SOCKET_PORT: String(options.controllerPort),
    HTTP_PORT: String(await freePort()),
    CALLBRIDGE_API_TOKEN: 'bench-token-0123456789',
    ROUTING_FILE: fileURLToPath(new URL('../../test/support/routing.yaml', import.meta.url)),
    SPEECHMATICS_API_KEY: STT_KEY,
    SPEECHMATICS_URL: options.stt.url,
    SPEECHMATICS_MP_URL: options.stt.managementUrl,
    GOOGLE_TTS_URL: options.ttsUrl,
    GOOGLE_TTS_API_KEY: TTS_KEY,
    AI_ENGINE_URL: options.aiUrl,
  };
}

export type ControllerRequest =
  | { type: 'start'; env: Record<string, string> }
  /**
   * Start or end a measured window: the controller's CPU time and event-loop delay over it, and with
   * `framePath` (on start) the frame path on the controller's clock (frame-path-clock.ts).
   */
  | { type: 'window'; action: 'start' | 'end'; framePath?: boolean }
  /**
   * Waits until every call is released, then reads each call's journal back from the database; the entries
   * of the `keep` types come back whole (type and data).
   */
  | { type: 'calls'; timeoutMs: number; keep?: string[] }
  | { type: 'stop' };

export interface WindowFigures {
  /** Controller process CPU (user + system, every thread) over the window, ms. */
  cpuMs: number;
  /** The window's wall time as the controller saw it, ms. */
  wallMs: number;
  /** Share of the window the controller's event loop was running code (not waiting), %. */
  eventLoopBusyPercent: number;
  /** How late the controller's event loop ran timers in the window (ms). */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** When the window was started with `framePath`. */
  framePath?: FramePathFigures;
}

export interface TurnTiming {
  turn: number;
  agentMs: number;
  ttsMs: number;
  playbackMs: number;
  totalMs: number;
}

export interface StoredCall {
  fsUuid: string;
  released: boolean;
  /** Journal entry type → how many. */
  eventCounts: Record<string, number>;
  turnTimings: TurnTiming[];
  /** The journal entries of the requested `keep` types, in order, with the controller's monotonic ms. */
  kept: Array<{ type: string; atMs: number; data: Record<string, unknown> }>;
}

export type ControllerReply =
  | { type: 'started' }
  | ({ type: 'window' } & Partial<WindowFigures>)
  | { type: 'calls'; calls: StoredCall[]; registryAfter: number; logLines: number; warnings: { count: number; examples: string[] } }
  | { type: 'stopped' }
  | { type: 'error'; message: string };

const CHILD = fileURLToPath(new URL('./controller-child.ts', import.meta.url));

export class ControllerChild extends IpcChild<ControllerRequest, ControllerReply> {
  constructor() {
    super(CHILD);
  }

  stop(timeoutMs: number): Promise<void> {
    return this.shutdown({ type: 'stop' }, 'stopped', timeoutMs);
  }
}
