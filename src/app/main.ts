// `callbridge start` / `npm start`: runs the controller until SIGINT or SIGTERM, then shuts down cleanly
// (calls in progress are ended and journaled, connections closed) within a bounded time.
import type { Config } from './config.ts';
import { Controller } from './controller.ts';
import { createLogger } from './logger.ts';

const SHUTDOWN_LIMIT_MS = 15_000;

export async function runController(config: Config): Promise<void> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
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
