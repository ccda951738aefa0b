// The `callbridge` command. Each subcommand parses its options, loads the configuration once, and hands
// over to src/app/. Expected failures (bad configuration, bad input) print one clear message and exit with
// a non-zero code, never a stack trace.
import { Command, InvalidArgumentError } from 'commander';
import { CallbridgeError, ConfigError, ErrorCode } from '../core/errors.ts';
import { CallStates, type CallState } from '../core/call.ts';
import { loadConfig, type RunMode } from '../app/config.ts';
import { runController } from '../app/main.ts';
import { runDemo } from '../app/demo.ts';
import { listCalls, migrateDatabase, showCall } from './admin.ts';
import { runSimulatorCommand } from './simulator.ts';
import { checkRoutes, testRoutes } from './routes.ts';
import { registerRecordingsCommands } from './recordings-commands.ts';
import { registerAccessCommands } from './access-commands.ts';
import { registerJobsCommands } from './jobs-commands.ts';
import { registerKeysCommands } from './keys-commands.ts';
import { registerFreeswitchCommands } from './freeswitch-commands.ts';
import { wholeNumber } from './options.ts';
import type { SystemMode } from '../core/routing/types.ts';

const EXIT_USAGE = 1;
const EXIT_CONFIG = 2;

function config(mode: RunMode) {
  return loadConfig(process.env, { mode });
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0–65535');
  return n;
}

function hostPort(value: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(value);
  if (!match) throw new InvalidArgumentError('expected host:port');
  return { host: match[1] as string, port: portNumber(match[2] as string) };
}

function dialable(name: string, allowEmpty = false) {
  return (value: string): string => {
    if ((allowEmpty && value === '') || /^\+?[0-9*#]{1,20}$/.test(value)) return value;
    throw new InvalidArgumentError(`${name} must be a phone number or extension (digits, optional +)`);
  };
}

function isoTime(value: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('expected an ISO 8601 date-time with an offset, e.g. 2026-12-24T17:45:00-05:00');
  }
  return new Date(value);
}

function dtmf(value: string): string {
  if (!/^[0-9*#]{1,20}$/.test(value)) throw new InvalidArgumentError('expected DTMF digits 0-9 * #');
  return value;
}

const SYSTEM_MODES: readonly SystemMode[] = ['normal', 'ai-down', '3cx-down'];
function systemMode(value: string): SystemMode {
  if (!(SYSTEM_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${SYSTEM_MODES.join(', ')}`);
  return value as SystemMode;
}

function callState(value: string): CallState {
  if (!(CallStates as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${CallStates.join(', ')}`);
  }
  return value as CallState;
}

const program = new Command()
  .name('callbridge')
  .description('Telephony controller for FreeSWITCH: call control over ESL, call store, HTTP API')
  .showHelpAfterError();

program
  .command('start')
  .description('run the controller (outbound socket listener, inbound ESL client, HTTP API)')
  .action(async () => {
    await runController(config('production'));
  });

program
  .command('demo')
  .description('run the embedded default: simulator + controller + scripted calls, then print a timeline')
  .action(async () => {
    process.exitCode = await runDemo(config('demo'));
  });

program
  .command('simulator')
  .description('run the FreeSWITCH simulator alone')
  .option('--esl-port <port>', 'inbound ESL port (0 = any free port)', portNumber, 8021)
  .option('--esl-host <host>', 'address to listen on', '127.0.0.1')
  .option('--password <password>', 'ESL password', 'ClueCon')
  .option('--socket-target <host:port>', 'controller outbound-socket address for simulated calls', hostPort)
  .option('--scenario <file>', 'JSON scenario file of calls to place')
  .action(async (options: { eslPort: number; eslHost: string; password: string; socketTarget?: { host: string; port: number }; scenario?: string }) => {
    await runSimulatorCommand(options);
  });

const routes = program.command('routes').description('check and try the routing dialplan (dialplan/routing.yaml)');
routes
  .command('check')
  .description('validate a routing file; prints every problem as file:line:col and exits 1 if there is one')
  .argument('[file]', 'routing file (default: ROUTING_FILE or dialplan/routing.yaml)')
  .action(async (file: string | undefined) => {
    process.exitCode = await checkRoutes(file ?? config('worker').routingFile);
  });
for (const [name, format, description] of [
  ['test', 'json', 'route a hypothetical call and print the decision as JSON'],
  ['explain', 'prose', 'route a hypothetical call and explain the decision in plain words'],
] as const) {
  routes
    .command(name)
    .description(description)
    .requiredOption('--to <number>', 'the number dialled (DID)', dialable('--to'))
    .requiredOption('--from <number>', 'the caller (empty for anonymous)', dialable('--from', true))
    .requiredOption('--at <time>', 'when, as ISO 8601 with an offset, e.g. 2026-12-24T17:45:00-05:00', isoTime)
    .option('--digits <digits>', 'DTMF digits the caller pressed', dtmf)
    .option('--mode <mode>', 'system mode: normal, ai-down or 3cx-down', systemMode, 'normal' as SystemMode)
    .option('--file <file>', 'routing file (default: ROUTING_FILE or dialplan/routing.yaml)')
    .action(async (options: { to: string; from: string; at: Date; digits?: string; mode: SystemMode; file?: string }) => {
      const { file, ...facts } = options;
      process.exitCode = await testRoutes({ ...facts, file: file ?? config('worker').routingFile }, format);
    });
}

const db = program.command('db').description('database administration');
db.command('migrate')
  .description('apply the SQL migrations in sql/')
  .action(async () => {
    await migrateDatabase(config('worker'));
  });

const calls = program.command('calls').description('inspect calls');
calls
  .command('list')
  .description('list recent calls, newest first')
  .option('--limit <n>', 'how many', wholeNumber('--limit', 1), 20)
  .option('--state <state>', 'only calls in this state', callState)
  .option('--json', 'print JSON instead of a table')
  .action(async (options: { limit: number; state?: CallState; json?: boolean }) => {
    await listCalls(config('worker'), options);
  });
calls
  .command('show')
  .description('show one call with its events')
  .argument('<id>', 'call id')
  .option('--json', 'print JSON')
  .action(async (id: string, options: { json?: boolean }) => {
    process.exitCode = await showCall(config('worker'), id, options);
  });

const workerConfig = () => config('worker');
registerRecordingsCommands(program, workerConfig);
registerAccessCommands(program, workerConfig);
registerJobsCommands(program, workerConfig);
registerKeysCommands(program, workerConfig);
registerFreeswitchCommands(program, workerConfig);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError || (error instanceof CallbridgeError && error.code === ErrorCode.RoutingInvalid)) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = EXIT_CONFIG;
  } else if (error instanceof CallbridgeError) {
    process.stderr.write(`callbridge: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else {
    throw error;
  }
}
