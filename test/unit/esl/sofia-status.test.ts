// `sofia status` summaries as mod_sofia's cmd_status (1.10) prints them: rows of `%25s\t%s\t  %40s\t%s`.
import { describe, expect, it } from 'vitest';
import { parseSofiaSummary } from '../../../src/esl/sofia-status.ts';

const RULE = '='.repeat(97);
const row = (name: string, type: string, data: string, state: string) => `${name.padStart(25)}\t${type}\t  ${data.padStart(40)}\t${state}\n`;

describe('parseSofiaSummary', () => {
  it('reads running profiles (plain and TLS rows), their gateways with retry notes, and skips aliases', () => {
    const text =
      row('Name', '   Type', 'Data', 'State') +
      `${RULE}\n` +
      row('threecx', 'profile', 'sip:mod_sofia@10.0.0.5:5080', 'RUNNING (2)') +
      row('threecx', 'profile', 'sips:mod_sofia@10.0.0.5:5081', 'RUNNING (2) (TLS)') +
      row('threecx::threecx', 'gateway', 'sip:callbridge@192.0.2.10', 'NOREG') +
      row('threecx::twilio', 'gateway', 'sip:trunk@example.pstn.twilio.com', 'FAILED (retry: 27s)') +
      row('10.0.0.5', '  alias', 'threecx', 'ALIASED') +
      `${RULE}\n1 profile 1 alias\n`;
    const summary = parseSofiaSummary(text);
    expect([...(summary?.profiles ?? [])]).toEqual([['threecx', { url: 'sip:mod_sofia@10.0.0.5:5080', inUse: 2 }]]);
    expect(Object.fromEntries(summary?.gateways ?? [])).toEqual({
      'threecx::threecx': { profile: 'threecx', name: 'threecx', state: 'NOREG' },
      'threecx::twilio': { profile: 'threecx', name: 'twilio', state: 'FAILED' },
    });
  });

  it('reads a switch with no profile running as empty, and anything else as not a summary', () => {
    const empty = parseSofiaSummary(`${row('Name', '   Type', 'Data', 'State')}${RULE}\n${RULE}\n0 profiles 0 aliases\n`);
    expect(empty?.profiles.size).toBe(0);
    expect(empty?.gateways.size).toBe(0);
    expect(parseSofiaSummary('-ERR sofia Command not found!\n')).toBeUndefined();
  });
});
