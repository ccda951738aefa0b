// The controller of the voice benchmark, alone in its process: the real Controller (production config,
// embedded PGlite in a temp dir, JSON logs at info level into a counting sink), with the voice pipeline
// pointed at the peers of the benchmark process. Driven over IPC (controller-protocol.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import { countingLogSink, type LogCounts } from '../log-sink.ts';
import type { CallSession } from '../../src/call/call-session.ts';
import { loadConfig } from '../../src/app/config.ts';
import { Controller } from '../../src/app/controller.ts';
import { createLogger } from '../../src/app/logger.ts';
import { round } from '../stats.ts';
import { FramePathClock } from './frame-path-clock.ts';
import type { ControllerReply, ControllerRequest, StoredCall, TurnTiming } from './controller-protocol.ts';

let controller: Controller | undefined;
let dir: string | undefined;
const sessions: CallSession[] = [];
const released = new Set<CallSession>();
const logs: LogCounts = { lines: 0, warnings: { count: 0, examples: [] } };
let window: { cpu: NodeJS.CpuUsage; atMs: number; delay: IntervalHistogram; elu: EventLoopUtilization; framePath?: FramePathClock } | undefined;

/** Sampling interval of the event-loop delay histogram (ms); every sample includes it, so it is taken off. */
const DELAY_RESOLUTION_MS = 2;

const reply = (message: ControllerReply): void => void process.send?.(message);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function start(env: Record<string, string>): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'callbridge-bench-voice-'));
  const config = loadConfig(
    { ...env, PGLITE_DATA_DIR: join(dir, 'pglite'), RECORDINGS_DIR: join(dir, 'recordings'), RECORDING_STORAGE_DIR: join(dir, 'recording-store'), TTS_CACHE_DIR: join(dir, 'tts-cache'), LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    { mode: 'production' },
  );
  const logger = createLogger({ level: config.log.level, format: 'json', destination: countingLogSink(logs) });
  controller = await Controller.start({
    config,
    logger,
    onSession: (session) => {
      sessions.push(session);
      void session.done.then(() => released.add(session));
    },
  });
  await controller.waitForFreeSwitch({ timeoutMs: 10_000 });
  await controller.voice?.prewarmed;
}

function windowFigures(action: 'start' | 'end', framePath: boolean): ControllerReply {
  if (action === 'start') {
    const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });
    delay.enable();
    window = { cpu: process.cpuUsage(), atMs: performance.now(), delay, elu: performance.eventLoopUtilization(), framePath: framePath ? new FramePathClock() : undefined };
    return { type: 'window' };
  }
  const w = window;
  if (w === undefined) throw new Error('no window started');
  window = undefined;
  const frames = w.framePath?.end();
  const cpu = process.cpuUsage(w.cpu);
  const elu = performance.eventLoopUtilization(w.elu);
  w.delay.disable();
  const ms = (ns: number): number => round(Math.max(0, ns / 1e6 - DELAY_RESOLUTION_MS), 2);
  return {
    type: 'window',
    cpuMs: round((cpu.user + cpu.system) / 1000, 1),
    wallMs: round(performance.now() - w.atMs, 1),
    eventLoopBusyPercent: round(elu.utilization * 100, 1),
    eventLoopDelayMs: { p50: ms(w.delay.percentile(50)), p99: ms(w.delay.percentile(99)), max: ms(w.delay.max) },
    framePath: frames,
  };
}

async function storedCalls(timeoutMs: number, keep: readonly string[]): Promise<ControllerReply> {
  const c = controller as Controller;
  const deadline = performance.now() + timeoutMs;
  while ((released.size < sessions.length || c.registry.size > 0) && performance.now() < deadline) await sleep(20);
  // The journal batches its writes: give the last batch a moment to land.
  await sleep(200);
  const calls: StoredCall[] = [];
  for (const session of sessions) {
    const events = (await c.store.getCall(session.callId))?.events ?? [];
    const eventCounts: Record<string, number> = {};
    for (const e of events) eventCounts[e.type] = (eventCounts[e.type] ?? 0) + 1;
    const turnTimings = events.filter((e) => e.type === 'turn_timing').map((e) => e.data as unknown as TurnTiming);
    const kept = events.filter((e) => keep.includes(e.type)).map((e) => ({ type: e.type, atMs: e.monotonicMs, data: e.data as Record<string, unknown> }));
    calls.push({ fsUuid: session.fsUuid, released: released.has(session), eventCounts, turnTimings, kept });
  }
  return { type: 'calls', calls, registryAfter: c.registry.size, logLines: logs.lines, warnings: logs.warnings };
}

async function handle(request: ControllerRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      await start(request.env);
      reply({ type: 'started' });
      return;
    case 'window':
      reply(windowFigures(request.action, request.framePath === true));
      return;
    case 'calls':
      reply(await storedCalls(request.timeoutMs, request.keep ?? []));
      return;
    case 'stop':
      await controller?.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      reply({ type: 'stopped' });
      process.disconnect();
      return;
  }
}

process.on('message', (request: ControllerRequest) => {
  handle(request).catch((error: unknown) => reply({ type: 'error', message: String((error as Error).stack ?? error) }));
});
