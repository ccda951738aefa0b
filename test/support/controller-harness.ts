// Wires the real controller to the FreeSWITCH simulator over real TCP, on a real database, the way
// `callbridge start` does, with ephemeral ports and a fast simulated clock.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/app/config.ts';
import { Controller, type ControllerOptions } from '../../src/app/controller.ts';
import { freePort } from '../../src/app/free-port.ts';
import { createLogger } from '../../src/app/logger.ts';
import { migrate, openDatabase, type Database } from '../../src/db/index.ts';
import { createScratchPostgres } from '../integration/db-fixture.ts';
import { FreeSwitchSimulator, type SimulatorOptions } from '../../src/simulator/simulator.ts';

/** Routing for tests: open around the clock; see the file for its numbers. */
export const TEST_ROUTING_FILE = fileURLToPath(new URL('./routing.yaml', import.meta.url));

export interface Harness {
  controller: Controller;
  simulator: FreeSwitchSimulator;
  eslPort: number;
  logLines: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** An open database to share; without it the controller opens (and closes) its own from `env`. */
  database?: Database;
  simulator?: Partial<SimulatorOptions>;
  /** Start the simulator (with these calls already up) before the controller connects. */
  beforeController?: (simulator: FreeSwitchSimulator) => Promise<void> | void;
  controller?: Partial<Pick<ControllerOptions, 'onSession' | 'onPickup' | 'recordings'>>;
  env?: Record<string, string>;
  /** Wait for the inbound ESL connection before returning (default true; false when FreeSWITCH will refuse it). */
  waitForFreeSwitch?: boolean;
}

/**
 * Free ports are found by listening on port 0 and closing again, so another socket of this process (an
 * outgoing connection's ephemeral port) can take one before the harness listens on it: then it simply tries
 * again with fresh ports.
 */
export async function startHarness(options: HarnessOptions): Promise<Harness> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startHarnessOnce(options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) throw error;
    }
  }
}

async function startHarnessOnce(options: HarnessOptions): Promise<Harness> {
  const recordingsDir = await mkdtemp(join(tmpdir(), 'callbridge-rec-'));
  // Encrypted recordings (when a test configures a key) go next to the spool, not into the working directory.
  const storageDir = join(recordingsDir, 'store');
  const eslPort = await freePort();
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  });
  const config = loadConfig(
    {
      FREESWITCH_ESL_PORT: String(eslPort),
      FREESWITCH_ESL_PASSWORD: 'ClueCon',
      CONTROLLER_SOCKET_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      CALLBRIDGE_API_TOKEN: 'test-token-0123456789',
      RECORDINGS_DIR: recordingsDir,
      RECORDING_STORAGE_DIR: storageDir,
      ESL_RECONNECT_MIN_MS: '20',
      ESL_RECONNECT_MAX_MS: '100',
      ROUTING_FILE: TEST_ROUTING_FILE,
      // Without a database of the scenario's own, the controller's embedded one lives in memory.
      PGLITE_DATA_DIR: 'memory://',
      ...options.env,
    },
    { mode: 'production' },
  );
  const simulator = new FreeSwitchSimulator({
    eslPort,
    password: 'ClueCon',
    socketTarget: { host: '127.0.0.1', port: config.controllerSocket.port },
    timeScale: 0.05,
    ...options.simulator,
  });
  let started: Controller;
  try {
    await simulator.start();
    await options.beforeController?.(simulator);
    started = await Controller.start({
      config,
      logger,
      ...(options.database ? { database: options.database } : {}),
      ...options.controller,
    });
  } catch (error) {
    await simulator.stop();
    await rm(recordingsDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    throw error;
  }
  if (options.waitForFreeSwitch !== false) await started.waitForFreeSwitch({ timeoutMs: 5000 });
  return {
    controller: started,
    simulator,
    eslPort,
    logLines,
    close: async () => {
      await started.close();
      await simulator.stop();
      // Calls hung up by stop() write their recordings as they go: retry while the directory still fills.
      await rm(recordingsDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
}

// Kept apart so unit tests can poll without loading the controller.
export { eventually } from './eventually.ts';

/** Handles (sockets, timers, servers) this process holds, by kind: compared before/after a scenario. */
export function activeHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

export interface DatabaseForHarness {
  kind: 'postgres' | 'pglite';
  /** Options that point a harness at this database. */
  harness: Pick<HarnessOptions, 'database' | 'env'>;
  close(): Promise<void>;
}

/**
 * A fresh database per scenario on each driver. On Postgres the controller opens and closes its own pool
 * from DATABASE_URL (as in production), so after close() no socket of the scenario may remain.
 */
export const scenarioDatabases: { kind: 'postgres' | 'pglite'; open(): Promise<DatabaseForHarness> }[] = [
  {
    kind: 'postgres',
    async open() {
      const scratch = await createScratchPostgres();
      return { kind: 'postgres', harness: { env: { DATABASE_URL: scratch.url } }, close: () => scratch.drop() };
    },
  },
  {
    kind: 'pglite',
    async open() {
      const database = await openDatabase({ pgliteDataDir: 'memory://' });
      await migrate(database);
      return { kind: 'pglite', harness: { database }, close: () => database.close() };
    },
  },
];
