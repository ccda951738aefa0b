// docker-compose.yml and .env.example are what an operator deploys from. These checks catch the mistakes that
// only show at `docker compose up` on the practice's server: a variable nobody documented, a volume or
// dependency that does not exist, ports that drifted from the controller's defaults, FreeSWITCH and the
// controller looking for recordings in different places.
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.ts';
import { interpolate } from '../support/compose-env.ts';
import { configParam, envVariableOf, freeswitchGlobals } from '../support/freeswitch-vars.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const exampleText = readFileSync(join(root, '.env.example'), 'utf8');

interface Service {
  image?: string;
  environment?: Record<string, string | number>;
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  healthcheck?: { test?: unknown };
  depends_on?: Record<string, { condition?: string }> | string[];
  networks?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, unknown>;
}
const compose = parseYaml(composeText, { merge: true }) as Compose;

/** Names set in .env.example (`NAME=value` lines, comments excluded). */
const documented = new Set([...exampleText.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));


// The values compose refuses to start without; everything else keeps its default.
const REQUIRED = {
  FREESWITCH_ESL_PASSWORD: 'test-esl-password',
  CALLBRIDGE_API_TOKEN: 'test-token-0123456789',
  POSTGRES_PASSWORD: 'test-pg-password',
  FREESWITCH_EXTERNAL_IP: '198.51.100.7',
  THREECX_SIP_HOST: '192.0.2.10',
  THREECX_SIP_CIDR: '192.0.2.10/32',
};
const envOf = (service: string) =>
  Object.fromEntries(Object.entries(compose.services[service]?.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), REQUIRED)]));
const defaults = loadConfig({}, { mode: 'demo' });

/** docker-compose (v1) or the docker compose plugin, by absolute path: the check runs with a clean environment. */
function composeBinary(): string[] | undefined {
  const which = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  const v1 = which('docker-compose');
  if (v1 && spawnSync(v1, ['version'], { stdio: 'ignore' }).status === 0) return [v1];
  const docker = which('docker');
  if (docker && spawnSync(docker, ['compose', 'version'], { stdio: 'ignore' }).status === 0) return [docker, 'compose'];
  return undefined;
}
const binary = composeBinary();

