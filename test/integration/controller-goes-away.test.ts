// The controller going away while FreeSWITCH holds calls for it, as mod_event_socket 1.10 handles it:
// - a call whose outbound socket dies before the controller said `connect` stays in the `socket`
//   application, unanswered and ringing, until the caller hangs up (socket_function waits for the
//   connect while the channel is ready; nothing else ends that wait): the next controller must find it
//   and take it, once;
// - a controller killed mid-call (it had sent `resume`): FreeSWITCH's dialplan goes on after `socket` to
//   the 3CX reception fallback, and the restarted controller keeps the call's row and records how it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { AdoptedCall } from '../../src/call/adopted-call.ts';
import { CallSession } from '../../src/call/call-session.ts';
import { freePort } from '../../src/app/free-port.ts';
import { calls, DrizzleCallStore, migrate, openDatabase, type Database } from '../../src/db/index.ts';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { createScratchPostgres, type ScratchPostgres } from './db-fixture.ts';
import { eventually, startHarness, TEST_ROUTING_FILE, type Harness } from '../support/controller-harness.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A controller process dying with FreeSWITCH's connection in its accept queue: the connection was
 * established, then it is reset before a byte is sent (FreeSWITCH never hears `connect`).
 */
async function dyingController(port: number): Promise<{ server: Server; accepted: () => number; closed: () => boolean }> {
  let accepted = 0;
  let closed = false;
  const server = createServer((socket: Socket) => {
    accepted++;
    setTimeout(() => socket.resetAndDestroy(), 20);
    socket.once('close', () => (closed = true));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, accepted: () => accepted, closed: () => closed };
}

describe('the controller goes away while FreeSWITCH holds calls for it (postgres)', () => {
  let scratch: ScratchPostgres | undefined;
  let database: Database | undefined;
  let harness: Harness | undefined;
  let child: ChildProcess | undefined;
  let dir: string | undefined;

  async function freshDatabase(): Promise<{ url: string; database: Database }> {
    scratch = await createScratchPostgres();
    database = await openDatabase({ url: scratch.url, pgliteDataDir: 'unused' });
    await migrate(database);
    return { url: scratch.url, database };
  }

  afterEach(async () => {
    child?.kill('SIGKILL');
    child = undefined;
    await harness?.close();
    harness = undefined;
    await database?.close();
    database = undefined;
    await scratch?.drop();
    scratch = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a ringing call whose socket died before `connect` keeps ringing in FreeSWITCH; the next controller takes it once', async () => {
    const { database: db } = await freshDatabase();
    const socketPort = await freePort();
    let caller: SimulatedCall | undefined;
    harness = await startHarness({
      database: db,
      env: { CONTROLLER_SOCKET_PORT: String(socketPort) },
      beforeController: async (simulator) => {
        const dying = await dyingController(socketPort);
        caller = simulator.placeCall({ from: '+15557780001', to: '+15559870100' });
        await eventually(() => dying.accepted() === 1, 'FreeSWITCH to reach the dying controller');
        await eventually(() => dying.closed(), 'the dying controller to reset the connection');
        // Several simulated seconds: FreeSWITCH neither drops the caller nor runs the fallback.
        await sleep(300);
        expect(caller.applications.map((a) => a.app)).toEqual(['socket']);
        expect(caller.answered).toBe(false);
        expect(simulator.activeChannels).toBe(1);
        expect(caller.applications.map((a) => a.app)).toEqual(['socket']);
        await new Promise<void>((resolve) => dying.server.close(() => resolve()));
      },
    });
    const call = caller!;
    const { controller } = harness;
    // The new controller finds the call stranded in `socket` and sends it through the dialplan again, to itself.
    await eventually(() => controller.registry.getByFsUuid(call.uuid) instanceof CallSession, 'the stranded call to reach the new controller', 15_000);
    await eventually(() => call.answered, 'the caller to be answered');
    expect(call.applications.filter((a) => a.app === 'socket')).toHaveLength(2);
    expect(call.applications.some((a) => a.app === 'bridge')).toBe(false);
    // One call, one row: not adopted beside the session.
    const rowsOf = () => db.db.select().from(calls).where(eq(calls.fsUuid, call.uuid));
    await eventually(async () => (await rowsOf()).length > 0, 'the call row');
    const rows = await rowsOf();
    expect(rows).toHaveLength(1);
    expect(controller.registry.size).toBe(1);

    call.hangup('NORMAL_CLEARING');
    await eventually(() => controller.registry.size === 0, 'the call to be released');
    const store = new DrizzleCallStore({ db: db.db });
    await eventually(async () => (await store.getCall(rows[0]!.id))?.state === 'ended', 'the row to be ended');
    expect(await store.getCall(rows[0]!.id)).toMatchObject({ hangupCause: 'NORMAL_CLEARING' });
    expect(harness.simulator.activeChannels).toBe(0);
  }, 30_000);

  it('a controller killed mid-call: the caller goes on to the 3CX reception, and the restarted controller records the call to its end', async () => {
    const { url, database: db } = await freshDatabase();
    dir = await mkdtemp(join(tmpdir(), 'callbridge-killed-'));
    const socketPort = await freePort();
    const httpPort = await freePort();
    let caller: SimulatedCall | undefined;
    let output = '';
    harness = await startHarness({
      database: db,
      env: { CONTROLLER_SOCKET_PORT: String(socketPort) },
      beforeController: async (simulator) => {
        // The first controller: `callbridge start` in its own process, killed with SIGKILL mid-call.
        child = spawn(process.execPath, ['bin/callbridge.mjs', 'start'], {
          env: {
            PATH: process.env.PATH ?? '',
            FREESWITCH_ESL_PORT: String(simulator.eslPort),
            FREESWITCH_ESL_PASSWORD: 'ClueCon',
            CONTROLLER_SOCKET_PORT: String(socketPort),
            HTTP_PORT: String(httpPort),
            CALLBRIDGE_API_TOKEN: 'killed-token-0123456789',
            DATABASE_URL: url,
            RECORDINGS_DIR: join(dir!, 'recordings'),
            ROUTING_FILE: TEST_ROUTING_FILE,
            EMERGENCY_MANAGER_EXTENSION: '110',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const ready = async () => {
          try {
            return (await fetch(`http://127.0.0.1:${httpPort}/ready`)).status === 200;
          } catch {
            return false;
          }
        };
        await eventually(ready, 'the first controller to be ready', 20_000).catch((error: unknown) => {
          throw new Error(`${(error as Error).message}\n${output}`);
        });
        caller = simulator.placeCall({ from: '+15557780002', to: '+15559870100' });
        const c = caller;
        // In conversation: answered, greeted, held in the socket application while the agent listens.
        await eventually(() => c.answered && c.applications.some((a) => a.app === 'park'), 'the call to be in conversation', 10_000);
        const store = new DrizzleCallStore({ db: db.db });
        await eventually(async () => (await store.listUnendedCalls()).some((r) => r.fsUuid === c.uuid && r.state === 'in_conversation'), 'the row in conversation');
        const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
        child!.kill('SIGKILL');
        await exited;
        child = undefined;
        // The dialplan goes on after `socket`: the caller is bridged to the 3CX reception ring group.
        await eventually(() => c.getVariable('bridge_uuid') !== undefined, 'the caller to be bridged to the fallback', 10_000);
        const fallback = c.applications.find((a) => a.app === 'bridge');
        expect(fallback?.arg).toContain('sofia/gateway/threecx/');
        expect(c.applications.map((a) => a.app).indexOf('bridge')).toBeGreaterThan(c.applications.map((a) => a.app).indexOf('socket'));
      },
    });
    const call = caller!;
    const { controller } = harness;
    const store = new DrizzleCallStore({ db: db.db });
    const [row] = await db.db.select().from(calls).where(eq(calls.fsUuid, call.uuid));
    expect(row).toBeDefined();
    // The restarted controller keeps the killed controller's row and takes FreeSWITCH's word for where the
    // caller is now: bridged by the dialplan's fallback, not with the agent.
    const watched = controller.registry.getByFsUuid(call.uuid);
    expect(watched).toBeInstanceOf(AdoptedCall);
    expect(controller.registry.size).toBe(1);
    const reattached = await store.getCall(row!.id);
    expect(reattached?.state).toBe('bridged');
    const event = reattached!.events.find((e) => e.type === 'reattached');
    expect(event?.data).toMatchObject({ application: 'bridge', applicationData: expect.stringContaining('sofia/gateway/threecx/') });

    call.hangup('NORMAL_CLEARING');
    await eventually(() => controller.registry.size === 0, 'the reattached call to end');
    await eventually(async () => (await store.getCall(row!.id))?.state === 'ended', 'the row to be ended');
    const ended = await store.getCall(row!.id);
    expect(ended).toMatchObject({ state: 'ended', hangupCause: 'NORMAL_CLEARING' });
    expect(ended!.events.map((e) => e.type).slice(-2)).toEqual(['reattached', 'hung_up']);
    expect((await db.db.select().from(calls).where(eq(calls.fsUuid, call.uuid))).length).toBe(1);
  }, 60_000);
});
