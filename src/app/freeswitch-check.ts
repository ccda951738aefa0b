// `callbridge freeswitch check`: asks an operator's FreeSWITCH, over its event socket, everything callbridge
// needs from it, and says per item whether it holds. Each check is one or two API commands with replies as
// FreeSWITCH 1.10 writes them; a check that cannot run (no connection) is reported as skipped, never as passed.
// The report is data; freeswitch-check-report.ts turns it into the table or JSON the operator reads.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { EslAuthError } from '../core/errors.ts';
import { InboundEslClient, parseGatewayStatus, gatewayStatusCommand, replyText, type EslConnection, type EslEvent } from '../esl/index.ts';
import { parseSofiaSummary } from '../esl/sofia-status.ts';
import { wavHeader } from '../voice/tts/index.ts';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable key for scripts: `esl`, `module:mod_audio_fork`, `gateway:threecx`, `dir:recordings` … */
  id: string;
  /** What the operator reads in the table. */
  name: string;
  status: CheckStatus;
  /** One line: what was seen, and for a failure what it breaks or what to fix. */
  detail: string;
}

export interface FreeswitchCheckReport {
  /** True when every check passed (a skipped one is not a pass). */
  ok: boolean;
  freeswitch: { host: string; port: number };
  checks: CheckResult[];
}

export interface SharedDir {
  /** Stable key in the JSON output, e.g. `tts_cache`. */
  id: string;
  /** What the operator reads, e.g. `TTS cache`. */
  name: string;
  /** The environment variable that sets it (named in failures). */
  variable: string;
  /** Absolute, as the controller resolves it. */
  path: string;
}

export interface FreeswitchCheckOptions {
  esl: { host: string; port: number; password: string };
  /** The SIP profile facing 3CX (freeswitch/sip_profiles/threecx.xml). */
  profile: string;
  /** Gateways the controller dials through, with the variable naming each. */
  gateways: ReadonlyArray<{ name: string; variable: string }>;
  /** The mod_local_stream stream warm transfers play (`local_stream://moh`). */
  holdStream: string;
  /** How FreeSWITCH should reach the controller's outbound-socket listener. */
  controllerSocket: { host: string; port: number };
  sharedDirs: readonly SharedDir[];
  /** Per command and per connection attempt (ms). */
  timeoutMs: number;
}

// Why each module matters, said where it fails.
const MODULES: ReadonlyArray<[name: string, without: string]> = [
  ['mod_sofia', 'no SIP: no calls from 3CX, no transfers'],
  ['mod_audio_fork', 'uuid_audio_fork is missing: the AI agent cannot hear callers (FreeSWITCH needs drachtio’s mod_audio_fork)'],
  ['mod_local_stream', 'local_stream:// is missing: callers on hold wait in silence'],
  ['mod_flite', '`speak` is missing: no last-resort voice when text-to-speech fails'],
];

// Registration states that let calls through: NOREG is a register=false trunk (3CX, Twilio), REGED a registered one.
const USABLE_STATES: ReadonlySet<string> = new Set(['NOREG', 'REGED']);

export async function runFreeswitchCheck(options: FreeswitchCheckOptions): Promise<FreeswitchCheckReport> {
  const { host, port } = options.esl;
  const results: CheckResult[] = [];
  const report = (): FreeswitchCheckReport => ({ ok: results.every((r) => r.status === 'pass'), freeswitch: { host, port }, checks: results });
  const client = new InboundEslClient({
    host,
    port,
    password: options.esl.password,
    // Only our own test channels' events are wanted; filters narrow it to them (see playFrom).
    events: ['CHANNEL_EXECUTE_COMPLETE'],
    connectTimeoutMs: options.timeoutMs,
    connection: { commandTimeoutMs: options.timeoutMs },
  });
  try {
    const connection = await connectOnce(client, options.timeoutMs);
    if (typeof connection === 'string') {
      results.push({ id: 'esl', name: 'event socket', status: 'fail', detail: connection });
      for (const skipped of plannedChecks(options)) results.push({ ...skipped, status: 'skip', detail: 'not checked: no event socket connection' });
      return report();
    }
    results.push(await guarded('esl', 'event socket', async () => ({ status: 'pass', detail: `authenticated at ${host}:${port} (${(await api(connection, 'version')).trim()})` })));
    for (const [module, without] of MODULES) results.push(await guarded(`module:${module}`, module, () => checkModule(connection, module, without)));
    results.push(await guarded(`local_stream:${options.holdStream}`, `hold music ${options.holdStream}`, () => checkHoldStream(connection, options.holdStream)));
    results.push(...(await checkSofia(connection, options)));
    results.push(await guarded('socket_target', 'socket target', () => checkSocketTarget(connection, options)));
    for (const dir of options.sharedDirs) results.push(await guarded(`dir:${dir.id}`, dir.name, () => checkSharedDir(connection, dir, options.timeoutMs)));
    return report();
  } finally {
    await client.stop();
  }
}

