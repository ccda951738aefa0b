// The db adapter's public surface; src/app/ wires it to the CallStore port.
export { openDatabase, type Database, type DrizzleDb, type OpenDatabaseOptions } from './database.ts';
export { migrate, MIGRATIONS_FOLDER, type MigrateOptions } from './migrate.ts';
export { DrizzleCallStore } from './call-store.ts';
export { schema, calls, callEvents, type Schema } from './schema.ts';