describe('docker-compose.yml', () => {
  it('defines the whole stack, each service with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['controller', 'freeswitch', 'postgres', 'redis', 'worker']);
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.healthcheck?.test, `${name} has no health check`).toBeDefined();
    }
  });

  it('documents in .env.example every variable it reads', () => {
    const withoutComments = composeText.replace(/^\s*#.*$/gm, '');
    const used = new Set([...withoutComments.matchAll(/(?<!\$)\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
    expect(used.size).toBeGreaterThan(20);
    const missing = [...used].filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it('declares every named volume and network it mounts, and depends only on services that exist', () => {
    const declaredVolumes = Object.keys(compose.volumes ?? {});
    const declaredNetworks = Object.keys(compose.networks ?? {});
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of (service.volumes ?? []).map((v) => interpolate(v, REQUIRED))) {
        const source = volume.split(':')[0]!;
        // Bind mounts start with . or /; a bare container path is an anonymous volume.
        if (source.startsWith('.') || source.startsWith('/') || !volume.includes(':')) continue;
        expect(declaredVolumes, `${name} mounts undeclared volume ${source}`).toContain(source);
      }
      for (const network of service.networks ?? []) expect(declaredNetworks).toContain(network);
      const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
      for (const dep of deps) expect(Object.keys(compose.services), `${name} depends on ${dep}`).toContain(dep);
    }
  });

  it('publishes the controller on its default ports and points it at FreeSWITCH with the same ESL settings', () => {
    const controller = compose.services.controller!;
    const env = envOf('controller');
    expect(Number(env.HTTP_PORT)).toBe(defaults.http.port);
    expect(controller.ports?.map((p) => interpolate(p, {}))).toContain(`${defaults.http.port}:${defaults.http.port}`);
    expect(Number(env.CONTROLLER_SOCKET_PORT)).toBe(defaults.controllerSocket.port);
    expect(controller.expose).toContain(String(defaults.controllerSocket.port));
    expect(Number(env.FREESWITCH_ESL_PORT)).toBe(defaults.freeswitch.eslPort);
    const fs = envOf('freeswitch');
    expect(env.FREESWITCH_ESL_HOST).toBe('freeswitch');
    expect(fs.FREESWITCH_ESL_PORT).toBe(env.FREESWITCH_ESL_PORT);
    expect(fs.FREESWITCH_ESL_PASSWORD).toBe(env.FREESWITCH_ESL_PASSWORD);
    expect(fs.CONTROLLER_SOCKET_PORT).toBe(env.CONTROLLER_SOCKET_PORT);
    // The event socket's ACL admits exactly the compose network.
    const subnet = (compose.networks?.callbridge as { ipam: { config: { subnet: string }[] } }).ipam.config[0]!.subnet;
    expect(fs.CALLBRIDGE_NETWORK_CIDR).toBe(interpolate(subnet, {}));
  });

  it('publishes the SIP port and the RTP range FreeSWITCH is configured with', () => {
    const vars = readFileSync(join(root, 'freeswitch', 'vars.xml'), 'utf8');
    const varDefault = (name: string) => new RegExp(`cmd="set" data="${name}=(\\d+)"`).exec(vars)?.[1];
    const fs = envOf('freeswitch');
    const ports = (compose.services.freeswitch!.ports ?? []).map((p) => interpolate(p, REQUIRED));
    expect(fs.FREESWITCH_RTP_START_PORT).toBe(varDefault('rtp_start_port'));
    expect(fs.FREESWITCH_RTP_END_PORT).toBe(varDefault('rtp_end_port'));
    const range = `${fs.FREESWITCH_RTP_START_PORT}-${fs.FREESWITCH_RTP_END_PORT}`;
    expect(ports).toContain(`${range}:${range}/udp`);
    expect(ports).toContain(`${fs.FREESWITCH_SIP_PORT}:${fs.FREESWITCH_SIP_PORT}/udp`);
    expect(fs.FREESWITCH_SIP_PORT).toBe(varDefault('sip_port'));
  });

  it('shares the recordings and TTS cache volumes between FreeSWITCH, the controller and the worker at the same paths', () => {
    for (const service of ['freeswitch', 'controller', 'worker']) {
      const mounts = compose.services[service]!.volumes ?? [];
      const env = envOf(service);
      expect(mounts).toContain(`recordings:${env.RECORDINGS_DIR}`);
      expect(mounts).toContain(`tts-cache:${env.TTS_CACHE_DIR}`);
    }
    expect(envOf('freeswitch').RECORDINGS_DIR).toBe(envOf('controller').RECORDINGS_DIR);
  });

  it('mounts the FreeSWITCH configuration read-only and starts FreeSWITCH on it', () => {
    const fs = compose.services.freeswitch!;
    const mount = fs.volumes?.find((v) => v.startsWith('./freeswitch:'));
    expect(mount).toMatch(/:ro$/);
    const confPath = mount!.split(':')[1]!;
    const command = (fs as { command?: string[] }).command ?? [];
    expect(command[command.indexOf('-conf') + 1]).toBe(confPath);
  });

  it.skipIf(binary === undefined)(
    'is accepted by `docker compose config` with .env.example (skipped when no docker compose binary is installed)',
    () => {
      const [cmd, ...args] = binary!;
      const result = spawnSync(cmd!, [...args, '--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '--quiet'], {
        cwd: root,
        env: { ...REQUIRED },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      // …and refuses to render without the secrets.
      const refused = spawnSync(cmd!, [...args, '--env-file', '.env.example', '-f', 'docker-compose.yml', 'config', '--quiet'], {
        cwd: root,
        env: {},
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/FREESWITCH_ESL_PASSWORD|POSTGRES_PASSWORD|CALLBRIDGE_API_TOKEN/);
    },
  );
});

// Issue 12: what `docker compose up` on the practice's server actually publishes, mounts, builds and probes.
type PortSpec = string | { published?: string | number; target?: string | number; protocol?: string };
interface Deployed {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | null>;
  volumes?: (string | { source?: string; target?: string; read_only?: boolean; type?: string })[];
  ports?: PortSpec[];
  healthcheck?: { test?: string[] };
}

/** Each published port as `host->container/protocol`, ranges expanded (compose's short and long forms). */
function publishedPorts(ports: readonly PortSpec[], env: Record<string, string>): Set<string> {
  const out = new Set<string>();
  const add = (host: string, container: string, protocol: string) => {
    const [hs, he = hs] = host.split('-').map(Number) as [number, number?];
    const [cs] = container.split('-').map(Number) as [number];
    for (let i = 0; i <= he - hs; i++) out.add(`${hs + i}->${cs + i}/${protocol}`);
  };
  for (const port of ports) {
    if (typeof port === 'string') {
      const m = /^(?:[\d.]+:)?(\d+(?:-\d+)?):(\d+(?:-\d+)?)(?:\/(udp|tcp))?$/.exec(interpolate(port, env));
      if (!m) throw new Error(`unreadable port mapping ${port}`);
      add(m[1]!, m[2]!, m[3] ?? 'tcp');
    } else {
      add(String(port.published), String(port.target), port.protocol ?? 'tcp');
    }
  }
  return out;
}

const range = (start: number, end: number) => Array.from({ length: end - start + 1 }, (_, i) => start + i);

/** `docker compose config` of the stack with .env.example and these variables, parsed. */
function rendered(env: Record<string, string>): { services: Record<string, Deployed> } {
  const [cmd, ...args] = binary!;
  const result = spawnSync(cmd!, [...args, '--env-file', '.env.example', '-f', 'docker-compose.yml', 'config'], {
    cwd: root,
    env: { ...REQUIRED, ...env },
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(result.status, result.stderr).toBe(0);
  return parseYaml(result.stdout) as { services: Record<string, Deployed> };
}

const deployed = compose.services as unknown as Record<string, Deployed>;
const envExample = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(exampleText)?.[1];

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function dockerfileStages(text: string): { from: string; instructions: { op: string; args: string }[] }[] {
  const stages: { from: string; instructions: { op: string; args: string }[] }[] = [];
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of logical) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op!.toUpperCase() === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ op: op!.toUpperCase(), args });
  }
  return stages;
}

describe('docker-compose.yml deployment: ports, RTP capacity, TLS certificates, readiness, image', () => {
  // Not the defaults, so a port that ignores its variable shows.
  const MOVED = {
    FREESWITCH_SIP_PORT: '5090',
    FREESWITCH_TLS_PORT: '5091',
    FREESWITCH_RTP_START_PORT: '30000',
    FREESWITCH_RTP_END_PORT: '30999',
  };

  const checkMovedPorts = (published: Set<string>, fsEnv: Record<string, unknown>) => {
    for (const p of ['5090->5090/udp', '5090->5090/tcp', '5091->5091/tcp']) expect(published, p).toContain(p);
    const rtp = range(30000, 30999).filter((port) => published.has(`${port}->${port}/udp`));
    expect(rtp.length).toBe(1000);
    // Nothing is still published on the defaults.
    expect([...published].filter((p) => /^(5080|5081|20\d{3})->/.test(p))).toEqual([]);
    // …and FreeSWITCH is told the same ports, so it binds and advertises (SDP) what the host forwards.
    const env = Object.fromEntries(Object.entries(fsEnv).map(([k, v]) => [k, String(v)]));
    expect(freeswitchGlobals(env).get('sip_port')).toBe('5090');
    expect(freeswitchGlobals(env).get('tls_port')).toBe('5091');
    expect(configParam('sip_profiles/threecx.xml', 'sip-port', env)).toBe('5090');
    expect(configParam('autoload_configs/switch.conf.xml', 'rtp-start-port', env)).toBe('30000');
    expect(configParam('autoload_configs/switch.conf.xml', 'rtp-end-port', env)).toBe('30999');
  };

  it('publishes SIP, SIP over TLS and the RTP range on the ports FREESWITCH_* name, host port = container port', () => {
    const env = { ...REQUIRED, ...MOVED };
    const fsEnv = Object.fromEntries(Object.entries(deployed.freeswitch!.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), env)]));
    checkMovedPorts(publishedPorts(deployed.freeswitch!.ports ?? [], env), fsEnv);
  });

  it.skipIf(binary === undefined)('renders those ports with `docker compose config` (skipped without a docker compose binary)', () => {
    const fs = rendered(MOVED).services.freeswitch!;
    checkMovedPorts(publishedPorts(fs.ports ?? [], {}), fs.environment ?? {});
  });

  it('sizes the default RTP range for 150 bridged calls, the same range FreeSWITCH allocates from', () => {
    const fsEnv = envOf('freeswitch');
    const start = Number(fsEnv.FREESWITCH_RTP_START_PORT);
    const end = Number(fsEnv.FREESWITCH_RTP_END_PORT);
    // A bridged call has two legs (caller, 3CX agent); each leg takes an RTP and an RTCP port.
    expect(end - start + 1).toBeGreaterThanOrEqual(150 * 2 * 2);
    // FreeSWITCH reads the range from its own configuration: with the compose environment, with the values an
    // operator copies from .env.example, and started outside compose with no environment at all.
    for (const env of [fsEnv, { FREESWITCH_RTP_START_PORT: envExample('FREESWITCH_RTP_START_PORT'), FREESWITCH_RTP_END_PORT: envExample('FREESWITCH_RTP_END_PORT') }, {}]) {
      expect(configParam('autoload_configs/switch.conf.xml', 'rtp-start-port', env)).toBe(String(start));
      expect(configParam('autoload_configs/switch.conf.xml', 'rtp-end-port', env)).toBe(String(end));
    }
    const publishedUdp = [...publishedPorts(deployed.freeswitch!.ports ?? [], REQUIRED)].filter((p) => p.endsWith('/udp')).map((p) => Number(p.split('->')[0]));
    expect(range(start, end).every((port) => publishedUdp.includes(port))).toBe(true);
  });

  it('mounts the TLS certificates read-only at the directory the threecx profile reads agent.pem and cafile.pem from', () => {
    const fsEnv = envOf('freeswitch');
    const certDir = configParam('sip_profiles/threecx.xml', 'tls-cert-dir', { ...fsEnv, FREESWITCH_SIP_TLS: 'true' });
    expect(certDir).toMatch(/^\//);
    const mount = (deployed.freeswitch!.volumes ?? []).map((v) => interpolate(String(v), REQUIRED)).find((v) => v.split(':')[1] === certDir);
    expect(mount, `no volume mounted at ${certDir}`).toBeDefined();
    expect(mount).toMatch(/:ro$/);
    // The directory is the operator's: a variable names it and .env.example documents it.
    const source = /^\$\{([A-Z0-9_]+):-([^}]+)\}:/.exec(String(deployed.freeswitch!.volumes!.find((v) => String(v).includes(`:${certDir}:`))));
    expect(source?.[1]).toBeDefined();
    expect(documented).toContain(source![1]);
    // FreeSWITCH outside compose keeps its own default directory.
    expect(envVariableOf('tls_cert_dir')).toBeDefined();
    expect(configParam('sip_profiles/threecx.xml', 'tls-cert-dir', {})).toBe('/usr/local/freeswitch/certs');
  });

  it('marks the controller healthy only while /ready answers 200, not merely while the process is alive', async () => {
    const test = deployed.controller!.healthcheck?.test ?? [];
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const script = test[3]!;
    const httpPort = envOf('controller').HTTP_PORT;
    expect(script).toContain(`http://127.0.0.1:${httpPort}/`);
    let readyStatus = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/ready' ? readyStatus : req.url === '/health' ? 200 : 404;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const probe = () =>
      new Promise<number>((resolve) => {
        execFile(process.execPath, ['-e', script.replace(`127.0.0.1:${httpPort}`, `127.0.0.1:${port}`)], { timeout: 10_000 }, (error) =>
          resolve(error ? Number((error as { code?: number }).code ?? 1) : 0),
        );
      });
    try {
      expect(await probe()).toBe(0);
      readyStatus = 503;
      expect(await probe()).not.toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runs the controller and the worker from an image built once, with no npm ci at start and no source mount', () => {
    for (const name of ['controller', 'worker']) {
      const service = deployed[name]!;
      expect(service.build, `${name} is not built from the Dockerfile`).toBeDefined();
      const command = [service.command ?? []].flat().join(' ');
      expect(command, name).not.toMatch(/npm (ci|install|i\b)/);
      const mounts = (service.volumes ?? []).map(String);
      expect(mounts.filter((m) => /^\.\/?:/.test(m) || m.split(':')[1] === '/app'), name).toEqual([]);
      expect(mounts.filter((m) => m.startsWith('/app/node_modules')), name).toEqual([]);
    }
    expect(deployed.worker!.image).toBe(deployed.controller!.image);
  });

  it('builds that image in stages: npm ci once at build time, run by a non-root user on node 20', () => {
    expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
    const stages = dockerfileStages(readFileSync(join(root, 'Dockerfile'), 'utf8'));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:20[-.\w]*(\s+AS\s+\w+)?$/i);
    const final = stages.at(-1)!;
    const builders = stages.slice(0, -1);
    expect(builders.some((s) => s.instructions.some((i) => i.op === 'RUN' && /npm ci\b/.test(i.args)))).toBe(true);
    expect(final.instructions.filter((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args))).toEqual([]);
    expect(final.instructions.some((i) => i.op === 'COPY' && /--from=\w+/.test(i.args) && i.args.includes('node_modules'))).toBe(true);
    const user = final.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    // What the controller reads at run time is in the image.
    const copied = final.instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from')).map((i) => i.args).join(' ');
    for (const path of ['bin', 'src', 'sql', 'dialplan', 'package.json']) expect(copied, path).toMatch(new RegExp(`(^|\\s)\\.?/?${path}/?(\\s|$)`));
    expect(final.instructions.find((i) => i.op === 'CMD')?.args).toContain('bin/callbridge.mjs');
    // The named volumes the services mount start out owned by that user (Docker copies the image's ownership
    // into an empty volume); otherwise the non-root controller cannot write recordings or the TTS cache.
    const run = final.instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ');
    const env = envOf('controller');
    for (const dir of [env.RECORDINGS_DIR, env.TTS_CACHE_DIR, env.RECORDING_STORAGE_DIR]) expect(run, dir).toContain(dir);
    expect(run).toMatch(/chown/);
  });

  it('keeps dependencies, history, recordings and secrets out of the image build context (.dockerignore)', () => {
    expect(existsSync(join(root, '.dockerignore'))).toBe(true);
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^\/|\/$/g, '').replace(/^\*\*\//, ''))
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const entry of ['node_modules', '.git', '.env', 'data', 'certs']) expect(ignored, entry).toContain(entry);
  });
});