/** Every row after `esl`, to list as skipped when there is no connection. */
function plannedChecks(options: FreeswitchCheckOptions): Array<Pick<CheckResult, 'id' | 'name'>> {
  return [
    ...MODULES.map(([module]) => ({ id: `module:${module}`, name: module })),
    { id: `local_stream:${options.holdStream}`, name: `hold music ${options.holdStream}` },
    { id: `sofia_profile:${options.profile}`, name: `SIP profile ${options.profile}` },
    ...options.gateways.map((g) => ({ id: `gateway:${g.name}`, name: `gateway ${g.name}` })),
    { id: 'socket_target', name: 'socket target' },
    ...options.sharedDirs.map((d) => ({ id: `dir:${d.id}`, name: d.name })),
  ];
}

/** The first connection attempt only (the client would retry for ever): the connection, or why it failed. */
async function connectOnce(client: InboundEslClient, timeoutMs: number): Promise<EslConnection | string> {
  let onConnected: ((c: EslConnection) => void) | undefined;
  let onDisconnected: ((e: Error | undefined) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const outcome = new Promise<EslConnection | string>((resolve) => {
    onConnected = resolve;
    onDisconnected = (error) => resolve(connectFailure(error));
    timer = setTimeout(() => resolve(`no answer from the event socket within ${timeoutMs} ms`), timeoutMs);
    client.once('connected', onConnected);
    client.once('disconnected', onDisconnected);
  });
  await client.start();
  try {
    return await outcome;
  } finally {
    clearTimeout(timer);
    if (onConnected) client.off('connected', onConnected);
    if (onDisconnected) client.off('disconnected', onDisconnected);
  }
}

function connectFailure(error: Error | undefined): string {
  // The same words /ready uses: the variable to fix, never its value.
  if (error instanceof EslAuthError) return 'FreeSWITCH refused the event socket password (FREESWITCH_ESL_PASSWORD)';
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return 'nothing accepts connections there (ECONNREFUSED): is FreeSWITCH running, and FREESWITCH_ESL_HOST/PORT right?';
  return `cannot connect: ${code ?? error?.message ?? 'connection closed'}`;
}

function errorCode(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** `api <command>` and its reply text as FreeSWITCH sent it, -ERR included (these checks read the errors). */
async function api(connection: EslConnection, command: string): Promise<string> {
  return replyText(await connection.command(`api ${command}`));
}

/** A check that throws (a timeout, the socket gone) fails with the reason instead of ending the run. */
async function guarded(id: string, name: string, run: () => Promise<Omit<CheckResult, 'id' | 'name'>>): Promise<CheckResult> {
  try {
    return { id, name, ...(await run()) };
  } catch (error) {
    return { id, name, status: 'fail', detail: `no answer: ${error instanceof Error ? error.message : String(error)}` };
  }
}

async function checkModule(connection: EslConnection, module: string, without: string): Promise<Omit<CheckResult, 'id' | 'name'>> {
  const reply = (await api(connection, `module_exists ${module}`)).trim();
  if (reply === 'true') return { status: 'pass', detail: 'loaded' };
  if (reply === 'false') return { status: 'fail', detail: `not loaded: ${without}` };
  return { status: 'fail', detail: `unexpected reply to module_exists: ${reply}` };
}

async function checkHoldStream(connection: EslConnection, stream: string): Promise<Omit<CheckResult, 'id' | 'name'>> {
  const reply = await api(connection, `local_stream show ${stream}`);
  if (reply.startsWith('-ERR local_stream Command not found')) return { status: 'fail', detail: 'mod_local_stream is not loaded (it refuses to load without a stream in local_stream.conf.xml)' };
  if (reply.startsWith('-ERR')) return { status: 'fail', detail: `no stream named ${stream} in local_stream.conf.xml: warm transfers play local_stream://${stream} and callers would hear silence` };
  const location = /^\s*location:\s*(.+)$/m.exec(reply)?.[1]?.trim();
  return { status: 'pass', detail: location === undefined ? 'configured' : `plays ${location}` };
}

async function checkSofia(connection: EslConnection, options: FreeswitchCheckOptions): Promise<CheckResult[]> {
  const profileId = `sofia_profile:${options.profile}`;
  const profileName = `SIP profile ${options.profile}`;
  let summaryText: string;
  try {
    summaryText = await api(connection, 'sofia status');
  } catch (error) {
    return [await guarded(profileId, profileName, () => Promise.reject(error))];
  }
  const summary = parseSofiaSummary(summaryText);
  const rows: CheckResult[] = [];
  if (summary === undefined) {
    rows.push({ id: profileId, name: profileName, status: 'fail', detail: `no SIP status (mod_sofia not loaded?): ${summaryText.trim()}` });
  } else {
    const running = summary.profiles.get(options.profile);
    const others = [...summary.profiles.keys()];
    rows.push(
      running === undefined
        ? {
            id: profileId,
            name: profileName,
            status: 'fail',
            detail: `not running (${others.length === 0 ? 'no profile runs' : `running: ${others.join(', ')}`}); the FreeSWITCH log says why it did not start`,
          }
        : { id: profileId, name: profileName, status: 'pass', detail: `RUNNING at ${running.url}` },
    );
  }
  for (const gateway of options.gateways) {
    rows.push(await guarded(`gateway:${gateway.name}`, `gateway ${gateway.name}`, () => checkGateway(connection, gateway, options.profile)));
  }
  return rows;
}

async function checkGateway(connection: EslConnection, gateway: { name: string; variable: string }, profile: string): Promise<Omit<CheckResult, 'id' | 'name'>> {
  const parsed = parseGatewayStatus(await api(connection, gatewayStatusCommand(gateway.name)));
  if (parsed.kind === 'invalid_gateway') return { status: 'fail', detail: `FreeSWITCH has no gateway ${gateway.name} (${gateway.variable}; or its profile is not running)` };
  if (parsed.kind === 'unrecognised') return { status: 'fail', detail: `unexpected reply: ${parsed.text.trim().split('\n')[0] ?? ''}` };
  const g = parsed.gateway;
  const facts = `${g.status}, ${g.state}${g.pingFreqSec > 0 ? `, OPTIONS ping every ${g.pingFreqSec} s` : ''}`;
  if (g.profile !== profile) return { status: 'fail', detail: `${facts}, but on profile ${g.profile}, not ${profile}` };
  if (g.status !== 'UP') return { status: 'fail', detail: `${facts}: calls through it fail at once with GATEWAY_DOWN${g.pingFreqSec > 0 ? ' (its OPTIONS pings go unanswered)' : ''}` };
  if (!USABLE_STATES.has(g.state)) return { status: 'fail', detail: `${facts}: registration ${g.state}` };
  return { status: 'pass', detail: facts };
}

/**
 * What FreeSWITCH's dialplan dials is `$${controller_host}:$${controller_port}` (freeswitch/vars.xml), read back
 * with `global_getvar`; it must be the controller's advertised address, and something must accept a TCP
 * connection there from this machine. Only a real call proves that FreeSWITCH's own network reaches it.
 */
async function checkSocketTarget(connection: EslConnection, options: FreeswitchCheckOptions): Promise<Omit<CheckResult, 'id' | 'name'>> {
  const host = (await api(connection, 'global_getvar controller_host')).trim();
  const port = (await api(connection, 'global_getvar controller_port')).trim();
  const expected = options.controllerSocket;
  if (host === '' || port === '') {
    return { status: 'fail', detail: 'FreeSWITCH has no controller_host/controller_port variables (not the shipped vars.xml?): where its dialplan sends calls is unknown' };
  }
  if (host !== expected.host || port !== String(expected.port)) {
    return {
      status: 'fail',
      detail: `FreeSWITCH dials ${host}:${port} but the controller is ${expected.host}:${expected.port} (CONTROLLER_SOCKET_ADVERTISED_HOST, CONTROLLER_SOCKET_PORT); calls would go to the fallback`,
    };
  }
  const refused = await tcpProbe(host, Number(port), options.timeoutMs);
  if (refused !== undefined) return { status: 'fail', detail: `FreeSWITCH dials ${host}:${port}, but nothing accepts connections there from here (${refused}): is the controller running?` };
  return { status: 'pass', detail: `FreeSWITCH dials ${host}:${port}, the controller's listener, which accepted a connection from here (only a real call proves FreeSWITCH's network reaches it)` };
}

/** Undefined when a TCP connection was accepted (and closed at once), else why not. */
function tcpProbe(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (reason: string | undefined): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(reason);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(undefined));
    socket.once('error', (error) => done(errorCode(error) ?? error.message));
  });
}

