// Shared by the routing tests: the fixture practice, parsed through the real loader, and small builders.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRoutingText } from '../../../src/app/routing-file.ts';
import type { RoutingConfig } from '../../../src/core/routing/schema.ts';
import type { CallFacts } from '../../../src/core/routing/types.ts';

export const fixturePath = (name: string): string =>
  fileURLToPath(new URL(`../../fixtures/routing/${name}`, import.meta.url));
export const examplePath = fileURLToPath(new URL('../../../dialplan/routing.yaml', import.meta.url));

export const practiceText = readFileSync(fixturePath('practice.yaml'), 'utf8');

export function parseOrThrow(text: string, fileName = 'practice.yaml'): RoutingConfig {
  const result = parseRoutingText(text, fileName);
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n'));
  return result.config;
}

export const practice = parseOrThrow(practiceText);

export const CHARLOTTE_MAIN = '+17045550100';
export const CHARLOTTE_SPANISH = '+17045550101';
export const CHARLOTTE_BILLING = '+17045550102';
export const DALLAS_MAIN = '+12145550100';
export const DALLAS_NURSE = '+12145550103';
export const DENVER_MAIN = '+13035550100';
export const DENVER_PATHOLOGY = '+13035550104';
export const OVERNIGHT = '+19195550100';
export const SKILLED_SCHEDULING = '+19195550101';
export const PATIENT = '+19195550123';

export function facts(over: Omit<Partial<CallFacts>, 'at'> & { at: string | Date }): CallFacts {
  const { at, ...rest } = over;
  return { to: CHARLOTTE_MAIN, from: PATIENT, mode: 'normal', ...rest, at: typeof at === 'string' ? new Date(at) : at };
}

/** 1-based line and column of the n-th (0-based) occurrence of `needle` in `text`. */
export function positionOf(text: string, needle: string, occurrence = 0): { line: number; col: number } {
  let index = -1;
  for (let i = 0; i <= occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`"${needle}" not found (occurrence ${occurrence})`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: (before.at(-1) ?? '').length + 1 };
}