describe('.env.example', () => {
  it('lists every variable the controller reads (src/app/config.ts)', () => {
    const configSource = readFileSync(join(root, 'src', 'app', 'config.ts'), 'utf8');
    const read = [...configSource.matchAll(/^\s{4}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(read).toContain('CONTROLLER_SOCKET_PORT');
    expect(read.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('lists the variables operators already know from the design', () => {
    for (const name of [
      'EMERGENCY_TRANSFER_NUMBER',
      'EMERGENCY_MANAGER_EXTENSION',
      'EMERGENCY_NOTIFICATION_SMS',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_PHONE_NUMBER',
      'CALL_RECORDING_ENCRYPTION_KEY',
      'RETENTION_PERIOD_YEARS',
      'FAILOVER_TIMEOUT_SECONDS',
      'VOICE_QUALITY_THRESHOLD',
      'AI_ENGINE_URL',
    ]) {
      expect(documented, name).toContain(name);
    }
    for (const prefix of ['THREECX_', 'SPEECHMATICS_', 'GOOGLE_TTS_', 'FREESWITCH_ESL_']) {
      expect([...documented].some((name) => name.startsWith(prefix)), prefix).toBe(true);
    }
  });

  it('explains every variable with a comment and holds no secret values', () => {
    const lines = exampleText.split('\n');
    lines.forEach((line, i) => {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      if (!m) return;
      // Each variable sits under a comment, directly or within a group of related variables.
      const above = lines.slice(0, i).reverse().find((l) => !/^[A-Z][A-Z0-9_]*=/.test(l));
      expect(above?.startsWith('#'), `${m[1]} has no comment`).toBe(true);
      if (/PASSWORD|SECRET|TOKEN|_KEY$|SID$/.test(m[1]!)) expect(m[2], `${m[1]} must be empty in the example`).toBe('');
    });
  });
});
