// What an admin sees when routing.yaml is wrong: every error with file:line:col pointing at the key or
// value at fault, all of them at once; and that odd-but-valid YAML (anchors, merge keys, unicode) loads.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_ROUTING_FILE_BYTES,
  formatRoutingError,
  loadRoutingFile,
  parseRoutingText,
  type RoutingError,
} from '../../../src/app/routing-file.ts';
import { route } from '../../../src/core/routing/route.ts';
import { examplePath, facts, fixturePath, positionOf, practiceText } from './helpers.ts';

function errorsOf(text: string, file = 'routing.yaml'): RoutingError[] {
  const result = parseRoutingText(text, file);
  if (result.ok) throw new Error('expected the file to be rejected');
  return result.errors;
}

/** Replaces the first occurrence of `from` (which must exist) in the fixture. */
function edit(from: string, to: string, text = practiceText): string {
  if (!text.includes(from)) throw new Error(`fixture has no "${from}"`);
  return text.replace(from, to);
}

const tmp = mkdtempSync(join(tmpdir(), 'callbridge-routing-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('valid files', () => {
  it('the shipped example dialplan/routing.yaml validates', async () => {
    const result = await loadRoutingFile(examplePath);
    expect(result.ok ? [] : result.errors.map(formatRoutingError)).toEqual([]);
  });

  it('hash is the sha256 of the text, and changes with any edit', async () => {
    const result = await loadRoutingFile(fixturePath('practice.yaml'));
    if (!result.ok) throw new Error('fixture must load');
    expect(result.hash).toBe(createHash('sha256').update(practiceText).digest('hex'));
    const edited = parseRoutingText(practiceText + '\n# a comment\n', 'x.yaml');
    expect(edited.ok && edited.hash).not.toBe(result.hash);
  });

  it('anchors, aliases and merge keys work (shared weekday hours, shared holiday list)', () => {
    const result = parseRoutingText(practiceText, 'p.yaml');
    if (!result.ok) throw new Error('fixture must load');
    // Denver merges the weekday hours; Dallas aliases Charlotte's holiday list.
    expect(result.config.locations.denver?.hours.mon).toEqual([{ start: 480, end: 720 }, { start: 780, end: 1020 }]);
    expect(result.config.locations.charlotte?.hours.sat).toEqual([{ start: 540, end: 720 }]);
    expect(result.config.locations.dallas?.holidays.map((h) => h.date)).toContain('2027-01-01');
  });

  it('unicode names load and appear in reasons', () => {
    const text = edit('name: Dallas – Uptown', 'name: "Dallas – Zürich Straße 診療所 🩺"');
    const result = parseRoutingText(text, 'p.yaml');
    if (!result.ok) throw new Error(result.errors.map(formatRoutingError).join('\n'));
    const d = route(result.config, facts({ to: '+12145550100', at: '2026-12-23T10:00:00-06:00' }));
    expect(d.reason).toContain('Zürich Straße 診療所 🩺');
  });
});

describe('file-level problems are reported at 1:1', () => {
  it.each([
    ['empty file', ''],
    ['only whitespace and newlines', ' \n\n  \n'],
  ])('%s', (_name, text) => {
    const [e, ...rest] = errorsOf(text);
    expect(rest).toEqual([]);
    expect(e).toMatchObject({ line: 1, col: 1 });
    expect(e?.message).toMatch(/empty/);
  });

  it('only a comment: not a mapping of sections', () => {
    const errors = errorsOf('# nothing here yet\n');
    expect(errors[0]).toMatchObject({ line: 1, col: 1 });
  });

  it.each([
    ['a plain string', 'hello routing'],
    ['a list', '- version: 1\n- practice: x\n'],
    ['a number', '42\n'],
  ])('root is %s → must be a mapping', (_name, text) => {
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 1, col: 1 });
    expect(errors[0]?.message).toMatch(/mapping of sections/);
  });

  it('a file over 1 MiB is refused before parsing', () => {
    const huge = `${practiceText}\n${'#'.repeat(MAX_ROUTING_FILE_BYTES)}\n`;
    const errors = errorsOf(huge);
    expect(errors).toEqual([{ file: 'routing.yaml', line: 1, col: 1, message: expect.stringMatching(/1 MiB/) }]);
  });

  it('an oversized file on disk is refused at 1:1', async () => {
    const path = join(tmp, 'huge.yaml');
    writeFileSync(path, `${practiceText}\n${'#'.repeat(MAX_ROUTING_FILE_BYTES)}\n`);
    const result = await loadRoutingFile(path);
    expect(result).toMatchObject({ ok: false, errors: [{ line: 1, col: 1, message: expect.stringMatching(/1 MiB/) }] });
  });

  it('a missing file is an error, not an exception', async () => {
    const result = await loadRoutingFile(join(tmp, 'nope.yaml'));
    expect(result).toMatchObject({ ok: false, errors: [{ line: 1, col: 1, message: expect.stringMatching(/ENOENT/) }] });
  });

  it('an alias bomb is refused instead of expanding', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      bomb.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const errors = errorsOf(bomb.join('\n') + '\n');
    expect(errors).toEqual([expect.objectContaining({ line: 1, col: 1, message: expect.stringMatching(/alias/i) })]);
  });
});

