// `callbridge keys rotate|id`: the recording master key. The work is in keys.ts.
import type { Command } from 'commander';
import type { Config } from '../app/config.ts';
import { printKeyId, rotateKeys } from './keys.ts';

export function registerKeysCommands(program: Command, config: () => Config): void {
  const keys = program.command('keys').description('recording encryption keys (CALL_RECORDING_ENCRYPTION_KEY)');
  keys
    .command('rotate')
    .description(
      're-wrap every recording and transcript under CALL_RECORDING_ENCRYPTION_KEY, opening them with CALL_RECORDING_PREVIOUS_KEYS ' +
        '(the audio is not re-encrypted); exits 1 if any file failed',
    )
    .action(async () => {
      process.exitCode = await rotateKeys(config());
    });
  keys
    .command('id')
    .description("print the current key's id (a fingerprint, not the key)")
    .action(() => {
      process.exitCode = printKeyId(config());
    });
}
