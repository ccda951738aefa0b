// The controller side of the call benchmark, in its own process (started with --expose-gc): the real
// Controller (production config, embedded PGlite in a temp dir, JSON logs at info level into a counting
// sink) against the FreeSWITCH simulator running in a child process. Answers one CallBenchResult over IPC.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countingLogSink, type LogCounts } from '../log-sink.ts';
import { loadConfig } from '../../src/app/config.ts';
import { Controller } from '../../src/app/controller.ts';
import { freePort } from '../../src/app/free-port.ts';
import { createLogger } from '../../src/app/logger.ts';
import { CallTracker, collectGarbage, memorySample, runRound, type MemorySample, type RoundResult } from './round.ts';
import { createScratchDatabase } from './scratch-postgres.ts';
import { SimulatorChild } from './simulator-protocol.ts';

export interface CallBenchRequest {
  /** undefined: embedded PGlite in a temp dir (DATABASE_URL unset); otherwise a Postgres server to make a scratch database on. */
  postgresAdminUrl?: string;
  warmupCalls: number;
  /** Rounds in order; `memory` rounds also measure the controller's memory while the calls are held. */
  rounds: { calls: number; memory: boolean }[];
  roundTimeoutMs: number;
  settleMs: number;
}

export interface CallBenchResult {
  database: string;
  logLines: number;
  /** Warn/error log lines (at most 10 kept, tagged with the phase), the first thing to read when a round lost calls. */
  warnings: { count: number; examples: string[] };
  baseline: MemorySample;
  rounds: RoundResult[];
}

async function run(request: CallBenchRequest): Promise<CallBenchResult> {
  const scratch = request.postgresAdminUrl === undefined ? undefined : await createScratchDatabase(request.postgresAdminUrl);
  const dir = await mkdtemp(join(tmpdir(), 'callbridge-bench-'));
  const simulator = new SimulatorChild();
  let controller: Controller | undefined;
  const logs: LogCounts = { lines: 0, warnings: { count: 0, examples: [] } };
  let phase = 'startup';
  try {
    const controllerPort = await freePort();
    const { eslPort } = await simulator.request(
      { type: 'start', password: 'ClueCon', socketTarget: { host: '127.0.0.1', port: controllerPort } },
      'started',
      20_000,
    );
    const config = loadConfig(
      {
        FREESWITCH_ESL_PORT: String(eslPort),
        FREESWITCH_ESL_PASSWORD: 'ClueCon',
        CONTROLLER_SOCKET_PORT: String(controllerPort),
        HTTP_PORT: String(await freePort()),
        CALLBRIDGE_API_TOKEN: 'bench-token-0123456789',
        ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
        PGLITE_DATA_DIR: join(dir, 'pglite'),
        RECORDINGS_DIR: join(dir, 'recordings'),
        // Open around the clock, +15559870100 answered by the AI: every round does the same work whenever it runs.
        ROUTING_FILE: fileURLToPath(new URL('../../test/support/routing.yaml', import.meta.url)),
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
      },
      { mode: 'production' },
    );
    const logger = createLogger({ level: config.log.level, format: 'json', destination: countingLogSink(logs, () => `[${phase}] `) });
    const tracker = new CallTracker();
    controller = await Controller.start({ config, logger, onSession: tracker.onSession, onPickup: tracker.onPickup });
    await controller.waitForFreeSwitch({ timeoutMs: 10_000 });
    const context = { controller, simulator, tracker };

    // Warm-up: JIT, database pages, socket paths. Not reported.
    phase = 'warm-up';
    await runRound(context, { calls: request.warmupCalls, timeoutMs: request.roundTimeoutMs, settleMs: 0 });
    await collectGarbage();
    const baseline = memorySample();

    const rounds: RoundResult[] = [];
    for (const round of request.rounds) {
      phase = `${round.calls} calls`;
      await collectGarbage();
      rounds.push(
        await runRound(context, {
          calls: round.calls,
          ...(round.memory ? { baseline } : {}),
          timeoutMs: request.roundTimeoutMs,
          settleMs: request.settleMs,
        }),
      );
    }
    phase = 'shutdown';
    const database = scratch === undefined ? 'PGlite (embedded, files in a temp dir)' : 'Postgres (scratch database on the local server)';
    return { database, logLines: logs.lines, warnings: logs.warnings, baseline, rounds };
  } finally {
    phase = 'shutdown';
    await controller?.close();
    await simulator.stop(5000);
    await scratch?.drop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

process.once('message', (request: CallBenchRequest) => {
  run(request).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (error: unknown) => process.send?.({ ok: false, error: String((error as Error).stack ?? error) }, () => process.disconnect()),
  );
});
