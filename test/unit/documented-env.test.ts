// Every environment variable an operator is told about is read by something, and everything the controller
// reads is in the README. A documented variable that nothing reads is worse than none: the operator sets it,
// believes a behaviour changed, and nothing did (PSTN_BACKUP_ENABLED, THREECX_API_URL and the AI_ENGINE_*
// names of the engine contract were such variables).
//
// "Read" is found out, not listed: what src/app/config.ts reads is recorded by handing it an environment
// that notes every lookup; what FreeSWITCH reads is the `env-set` lines of freeswitch/vars.xml; what compose
// reads is every ${VAR} in docker-compose.yml. Only programs we do not ship a config for are named by hand.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.ts';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const filesUnder = (dir: string, suffix: string): string[] =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(dir, f));

const NAME = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/** Variables read by programs whose configuration is not in this repository. */
const READ_ELSEWHERE: Record<string, RegExp> = {
  // mod_audio_fork reads its settings from FreeSWITCH's process environment at load time (it has no XML).
  'mod_audio_fork (environment at module load)': /^MOD_AUDIO_FORK_[A-Z_]+$/,
  // The official postgres image's entrypoint.
  'the postgres image': /^POSTGRES_(PASSWORD|DB|USER)$/,
};

function readByController(): Set<string> {
  const seen = new Set<string>();
  const recording = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, key) => {
      if (typeof key === 'string') seen.add(key);
      return undefined;
    },
  });
  for (const mode of ['production', 'demo', 'worker'] as const) {
    try {
      loadConfig(recording, { mode });
    } catch {
      // Production refuses an empty environment; every variable has been looked up by then.
    }
  }
  return seen;
}

const controller = readByController();
const freeswitch = new Set([...read('freeswitch/vars.xml').matchAll(/cmd="env-set" data="[A-Za-z0-9_]+=\$([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!));
const composeText = read('docker-compose.yml');
const compose = parseYaml(composeText, { merge: true }) as { services: Record<string, { environment?: Record<string, unknown> }> };
const interpolatedByCompose = new Set([...composeText.replace(/^\s*#.*$/gm, '').matchAll(/(?<!\$)\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!));

/** Who reads `name`, or undefined when nothing does. */
function readerOf(name: string): string | undefined {
  if (controller.has(name)) return 'the controller (src/app/config.ts)';
  if (freeswitch.has(name)) return 'FreeSWITCH (freeswitch/vars.xml)';
  if (interpolatedByCompose.has(name)) return 'docker compose (docker-compose.yml)';
  return Object.entries(READ_ELSEWHERE).find(([, pattern]) => pattern.test(name))?.[0];
}

// Upper-case words in the docs are also event types, error codes and FreeSWITCH's own names (CALL_STARTED,
// AI_ENGINE_UNAVAILABLE, GATEWAY_DOWN). The code spells each of those as a string literal, so a word the
// source quotes is taken for one of them, provided nothing but config.ts reads variables by name (checked below).
const codeSources = filesUnder('src', '.ts').filter((f) => !f.endsWith(join('app', 'config.ts')));
const vocabulary = new Set(codeSources.flatMap((f) => [...read(f).matchAll(/['"`]([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)['"`]/g)].map((m) => m[1]!)));

const markdown = ['README.md', 'freeswitch/README.md', ...filesUnder('docs', '.md')];

describe('documented environment variables', () => {
  it('nothing but src/app/config.ts reads an environment variable by name', () => {
    const offenders = codeSources.filter((f) => /process\.env(\.[A-Z_]|\[)|\.env\(\s*['"`]/.test(read(f)));
    expect(offenders).toEqual([]);
  });

  it('every variable docker-compose.yml passes to a service is read by that service', () => {
    const unread: string[] = [];
    for (const [service, { environment }] of Object.entries(compose.services)) {
      for (const name of Object.keys(environment ?? {})) {
        const ok =
          service === 'controller' || service === 'worker'
            ? controller.has(name)
            : service === 'freeswitch'
              ? freeswitch.has(name) || READ_ELSEWHERE['mod_audio_fork (environment at module load)']!.test(name)
              : readerOf(name) !== undefined;
        if (!ok) unread.push(`${service}: ${name}`);
      }
    }
    expect(unread).toEqual([]);
  });

  it('every variable of .env.example is read by the controller, FreeSWITCH, compose or a module', () => {
    const names = [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((name) => readerOf(name) === undefined)).toEqual([]);
  });

  it('every variable named in README.md and docs/ is read by something', () => {
    const unread = markdown.flatMap((file) =>
      [...new Set(read(file).match(NAME) ?? [])].filter((name) => readerOf(name) === undefined && !vocabulary.has(name)).map((name) => `${file}: ${name}`),
    );
    expect(unread).toEqual([]);
  });

  it('every variable the controller reads is documented in README.md', () => {
    const readme = new Set(read('README.md').match(NAME) ?? []);
    expect(controller.size).toBeGreaterThan(50);
    expect([...controller].filter((name) => !readme.has(name))).toEqual([]);
  });

  it('docs/ai-engine-contract.md lists exactly the AI engine variables the controller reads', () => {
    const documented = new Set(read('docs/ai-engine-contract.md').match(/\bAI_ENGINE_[A-Z_]+\b/g) ?? []);
    const errorCodes = [...documented].filter((name) => vocabulary.has(name) && !controller.has(name));
    const variables = [...documented].filter((name) => !errorCodes.includes(name)).sort();
    expect(variables).toEqual([...controller].filter((name) => name.startsWith('AI_ENGINE_')).sort());
  });
});