describe('YAML syntax errors carry the position', () => {
  it('a tab used as indentation → the tab’s line:col', () => {
    const text = edit('    timezone: America/Chicago', '\ttimezone: America/Chicago');
    const errors = errorsOf(text);
    const where = positionOf(text, '\ttimezone');
    expect(errors[0]).toMatchObject(where);
    expect(errors[0]?.message).toMatch(/[Tt]ab/);
  });

  it('bad indentation', () => {
    const text = edit('    timezone: America/Chicago', '      timezone: America/Chicago');
    const errors = errorsOf(text);
    expect(errors.length).toBeGreaterThan(0);
    // The over-indented line continues the `name:` value above it, which is where YAML reports it.
    expect(errors[0]).toMatchObject(positionOf(text, 'Dallas – Uptown'));
  });

  it('garbage: an unclosed flow mapping', () => {
    const errors = errorsOf('version: 1\nlocations: { a: [1, 2\n');
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e.line).toBeGreaterThanOrEqual(2);
  });

  it('binary-looking garbage does not throw', () => {
    expect(errorsOf('\u0000\u0001\u0002: [\u00ff').length).toBeGreaterThan(0);
  });

  it('a duplicated key is an error at the second key', () => {
    const text = edit('    ring_seconds: 25\n', '    ring_seconds: 25\n    ring_seconds: 31\n');
    const errors = errorsOf(text);
    expect(errors[0]).toMatchObject(positionOf(text, 'ring_seconds: 31'));
    expect(errors[0]?.message).toMatch(/unique/);
  });
});

describe('schema errors point at the key or value at fault', () => {
  it('an unknown key → exact line:col of that key, with the expected keys', () => {
    const text = edit('    ring_seconds: 25\n', '    ring_seconds: 25\n    ring_secs: 10\n');
    const errors = errorsOf(text, 'dialplan/routing.yaml');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject(positionOf(text, 'ring_secs:'));
    expect(formatRoutingError(errors[0]!)).toMatch(
      /^dialplan\/routing\.yaml:\d+:5: ring_groups\.pathology_results\.ring_secs: unknown key "ring_secs" \(expected one of: .*ring_seconds/,
    );
  });

  it('an unknown top-level section', () => {
    const text = `${practiceText}\nrouting_v2: true\n`;
    const errors = errorsOf(text);
    expect(errors).toEqual([expect.objectContaining({ ...positionOf(text, 'routing_v2'), message: expect.stringMatching(/unknown key "routing_v2"/) })]);
  });

  it('a wrong enum value points at the value', () => {
    const text = edit('    mode: humans_first\n    ring_group: billing', '    mode: humans_frist\n    ring_group: billing');
    const errors = errorsOf(text);
    expect(errors).toEqual([expect.objectContaining({ ...positionOf(text, 'humans_frist'), message: expect.stringMatching(/ai_first.*humans_first/) })]);
  });

  it('a missing required key points at its parent key', () => {
    const text = edit('    ring_seconds: 25\n', '');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject(positionOf(text, 'pathology_results:\n'));
    expect(errors[0]?.message).toMatch(/missing key "ring_seconds"/);
  });

  it('a bad time zone', () => {
    const text = edit('America/Denver', 'America/Denvr');
    expect(errorsOf(text)).toEqual([expect.objectContaining({ ...positionOf(text, 'America/Denvr'), message: expect.stringMatching(/IANA/) })]);
  });

  it('a bad time range and a range that ends before it starts', () => {
    const text = edit('sat: ["09:00-12:00"]', 'sat: ["9-12", "12:00-09:00"]');
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.line, e.col])).toEqual([
      [positionOf(text, '"9-12"').line, positionOf(text, '"9-12"').col],
      [positionOf(text, '"12:00-09:00"').line, positionOf(text, '"12:00-09:00"').col],
    ]);
  });

  it('a phone number that is not E.164 (unquoted → a number, not a string)', () => {
    const text = edit('number: "+17045550180"', 'number: 7045550180');
    const errors = errorsOf(text);
    expect(errors).toEqual([expect.objectContaining(positionOf(text, '7045550180\n'))]);
  });

  it('an extension written as a number', () => {
    const text = edit('manager_extension: "110"', 'manager_extension: 110x');
    expect(errorsOf(text)[0]).toMatchObject(positionOf(text, '110x'));
  });

  it('a ring group fallback that is another ring group (could loop) is refused', () => {
    const text = edit('fallback: { action: voicemail, mailbox: nurse_line }', 'fallback: { action: ring_group, ring_group: reception }');
    expect(errorsOf(text)[0]?.line).toBe(positionOf(text, 'action: ring_group, ring_group: reception').line);
  });

  it('an error inside a merged anchor points at the anchor’s definition', () => {
    const text = edit('  wed: ["08:00-12:00", "13:00-17:00"]', '  wed: ["08:00-12:00", "13:00-17:70"]');
    const errors = errorsOf(text);
    // Charlotte and Denver both merge the anchor: both errors point at the one bad range.
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toMatchObject(positionOf(text, '"13:00-17:70"'));
  });

  it('several errors at once, in file order', () => {
    let text = edit('    ring_seconds: 25\n', '    ring_seconds: 25\n    colour: red\n');
    text = edit('America/Denver', 'Mars/Olympus_Mons', text);
    text = edit('version: 1', 'version: 2', text);
    text = edit('urgent_digits: "1"', 'urgent_digits: "12345"', text);
    const errors = errorsOf(text);
    expect(errors.map((e) => e.line)).toEqual([
      positionOf(text, 'version: 2').line,
      positionOf(text, 'Mars/Olympus_Mons').line,
      positionOf(text, 'colour').line,
      positionOf(text, '"12345"').line,
    ]);
  });
});

