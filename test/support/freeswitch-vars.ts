// What a value in the freeswitch/ configuration becomes for a given process environment, the way FreeSWITCH's
// preprocessor works it out: vars.xml is read line by line, `set` gives a default, `env-set` replaces it when
// the named environment variable exists, and `$${name}` expands to the value so far. Enough for the compose
// checks to ask "which port range / which certificate directory does FreeSWITCH end up using?".
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const confDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'freeswitch');

// Globals FreeSWITCH computes before it reads vars.xml (base_dir is the image's install prefix).
const BUILT_INS: Record<string, string> = { base_dir: '/usr/local/freeswitch', local_ip_v4: '10.9.8.7' };

const expand = (text: string, globals: Map<string, string>) => text.replace(/\$\$\{([^}]+)\}/g, (_all, name: string) => globals.get(name) ?? '');

/** The global variables after vars.xml, for this environment. */
export function freeswitchGlobals(env: Record<string, string | undefined>): Map<string, string> {
  const globals = new Map(Object.entries(BUILT_INS));
  for (const line of readFileSync(join(confDir, 'vars.xml'), 'utf8').split('\n')) {
    const pre = /<X-PRE-PROCESS\s+cmd="(set|env-set)"\s+data="([^"=]+)=([^"]*)"\s*\/>/.exec(expand(line, globals));
    if (!pre) continue;
    const [, cmd, name, value] = pre as unknown as [string, string, string, string];
    if (cmd === 'set') globals.set(name.trim(), value.trim());
    else if (value.startsWith('$') && env[value.slice(1)] !== undefined) globals.set(name.trim(), env[value.slice(1)]!);
  }
  return globals;
}

/** The environment variable an `env-set` line of vars.xml reads into `name`, if any. */
export function envVariableOf(name: string): string | undefined {
  const text = readFileSync(join(confDir, 'vars.xml'), 'utf8');
  return new RegExp(`cmd="env-set" data="${name}=\\$([A-Z0-9_]+)"`).exec(text)?.[1];
}

/** A `<param name=… value=…/>` of a configuration file (path relative to freeswitch/), expanded for `env`. */
export function configParam(file: string, param: string, env: Record<string, string | undefined>): string | undefined {
  const text = readFileSync(join(confDir, file), 'utf8');
  const raw = new RegExp(`<param name="${param}" value="([^"]*)"`).exec(text)?.[1];
  return raw === undefined ? undefined : expand(raw, freeswitchGlobals(env));
}
