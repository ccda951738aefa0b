// The FreeSWITCH configuration in freeswitch/ is checked the way FreeSWITCH reads it: a small stand-in for its
// preprocessor (line based: include globs, set, env-set, $${var} expansion) assembles the one document
// FreeSWITCH would parse, for a given process environment. The checks then read that document, so a renamed
// variable, a context nobody defines or a port that drifted from the controller's defaults fails here instead of
// on a live phone line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.ts';
import { DEFAULT_HOLD_AUDIO } from '../../src/call/warm-transfer.ts';
import { SHIPPED_LOCAL_STREAMS } from '../../src/simulator/local-streams.ts';
import { SHIPPED_MODULES } from '../../src/simulator/switch-state.ts';
import { parseWav } from '../../src/voice/tts/wav.ts';
import { interpolate } from '../support/compose-env.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const confDir = join(root, 'freeswitch');
// Where docker-compose.yml mounts freeswitch/ and points `-conf` (FreeSWITCH's $${conf_dir}).
const COMPOSE_CONF_DIR = '/etc/callbridge/freeswitch';

// Globals FreeSWITCH computes before it reads vars.xml; the values only need to be recognisable.
const BUILT_INS: Record<string, string> = {
  local_ip_v4: '10.9.8.7',
  base_dir: '/usr/local/freeswitch',
  conf_dir: COMPOSE_CONF_DIR,
  hostname: 'fs-test',
};

interface Assembled {
  text: string;
  globals: Map<string, string>;
  undefinedVars: Set<string>;
}