/** 200 ms of 8 kHz silence: small, and a format mod_sndfile opens everywhere. */
function silentWav(): Buffer {
  const samples = Buffer.alloc(3200);
  return Buffer.concat([wavHeader({ encoding: 'LINEAR16', sampleRate: 8000, dataBytes: samples.length }), samples]);
}

/**
 * Writes a WAV file into `dir` here and has FreeSWITCH play it on a `null/` channel (mod_loopback's endpoint
 * with no far end): `FILE PLAYED` proves FreeSWITCH opens files at that path as this machine wrote them.
 */
async function checkSharedDir(connection: EslConnection, dir: SharedDir, timeoutMs: number): Promise<Omit<CheckResult, 'id' | 'name'>> {
  // originate splits its arguments on spaces: a path with one cannot be played this way (nor by the controller).
  if (/\s/.test(dir.path)) return { status: 'fail', detail: `${dir.variable} contains whitespace, which FreeSWITCH commands cannot carry` };
  const file = join(dir.path, `callbridge-check-${randomBytes(6).toString('hex')}.wav`);
  try {
    await mkdir(dir.path, { recursive: true });
    await writeFile(file, silentWav(), { mode: 0o644 });
  } catch (error) {
    return { status: 'fail', detail: `cannot write ${file} here: ${errorCode(error) ?? String(error)}` };
  }
  try {
    const response = await playOnNullChannel(connection, file, timeoutMs);
    if (response === 'FILE PLAYED') return { status: 'pass', detail: `FreeSWITCH played ${file}, written here: both see ${dir.path}` };
    if (response === 'FILE NOT FOUND') {
      return { status: 'fail', detail: `FreeSWITCH cannot find ${file}, written here: ${dir.variable}=${dir.path} is another directory on its side (mount one volume at the same path in both)` };
    }
    return { status: 'fail', detail: `FreeSWITCH could not play ${file}: ${response}` };
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

/** The playback's Application-Response, or what went wrong before it ran. */
async function playOnNullChannel(connection: EslConnection, file: string, timeoutMs: number): Promise<string> {
  const uuid = randomUUID();
  await connection.filter({ header: 'Unique-ID', value: uuid });
  const completed = waitForEvent(connection, (e) => e.uniqueId === uuid && e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.headers.get('Application') === 'playback', timeoutMs);
  try {
    const reply = await api(connection, `originate {origination_uuid=${uuid},originate_timeout=5}null/callbridge-check &playback(${file})`);
    if (!reply.startsWith('+OK')) {
      completed.cancel();
      return `the test channel was refused (${reply.trim()}; it needs mod_loopback's null endpoint)`;
    }
    const event = await completed.promise;
    return event.headers.get('Application-Response') ?? 'no Application-Response';
  } finally {
    completed.cancel();
    await connection.filterDelete({ header: 'Unique-ID', value: uuid }).catch(() => undefined);
  }
}

function waitForEvent(connection: EslConnection, match: (event: EslEvent) => boolean, timeoutMs: number): { promise: Promise<EslEvent>; cancel(): void } {
  let cleanup = (): void => undefined;
  const promise = new Promise<EslEvent>((resolve, reject) => {
    const onEvent = (event: EslEvent): void => {
      if (!match(event)) return;
      cleanup();
      resolve(event);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the playback did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    cleanup = () => {
      clearTimeout(timer);
      connection.off('event', onEvent);
    };
    connection.on('event', onEvent);
  });
  promise.catch(() => undefined);
  return { promise, cancel: () => cleanup() };
}
