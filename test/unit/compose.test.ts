// docker-compose.yml and .env.example are what an operator deploys from. These checks catch the mistakes that
// only show at `docker compose up` on the practice's server: a variable nobody documented, a volume or
// dependency that does not exist, ports that drifted from the controller's defaults, FreeSWITCH and the
// controller looking for recordings in different places.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.ts';
import { interpolate } from '../support/compose-env.ts';

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
      for (const volume of service.volumes ?? []) {
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
    const ports = compose.services.freeswitch!.ports ?? [];
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
      'PSTN_BACKUP_ENABLED',
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