describe('reference errors point at the reference', () => {
  it('a ring group naming an agent that does not exist', () => {
    const text = edit('agents: [linda_park, david_osei]', 'agents: [linda_park, david_osie]');
    const errors = errorsOf(text);
    expect(errors).toEqual([
      expect.objectContaining({ ...positionOf(text, 'david_osie'), message: expect.stringMatching(/unknown agent "david_osie"/) }),
    ]);
  });

  it('a number on an unknown location and an unknown ring group, both reported', () => {
    let text = edit('    location: denver\n    mode: humans_first\n    ring_group: pathology_results', '    location: boulder\n    mode: humans_first\n    ring_group: pathology');
    text = edit('mailbox: denver_front_desk }', 'mailbox: denver_desk }', text);
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.line, e.col])).toEqual([
      [positionOf(text, 'denver_desk').line, positionOf(text, 'denver_desk').col],
      [positionOf(text, 'boulder').line, positionOf(text, 'boulder').col],
      [positionOf(text, 'ring_group: pathology\n').line, positionOf(text, 'ring_group: pathology\n').col + 'ring_group: '.length],
    ]);
    expect(errors[1]?.message).toMatch(/unknown location "boulder"; defined locations: charlotte, dallas, denver/);
  });

  it('an undeclared skill, a duplicate extension, overlapping hours, and urgent digits containing the escape', () => {
    let text = edit('skills: [billing, spanish],             priority: 2', 'skills: [billing, spanglish],           priority: 2');
    text = edit('{ extension: "303"', '{ extension: "302"', text);
    text = edit('fri: ["07:30-12:00"]', 'fri: ["07:30-12:00", "11:00-13:00"]', text);
    text = edit('urgent_digits: "1"', 'urgent_digits: "10"', text);
    const errors = errorsOf(text);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^locations\.dallas\.hours\.fri\[1\]: .*overlaps/),
      expect.stringMatching(/unknown skill "spanglish"/),
      expect.stringMatching(/extension 302 is already used by agent "david_osei"/),
      expect.stringMatching(/contains the emergency escape/),
    ]);
    expect(errors[0]).toMatchObject(positionOf(text, '"11:00-13:00"'));
    expect(errors[1]).toMatchObject(positionOf(text, 'spanglish'));
  });

  it('a ring group named like a hand-off destination of its own (on_call) is refused: a hand-off could never reach it', () => {
    const text = edit('ring_groups:\n  scheduling:', 'ring_groups:\n  on_call:');
    const errors = errorsOf(text).filter((e) => /hand-off name/.test(e.message));
    // The error points into the group (its first key), as other errors about a whole entry do.
    expect(errors).toEqual([expect.objectContaining({ line: positionOf(text, 'ring_groups:').line + 2, message: expect.stringMatching(/^ring_groups\.on_call: "on_call" is a hand-off name/) })]);
  });

  it('a 3cx-down number for a location that does not exist points at the key', () => {
    const text = edit('      denver: "+13035550180"', '      boulder: "+13035550180"');
    expect(errorsOf(text)).toEqual([expect.objectContaining(positionOf(text, '"+13035550180"'))]);
  });
});

describe('loadRoutingFile', () => {
  it('reads a file from disk and names it in every error', async () => {
    const path = join(tmp, 'bad.yaml');
    writeFileSync(path, edit('version: 1', 'version: one'));
    const result = await loadRoutingFile(path);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(formatRoutingError(result.errors[0]!)).toMatch(new RegExp(`^${path.replace(/[.]/g, '\\.')}:\\d+:10: version: `));
  });
});
