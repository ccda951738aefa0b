// `callbridge freeswitch check`: an operator's check of their own FreeSWITCH against what callbridge needs.
// Everything it compares with comes from the controller's configuration (FREESWITCH_ESL_*, the gateway names,
// CONTROLLER_SOCKET_*, TTS_CACHE_DIR, RECORDINGS_DIR), so it checks the pairing the controller will use.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../core/errors.ts';
import type { Config } from '../app/config.ts';
import { runFreeswitchCheck } from '../app/freeswitch-check.ts';
import { checkExitCode, formatCheckJson, formatCheckTable } from './freeswitch-check-report.ts';
import { DEFAULT_HOLD_AUDIO } from '../call/warm-transfer.ts';
import { wholeNumber } from './options.ts';

// Names go into FreeSWITCH commands: nothing that could end or extend one.
function name(what: string) {
  return (value: string): string => {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(value)) throw new InvalidArgumentError(`${what} must be letters, digits, _ - or .`);
    return value;
  };
}

interface CheckOptions {
  json?: boolean;
  profile: string;
  holdStream: string;
  timeout?: number;
}

export function registerFreeswitchCommands(program: Command, config: () => Config): void {
  const freeswitch = program.command('freeswitch').description('check the FreeSWITCH this controller drives');
  freeswitch
    .command('check')
    .description(
      'connect over ESL and check modules, hold music, SIP profile and gateways, the socket target and the shared ' +
        'TTS cache and recordings directories; prints a pass/fail table, exits 1 if any check fails',
    )
    .option('--json', 'print the results as JSON')
    .option('--profile <name>', 'the SIP profile facing 3CX', name('--profile'), 'threecx')
    .option('--hold-stream <name>', 'the mod_local_stream stream warm transfers play', name('--hold-stream'), DEFAULT_HOLD_AUDIO.replace(/^local_stream:\/\//, ''))
    .option('--timeout <ms>', 'wait per command (default: ESL_COMMAND_TIMEOUT_MS)', wholeNumber('--timeout', 100, 120_000))
    .action(async (options: CheckOptions) => {
      const c = config();
      if (c.freeswitch.eslPassword === '') throw new ConfigError(['FREESWITCH_ESL_PASSWORD: is required (the event socket password of FreeSWITCH)']);
      const report = await runFreeswitchCheck({
        esl: { host: c.freeswitch.eslHost, port: c.freeswitch.eslPort, password: c.freeswitch.eslPassword },
        profile: options.profile,
        gateways: [
          { name: c.gateways.threecx, variable: 'THREECX_GATEWAY' },
          { name: c.gateways.twilio, variable: 'TWILIO_GATEWAY' },
        ],
        holdStream: options.holdStream,
        controllerSocket: { host: c.controllerSocket.advertisedHost, port: c.controllerSocket.port },
        sharedDirs: [
          { id: 'tts_cache', name: 'TTS cache dir', variable: 'TTS_CACHE_DIR', path: c.voice.tts.cacheDir },
          { id: 'recordings', name: 'recordings dir', variable: 'RECORDINGS_DIR', path: c.recordingsDir },
        ],
        timeoutMs: options.timeout ?? c.freeswitch.commandTimeoutMs,
      });
      process.stdout.write(options.json === true ? formatCheckJson(report) : formatCheckTable(report));
      process.exitCode = checkExitCode(report);
    });
}
