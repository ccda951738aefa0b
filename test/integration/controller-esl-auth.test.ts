// A controller started with the wrong FREESWITCH_ESL_PASSWORD, as an operator would see it: FreeSWITCH (the
// simulator, which refuses a wrong password with the recorded bytes of FreeSWITCH 1.10.12) refuses every
// attempt. /ready must say why, /health stays a liveness answer, and the log says it once as an error instead
// of a warning with a stack trace per reconnect.
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/app/free-port.ts';
import type { Database } from '../../src/db/index.ts';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { driverFixtures } from './db-fixture.ts';
import { eventually, startHarness, type Harness } from '../support/controller-harness.ts';

const pglite = driverFixtures().find((f) => f.kind === 'pglite')!;
const TRACE_DIR = join(import.meta.dirname, '..', 'fixtures', 'freeswitch-traces');
const CONTROLLER_PASSWORD = 'not-the-freeswitch-password';

/** A TCP relay in front of FreeSWITCH's event socket: counts the controller's attempts, can be re-pointed. */
class EslRelay {
  connections = 0;
  target: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: number) {
    this.target = target;
    this.#server = createServer((client) => {
      this.connections++;
      const upstream = connect(this.target, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}
const ERROR = 50;
const INFO = 30;

describe('a wrong event socket password', () => {
  let database: Database;
  let harness: Harness | undefined;
  let relay: EslRelay | undefined;
  let rightPassword: FreeSwitchSimulator | undefined;

  beforeAll(async () => {
    database = await pglite.setup();
  });
  afterAll(async () => {
    await pglite.teardown();
  });
  afterEach(async () => {
    await harness?.close();
    await rightPassword?.stop();
    await relay?.close();
    harness = relay = rightPassword = undefined;
  });

  it('the simulator refuses it with the bytes real FreeSWITCH sends, then closes the socket', async () => {
    const simulator = new FreeSwitchSimulator({ password: 'ClueCon', writeRecordings: false });
    const { eslPort } = await simulator.start();
    try {
      const socket = connect(eslPort, '127.0.0.1');
      let received = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        const first = received.length === 0;
        received = Buffer.concat([received, data]);
        if (first) socket.write(readFileSync(join(TRACE_DIR, 'inbound-auth-wrong-password.client-to-fs.raw')));
      });
      await new Promise((resolve) => socket.on('close', resolve));
      expect(received.toString()).toBe(readFileSync(join(TRACE_DIR, 'inbound-auth-wrong-password.fs-to-client.raw'), 'utf8'));
    } finally {
      await simulator.stop();
    }
  });

  it('/ready names the password, /health stays ok, the log says it once as an error, and once connected, once as info', async () => {
    const simulatorPort = await freePort();
    relay = new EslRelay(simulatorPort);
    const relayPort = await freePort();
    await relay.listen(relayPort);
    harness = await startHarness({
      database,
      simulator: { eslPort: simulatorPort, password: 'ClueCon' },
      env: { FREESWITCH_ESL_PORT: String(relayPort), FREESWITCH_ESL_PASSWORD: CONTROLLER_PASSWORD },
      waitForFreeSwitch: false,
    });
    const url = (path: string) => `http://127.0.0.1:${harness!.controller.addresses.http.port}${path}`;
    const logs = () => harness!.logLines.map((line) => JSON.parse(line) as LogLine);

    // Several refused attempts (the retry waits ESL_RECONNECT_MAX_MS each time), with /ready asked between.
    await eventually(() => relay!.connections >= 4, 'four refused ESL attempts');
    const ready = await fetch(url('/ready'));
    expect(ready.status).toBe(503);
    const report = (await ready.json()) as { failing: string[]; checks: Record<string, { status: string; detail?: string }> };
    expect(report.failing).toEqual(['esl']);
    expect(report.checks.esl?.status).toBe('fail');
    expect(report.checks.esl?.detail).toBe('FreeSWITCH refused the event socket password (FREESWITCH_ESL_PASSWORD)');
    expect(JSON.stringify(report)).not.toContain(CONTROLLER_PASSWORD);
    // Liveness: restarting the process would not fix a password, so /health does not ask for it.
    expect((await fetch(url('/health'))).status).toBe(200);
    await eventually(() => relay!.connections >= 6, 'two more refused ESL attempts');

    const refused = logs().filter((line) => /password/i.test(line.msg));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: ERROR, msg: 'FreeSWITCH refused the event socket password (FREESWITCH_ESL_PASSWORD); retrying' });
    expect(logs().filter((line) => line.level >= ERROR)).toHaveLength(1);
    expect(harness.logLines.join('\n')).not.toMatch(/"stack"|\n\s+at /);
    expect(harness.logLines.join('\n')).not.toContain(CONTROLLER_PASSWORD);

    // The operator fixes FreeSWITCH's side: the next attempt is accepted, said once at info.
    rightPassword = new FreeSwitchSimulator({
      eslPort: 0,
      password: CONTROLLER_PASSWORD,
      socketTarget: { host: '127.0.0.1', port: harness.controller.addresses.outboundSocket.port },
      timeScale: 0.05,
    });
    relay.target = (await rightPassword.start()).eslPort;
    await harness.controller.waitForFreeSwitch({ timeoutMs: 5000 });
    expect((await fetch(url('/ready'))).status).toBe(200);
    expect(logs().filter((line) => line.msg === 'inbound ESL connected')).toEqual([expect.objectContaining({ level: INFO })]);
    expect(logs().filter((line) => line.level >= ERROR)).toHaveLength(1);
  });
});
