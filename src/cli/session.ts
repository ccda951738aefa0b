// What every CLI command on the database sets up: the database (migrated, so a fresh one works), a JSON
// logger on stderr (stdout carries the command's output: listings, secrets, audio) and the audit trail;
// for commands on protected data, the operator's token checked for one permission. Pending audit entries
// are written before the database closes.
import pino, { type Logger } from 'pino';
import type { Permission, Principal } from '../core/access.ts';
import { DrizzleAuditStore, migrate, openDatabase, type Database } from '../db/index.ts';
import { AuditTrail } from '../app/audit.ts';
import { authenticateCliToken } from './auth.ts';
import { systemClock } from '../app/clock.ts';
import type { Config } from '../app/config.ts';
import { createLogger } from '../app/logger.ts';

export interface CliContext {
  database: Database;
  logger: Logger;
  audit: AuditTrail;
}

export interface CliSession extends CliContext {
  principal: Principal;
}

export interface CliOptions {
  /** Default: LOG_LEVEL. */
  logLevel?: Config['log']['level'];
}

/** Opens the database for `run` and closes it after, whatever happens. */
export async function withDatabase<T>(config: Config, run: (database: Database) => Promise<T>): Promise<T> {
  const database = await openDatabase({ url: config.database.url, pgliteDataDir: config.database.pgliteDataDir });
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

/** The migrated database, a stderr logger and the audit trail, for a command whose authority is the environment. */
export async function withCliDatabase<T>(config: Config, options: CliOptions, run: (context: CliContext) => Promise<T>): Promise<T> {
  const logger = createLogger({ level: options.logLevel ?? config.log.level, format: 'json', destination: pino.destination({ dest: 2, sync: true }) });
  return withDatabase(config, async (database) => {
    await migrate(database);
    const audit = new AuditTrail({ store: new DrizzleAuditStore({ db: database.db }), clock: systemClock, logger });
    try {
      return await run({ database, logger, audit });
    } finally {
      await audit.settled();
    }
  });
}

/** As withCliDatabase, once `token` is found to grant `permission` (UnauthenticatedError / AccessDeniedError otherwise). */
export async function withCliSession<T>(
  config: Config,
  token: string | undefined,
  permission: Permission,
  run: (session: CliSession) => Promise<T>,
  options: CliOptions = {},
): Promise<T> {
  return withCliDatabase(config, options, async (context) => {
    // Without --token, the operator's token is CALLBRIDGE_API_TOKEN: one name for the controller and the CLI.
    // As the controller's own bootstrap token it acts as an admin; as an issued token, as that token.
    const principal = await authenticateCliToken(context.database, token ?? config.http.apiToken, permission, { bootstrapToken: config.http.apiToken });
    return run({ ...context, principal });
  });
}
