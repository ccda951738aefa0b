// `callbridge recordings list|play|export|transcript|hold|release` and `callbridge retention run`. Options
// are checked here (ids, the stated reason); the work, authentication and audit are in
// recordings.ts. The token comes from --token or CALLBRIDGE_API_TOKEN (kept out of shell history).
import { Command, InvalidArgumentError, Option } from 'commander';
import { accessReason } from '../core/access-reason.ts';
import type { Config } from '../app/config.ts';
import {
  exportRecording,
  listRecordings,
  playRecording,
  runRetentionCommand,
  setLegalHold,
  showTranscript,
} from './recordings.ts';
import { tokenOption, wholeNumber } from './options.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_LIST = 1000;

function uuid(name: string) {
  return (value: string): string => {
    if (!UUID.test(value)) throw new InvalidArgumentError(`${name} must be a UUID`);
    return value.toLowerCase();
  };
}

function reason(value: string): string {
  const result = accessReason.safeParse(value);
  if (!result.success) throw new InvalidArgumentError(result.error.issues.map((issue) => issue.message).join('; '));
  return result.data;
}

const reasonOption = () => new Option('--reason <text>', 'why you need it, for the audit log (10–500 characters)').argParser(reason).makeOptionMandatory();

interface AccessFlags {
  token?: string;
  reason: string;
}

export function registerRecordingsCommands(program: Command, config: () => Config): void {
  const recordings = program.command('recordings').description('list, play and export call recordings (access is audited)');
  recordings
    .command('list')
    .description('list recordings, newest first (metadata only)')
    .option('--call <id>', 'only this call', uuid('--call'))
    .option('--limit <n>', 'how many', wholeNumber('--limit', 1, MAX_LIST), 50)
    .option('--json', 'print JSON')
    .addOption(tokenOption())
    .action(async (options: { call?: string; limit: number; json?: boolean; token?: string }) => {
      process.exitCode = await listRecordings(config(), {
        token: options.token,
        limit: options.limit,
        ...(options.call === undefined ? {} : { callId: options.call }),
        ...(options.json === undefined ? {} : { json: options.json }),
      });
    });
  recordings
    .command('play')
    .description('write the decrypted WAV to stdout (a pipe, never a terminal)')
    .argument('<id>', 'recording id', uuid('id'))
    .addOption(reasonOption())
    .addOption(tokenOption())
    .action(async (id: string, options: AccessFlags) => {
      process.exitCode = await playRecording(config(), { id, token: options.token, reason: options.reason });
    });
  recordings
    .command('export')
    .description('write the decrypted WAV to a new file (mode 0600; an existing file is never overwritten)')
    .argument('<id>', 'recording id', uuid('id'))
    .addOption(reasonOption())
    .requiredOption('--out <file>', 'the file to create')
    .addOption(tokenOption())
    .action(async (id: string, options: AccessFlags & { out: string }) => {
      process.exitCode = await exportRecording(config(), { id, token: options.token, reason: options.reason, out: options.out });
    });
  recordings
    .command('transcript')
    .description("print the recording's transcript (JSON)")
    .argument('<id>', 'recording id', uuid('id'))
    .addOption(reasonOption())
    .addOption(tokenOption())
    .action(async (id: string, options: AccessFlags) => {
      process.exitCode = await showTranscript(config(), { id, token: options.token, reason: options.reason });
    });
  for (const [name, hold, description] of [
    ['hold', true, 'put a recording on legal hold (retention keeps it)'],
    ['release', false, 'release a legal hold (retention applies again)'],
  ] as const) {
    recordings
      .command(name)
      .description(description)
      .argument('<id>', 'recording id', uuid('id'))
      .addOption(reasonOption())
      .addOption(tokenOption())
      .action(async (id: string, options: AccessFlags) => {
        process.exitCode = await setLegalHold(config(), { id, hold, token: options.token, reason: options.reason });
      });
  }

  program
    .command('retention')
    .description('recording retention')
    .command('run')
    .description('delete recordings past their retention date (except those on legal hold); each deletion is audited')
    .option('--dry-run', 'list what would be deleted and change nothing')
    .addOption(tokenOption())
    .action(async (options: { dryRun?: boolean; token?: string }) => {
      process.exitCode = await runRetentionCommand(config(), { token: options.token, dryRun: options.dryRun === true });
    });
}
