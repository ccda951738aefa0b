// `callbridge start` / `npm start`: runs the controller until SIGINT or SIGTERM, then shuts down cleanly
// (calls in progress are ended and journaled, connections closed) within a bounded time.
import { ConfigError } from '../core/errors.ts';
import type { Config } from './config.ts';
import { Controller } from './controller.ts';
import { describeEmergencyTargets, emergencyTargetsInForce, placeholderProblems } from './emergency-check.ts';
import { createLogger, type Logger } from './logger.ts';
import { loadRoutingFile } from './routing-file.ts';
import { RoutingFileInvalidError } from './routing-service.ts';

const SHUTDOWN_LIMIT_MS = 15_000;

export async function runController(config: Config): Promise<void> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  await checkEmergencyTargets(config, logger);
  const controller = await Controller.start({ config, logger });
  logger.info(
    { http: controller.addresses.http, outboundSocket: controller.addresses.outboundSocket, database: config.database.url === undefined ? 'pglite' : 'postgres' },
    'callbridge controller started',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      logger.info({ signal }, 'shutting down');
      const limit = setTimeout(() => {
        logger.error('shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_LIMIT_MS);
      limit.unref();
      controller.close().then(resolve, (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * Before taking any call: says who an emergency reaches (masked, with where each value came from) and
 * refuses the shipped routing.yaml's placeholders with a ConfigError naming the variables (exit 2).
 */
async function checkEmergencyTargets(config: Config, logger: Logger): Promise<void> {
  const loaded = await loadRoutingFile(config.routingFile);
  if (!loaded.ok) throw new RoutingFileInvalidError(loaded.errors);
  const inForce = emergencyTargetsInForce(config.emergency, loaded.config.emergency);
  const { text, fromRoutingFile, targets } = describeEmergencyTargets(inForce);
  // Loud (warn) whenever anything falls back to the routing file: that is where the placeholders live.
  logger[fromRoutingFile ? 'warn' : 'info']({ emergency: targets }, `emergency targets in force: ${text}`);
  const problems = placeholderProblems(inForce);
  if (problems.length > 0) throw new ConfigError(problems);
}