/** Assembles freeswitch.xml as FreeSWITCH's preprocessor would for the given environment. */
function assemble(env: Record<string, string>): Assembled {
  const globals = new Map(Object.entries(BUILT_INS));
  const undefinedVars = new Set<string>();
  const out: string[] = [];
  // Undefined variables expand to nothing, as in FreeSWITCH; outside comments that is reported.
  const expand = (line: string, inComment: boolean) =>
    line.replace(/\$\$\{([^}]+)\}/g, (_all, name: string) => {
      const value = globals.get(name);
      if (value === undefined && !inComment) undefinedVars.add(name);
      return value ?? '';
    });
  const include = (cwd: string, pattern: string) => {
    const full = join(cwd, pattern);
    const dir = dirname(full);
    const base = full.slice(dir.length + 1);
    const matcher = new RegExp(`^${base.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    for (const name of readdirSync(dir).filter((n) => matcher.test(n)).sort()) processFile(join(dir, name));
  };
  const processFile = (file: string) => {
    let inComment = false;
    for (const raw of readFileSync(file, 'utf8').split('\n')) {
      const line = expand(raw, inComment || raw.trimStart().startsWith('<!--'));
      // Its preprocessor drops these lines so each included file can be a well-formed document of its own.
      if (raw.includes('<include>') || raw.includes('</include>') || raw.includes('<?')) continue;
      const pre = /<X-PRE-PROCESS\s+cmd="([^"]+)"\s+data="([^"]*)"\s*\/>/i.exec(line);
      if (pre) {
        // FreeSWITCH acts on the instruction even inside a comment; a config relying on that is a bug.
        expect(inComment, `${relative(root, file)}: preprocessor instruction inside a comment`).toBe(false);
        const [, cmd, data] = pre as unknown as [string, string, string];
        const eq = data.indexOf('=');
        const name = data.slice(0, eq).trim();
        const value = data.slice(eq + 1).trim();
        if (cmd === 'set') globals.set(name, value);
        else if (cmd === 'env-set') {
          expect(value.startsWith('$'), `env-set ${name} must name an environment variable`).toBe(true);
          const fromEnv = env[value.slice(1)];
          if (fromEnv !== undefined) globals.set(name, fromEnv);
        } else if (cmd === 'include') include(dirname(file), data);
        else throw new Error(`unexpected preprocessor instruction ${cmd} in ${file}`);
        continue;
      }
      if (line.includes('<!--')) inComment = !line.slice(line.lastIndexOf('<!--')).includes('-->');
      else if (inComment && line.includes('-->')) inComment = false;
      out.push(line);
    }
  };
  processFile(join(confDir, 'freeswitch.xml'));
  return { text: out.join('\n'), globals, undefinedVars };
}

type Node = Record<string, unknown>;
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});
const children = (node: unknown, name: string): Node[] => ((node as Node | undefined)?.[name] as Node[] | undefined) ?? [];
const attr = (node: Node, name: string): string => String(node[`@${name}`] ?? '');
const params = (node: unknown): Map<string, string> =>
  new Map(children(node, 'param').map((p) => [attr(p, 'name'), attr(p, 'value')]));

function documentOf(env: Record<string, string>) {
  const assembled = assemble(env);
  expect(XMLValidator.validate(assembled.text)).toBe(true);
  const doc = children(parser.parse(assembled.text), 'document')[0];
  const section = (name: string) => children(doc, 'section').find((s) => attr(s, 'name') === name);
  const configuration = (name: string) => children(section('configuration'), 'configuration').find((c) => attr(c, 'name') === name);
  const contexts = children(section('dialplan'), 'context');
  const actions = contexts.flatMap((c) =>
    children(c, 'extension').flatMap((e) =>
      children(e, 'condition').flatMap((cond) =>
        children(cond, 'action').map((a) => ({ context: attr(c, 'name'), app: attr(a, 'application'), data: attr(a, 'data') })),
      ),
    ),
  );
  const profiles = children(children(configuration('sofia.conf'), 'profiles')[0], 'profile');
  return { assembled, configuration, contexts, actions, profiles };
}

function xmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? xmlFiles(join(dir, entry.name)) : entry.name.endsWith('.xml') ? [join(dir, entry.name)] : [],
  );
}


function composeServiceEnv(service: string, env: Record<string, string>): Record<string, string> {
  const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { environment?: Record<string, string | number> }>;
  };
  const raw = compose.services[service]?.environment ?? {};
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), env)]));
}

const defaults = loadConfig({}, { mode: 'demo' });
const SOCKET_DATA = /^(\S+):(\d+) async full$/;

describe('FreeSWITCH configuration files', () => {
  const files = xmlFiles(confDir);

  it('has the files a conf dir needs', () => {
    const names = files.map((f) => relative(confDir, f)).sort();
    for (const needed of [
      'freeswitch.xml',
      'vars.xml',
      'autoload_configs/modules.conf.xml',
      'autoload_configs/event_socket.conf.xml',
      'autoload_configs/acl.conf.xml',
      'autoload_configs/switch.conf.xml',
      'autoload_configs/sofia.conf.xml',
      'sip_profiles/threecx.xml',
      'dialplan/callbridge.xml',
    ]) {
      expect(names).toContain(needed);
    }
  });

  it.each(files.map((f) => [relative(confDir, f), f]))('%s is well-formed XML and starts with a comment saying what it is for', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    expect(XMLValidator.validate(text)).toBe(true);
    expect(text.replace(/^<\?xml[^>]*\?>\s*/, '').trimStart().startsWith('<!--')).toBe(true);
  });

  it('assembles into one well-formed document; only the values without a default stay empty when unset', () => {
    // Secrets and phone numbers have no default on purpose: they come from the environment or not at all.
    expect([...documentOf({}).assembled.undefinedVars].sort()).toEqual(
      ['esl_password', 'oncall_number', 'twilio_caller_id', 'twilio_sip_password', 'twilio_sip_username'],
    );
    const full = {
      FREESWITCH_ESL_PASSWORD: 'p',
      TWILIO_SIP_USERNAME: 'u',
      TWILIO_SIP_PASSWORD: 'p',
      TWILIO_PHONE_NUMBER: '+15550100',
      PSTN_FALLBACK_NUMBER: '+15550101',
    };
    expect([...documentOf(full).assembled.undefinedVars]).toEqual([]);
  });

  it('loads the modules the controller relies on', () => {
    const { configuration } = documentOf({});
    const loaded = children(children(configuration('modules.conf'), 'modules')[0], 'load').map((l) => attr(l, 'module'));
    for (const mod of ['mod_event_socket', 'mod_sofia', 'mod_audio_fork', 'mod_commands', 'mod_dptools', 'mod_dialplan_xml', 'mod_sndfile', 'mod_tone_stream']) {
      expect(loaded).toContain(mod);
    }
  });
});

describe('FreeSWITCH configuration agrees with the controller', () => {
  it('hands calls to the controller socket default (CONTROLLER_SOCKET_HOST:PORT) when nothing is set', () => {
    const { actions } = documentOf({});
    const sockets = actions.filter((a) => a.app === 'socket');
    expect(sockets).toHaveLength(1);
    const [, host, port] = SOCKET_DATA.exec(sockets[0]!.data) ?? [];
    expect(host).toBe(defaults.controllerSocket.host);
    expect(Number(port)).toBe(defaults.controllerSocket.port);
    expect(Number(port)).toBe(8084);
  });

  it('listens for the controller on FREESWITCH_ESL_HOST:PORT defaults, with the password from the environment', () => {
    const none = params(children(documentOf({}).configuration('event_socket.conf'), 'settings')[0]);
    expect(none.get('listen-ip')).toBe(defaults.freeswitch.eslHost);
    expect(Number(none.get('listen-port'))).toBe(defaults.freeswitch.eslPort);
    expect(Number(none.get('listen-port'))).toBe(8021);

    const set = params(
      children(documentOf({ FREESWITCH_ESL_PASSWORD: 'from-the-env', FREESWITCH_ESL_PORT: '9021' }).configuration('event_socket.conf'), 'settings')[0],
    );
    expect(set.get('password')).toBe('from-the-env');
    expect(set.get('listen-port')).toBe('9021');
  });

  it('in docker-compose, dials the controller service on the port the controller listens on', () => {
    const fsEnv = composeServiceEnv('freeswitch', { FREESWITCH_ESL_PASSWORD: 'x', FREESWITCH_EXTERNAL_IP: '198.51.100.7', THREECX_SIP_HOST: '192.0.2.1', THREECX_SIP_CIDR: '192.0.2.1/32' });
    const controllerEnv = composeServiceEnv('controller', { FREESWITCH_ESL_PASSWORD: 'x', CALLBRIDGE_API_TOKEN: 'y'.repeat(16), POSTGRES_PASSWORD: 'p', THREECX_SIP_HOST: '192.0.2.1' });
    const { actions, configuration } = documentOf(fsEnv);
    const [, host, port] = SOCKET_DATA.exec(actions.find((a) => a.app === 'socket')!.data) ?? [];
    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { expose?: string[] }> };
    expect(Object.keys(compose.services)).toContain(host);
    expect(host).toBe('controller');
    expect(port).toBe(controllerEnv.CONTROLLER_SOCKET_PORT);
    expect(compose.services.controller?.expose).toContain(port);
    // The controller reaches the event socket with the same port and password FreeSWITCH listens with.
    const esl = params(children(configuration('event_socket.conf'), 'settings')[0]);
    expect(controllerEnv.FREESWITCH_ESL_HOST).toBe('freeswitch');
    expect(esl.get('listen-port')).toBe(controllerEnv.FREESWITCH_ESL_PORT);
    expect(esl.get('password')).toBe(controllerEnv.FREESWITCH_ESL_PASSWORD);
  });

  it('reads every environment variable it uses from compose and documents it in .env.example', () => {
    const envNames = [...readFileSync(join(confDir, 'vars.xml'), 'utf8').matchAll(/cmd="env-set" data="[^=]+=\$([A-Z0-9_]+)"/g)].map((m) => m[1]!);
    expect(envNames.length).toBeGreaterThan(10);
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    const fsEnv = Object.keys(composeServiceEnv('freeswitch', { FREESWITCH_ESL_PASSWORD: 'x', FREESWITCH_EXTERNAL_IP: 'x', THREECX_SIP_HOST: 'x', THREECX_SIP_CIDR: 'x' }));
    for (const name of envNames) {
      expect(example, `${name} missing from .env.example`).toMatch(new RegExp(`^${name}=`, 'm'));
      // FREESWITCH_INTERNAL_IP is deliberately not passed: inside the container the primary interface is right.
      if (name !== 'FREESWITCH_INTERNAL_IP') expect(fsEnv, `${name} not passed to the freeswitch service`).toContain(name);
    }
  });
});

describe('FreeSWITCH call routing', () => {
  it('sends every call from the 3CX profile into a context the dialplan defines', () => {
    const { profiles, contexts } = documentOf({});
    const defined = contexts.map((c) => attr(c, 'name'));
    expect(profiles.length).toBeGreaterThan(0);
    for (const profile of profiles) {
      expect(defined).toContain(params(children(profile, 'settings')[0]).get('context'));
    }
  });

  it('bridges only through gateways the SIP profiles define (threecx, then twilio)', () => {
    const { profiles, actions } = documentOf({});
    const gateways = profiles.flatMap((p) => children(children(p, 'gateways')[0], 'gateway').map((g) => attr(g, 'name')));
    const used = actions.flatMap((a) => [...a.data.matchAll(/sofia\/gateway\/([^/]+)\//g)].map((m) => m[1]!));
    expect(used).toEqual(['threecx', 'twilio']);
    for (const name of used) expect(gateways).toContain(name);
    // The controller bridges through the same gateways by name (THREECX_GATEWAY / TWILIO_GATEWAY defaults).
    const configured = (defaults as unknown as { gateways?: Record<string, string> }).gateways ?? {};
    for (const name of Object.values(configured)) expect(gateways).toContain(name);
  });

  it('falls back to the 3CX reception ring group, then the PSTN, when the controller is unreachable', () => {
    const { actions } = documentOf({ THREECX_RECEPTION_GROUP: '801', PSTN_FALLBACK_NUMBER: '+15550100' });
    const order = actions.map((a) => `${a.app} ${a.data}`);
    const at = (pattern: RegExp) => order.findIndex((line) => pattern.test(line));
    const socket = at(/^socket /);
    expect(at(/^set continue_on_fail=true$/)).toBeGreaterThanOrEqual(0);
    expect(at(/^set continue_on_fail=true$/)).toBeLessThan(socket);
    expect(at(/^set hangup_after_bridge=true$/)).toBeLessThan(socket);
    const toReception = at(/^bridge .*sofia\/gateway\/threecx\/801$/);
    const toPstn = at(/^bridge .*sofia\/gateway\/twilio\/\+15550100$/);
    expect(toReception).toBeGreaterThan(socket);
    expect(toPstn).toBeGreaterThan(toReception);
  });

  it('admits SIP only from the 3CX addresses and the event socket only from the controller network', () => {
    const { configuration, profiles } = documentOf({ THREECX_SIP_CIDR: '203.0.113.5/32', CALLBRIDGE_NETWORK_CIDR: '172.28.0.0/24' });
    const lists = new Map(
      children(children(configuration('acl.conf'), 'network-lists')[0], 'list').map((l) => [
        attr(l, 'name'),
        { deny: attr(l, 'default') === 'deny', allow: children(l, 'node').map((n) => attr(n, 'cidr')) },
      ]),
    );
    const eslAcl = params(children(configuration('event_socket.conf'), 'settings')[0]).get('apply-inbound-acl')!;
    expect(lists.get(eslAcl)).toEqual({ deny: true, allow: ['127.0.0.1/32', '172.28.0.0/24'] });
    const sipAcl = params(children(profiles[0], 'settings')[0]).get('apply-inbound-acl')!;
    expect(lists.get(sipAcl)).toEqual({ deny: true, allow: ['203.0.113.5/32'] });
  });

  it('keeps every password and secret out of the files: only ${variables} from the environment', () => {
    for (const file of xmlFiles(confDir)) {
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/ClueCon/i);
      for (const m of text.matchAll(/<param name="([^"]*(?:pass|secret|token|key)[^"]*)" value="([^"]*)"/gi)) {
        expect(m[2], `${relative(root, file)}: ${m[1]}`).toMatch(/^\$\$\{[a-z0-9_]+\}$/);
      }
      for (const m of text.matchAll(/cmd="set" data="([^=]*(?:pass|secret|token)[^=]*)=/gi)) {
        throw new Error(`${relative(root, file)}: ${m[1]} has a default; secrets come from env-set only`);
      }
    }
    const { assembled } = documentOf({});
    expect(assembled.globals.has('esl_password')).toBe(false);
    expect(assembled.globals.has('twilio_sip_password')).toBe(false);
  });
});

describe('FreeSWITCH music on hold', () => {
  const holdStream = DEFAULT_HOLD_AUDIO.replace(/^local_stream:\/\//, '');
  const streams = () => {
    const { configuration } = documentOf({});
    return children(configuration('local_stream.conf'), 'directory');
  };
  /** The repo folder a stream's path names, as mounted in docker-compose. */
  const inRepo = (location: string) => {
    expect(location.startsWith(`${COMPOSE_CONF_DIR}/`), `${location} is outside the mounted configuration folder`).toBe(true);
    return join(confDir, relative(COMPOSE_CONF_DIR, location));
  };

  it('loads mod_local_stream, whose configuration defines the stream warm transfers play', () => {
    const { configuration } = documentOf({});
    const loaded = children(children(configuration('modules.conf'), 'modules')[0], 'load').map((l) => attr(l, 'module'));
    expect(loaded).toContain('mod_local_stream');
    expect(DEFAULT_HOLD_AUDIO).toMatch(/^local_stream:\/\/[a-z0-9_]+$/);
    expect(streams().map((d) => attr(d, 'name'))).toContain(holdStream);
  });

  it('reads the configuration from the folder docker-compose mounts at the $${conf_dir} the paths use', () => {
    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { command?: string[]; volumes?: string[] }>;
    };
    const fs = compose.services.freeswitch!;
    expect(fs.command?.[(fs.command?.indexOf('-conf') ?? -2) + 1]).toBe(COMPOSE_CONF_DIR);
    expect(fs.volumes).toContain(`./freeswitch:${COMPOSE_CONF_DIR}:ro`);
  });

  it('points the stream at music the repo carries: 8 kHz 16-bit mono WAV files and nothing else', () => {
    const moh = streams().find((d) => attr(d, 'name') === holdStream)!;
    expect(params(moh).get('rate')).toBe('8000');
    expect(params(moh).get('channels')).toBe('1');
    const dir = inRepo(attr(moh, 'path'));
    // mod_local_stream tries to play every file of the folder, so a stray README would be an error a minute.
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      expect(name).toMatch(/\.wav$/);
      const wav = parseWav(readFileSync(join(dir, name)));
      expect(wav, name).toMatchObject({ format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16 });
      expect(wav!.durationMs).toBeGreaterThan(5_000);
    }
  });

  it('gives the simulator the same streams (its default localStreams)', () => {
    const configured = streams().map((d) => {
      const p = params(d);
      return {
        name: attr(d, 'name'),
        location: attr(d, 'path'),
        rate: Number(p.get('rate')),
        channels: Number(p.get('channels')),
        interval: Number(p.get('interval')),
        shuffle: p.get('shuffle') === 'true',
        timerName: p.get('timer-name'),
      };
    });
    expect(SHIPPED_LOCAL_STREAMS).toEqual(configured);
  });

  it('gives the simulator the modules modules.conf.xml loads (its default modules, what `module_exists` answers)', () => {
    const { configuration } = documentOf({});
    const loaded = children(children(configuration('modules.conf'), 'modules')[0], 'load').map((l) => attr(l, 'module'));
    expect(SHIPPED_MODULES).toEqual(loaded);
  });

  it('ships the hold music bin/hold-music.mjs generates', () => {
    const out = mkdtempSync(join(tmpdir(), 'hold-music-'));
    try {
      const file = join(out, 'hold.wav');
      execFileSync(process.execPath, [join(root, 'bin', 'hold-music.mjs'), file]);
      const fresh = readFileSync(file);
      const moh = streams().find((d) => attr(d, 'name') === holdStream)!;
      const dir = inRepo(attr(moh, 'path'));
      const shipped = readFileSync(join(dir, readdirSync(dir)[0]!));
      const a = parseWav(fresh)!;
      const b = parseWav(shipped)!;
      expect(b.dataBytes).toBe(a.dataBytes);
      // Sample for sample, allowing one step of rounding between Node versions' Math.sin.
      let worst = 0;
      for (let i = 0; i < a.dataBytes; i += 2) {
        worst = Math.max(worst, Math.abs(fresh.readInt16LE(a.dataOffset + i) - shipped.readInt16LE(b.dataOffset + i)));
      }
      expect(worst).toBeLessThanOrEqual(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
