// Independent ESL client libraries against the simulator: if `esl` and `modesl` (written by other people
// against the real FreeSWITCH) work with it, the simulator is not just agreeing with our own parser.
import { createRequire } from 'node:module';
import { FreeSwitchClient, FreeSwitchServer, type FreeSwitchResponse } from 'esl';
import { afterEach, describe, expect, it } from 'vitest';
import { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';

const require = createRequire(import.meta.url);

interface ModeslEvent {
  getHeader(name: string): string | undefined;
  getBody(): string;
}
interface ModeslConnection {
  api(command: string, cb: (res: ModeslEvent) => void): void;
  bgapi(command: string, cb: (res: ModeslEvent) => void): void;
  subscribe(events: string[], cb: () => void): void;
  on(name: string, cb: (e: ModeslEvent) => void): void;
  once(name: string, cb: (...args: unknown[]) => void): void;
  disconnect(): void;
}
const modesl = require('modesl') as {
  Connection: new (host: string, port: number, password: string, cb: () => void) => ModeslConnection;
};

const quiet = { debug: () => {}, info: () => {}, error: () => {} };

let sim: FreeSwitchSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
    }),
  ]);
}

describe('third-party ESL clients against the simulator', () => {
  it('esl FreeSwitchClient: connect, api, bgapi, events of a placed call', async () => {
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, writeRecordings: false }); // ext 1000 records to /var/lib/freeswitch
    const { eslPort } = await sim.start();
    const client = new FreeSwitchClient({ host: '127.0.0.1', port: eslPort, password: 'ClueCon', logger: quiet });
    const connected = new Promise<FreeSwitchResponse>((resolve) => client.once('connect', resolve));
    client.connect();
    const call = await withTimeout(connected, 3000, 'esl connect');
    const version = (await call.api('version')) as unknown as { body: string };
    expect(version.body).toContain('FreeSWITCH Version 1.10.12');
    // esl subscribes itself to BACKGROUND_JOB (json) and hands back the parsed event.
    const job = (await call.bgapi('status', 3000)) as unknown as { body: Record<string, string> };
    expect(job.body['Event-Name']).toBe('BACKGROUND_JOB');
    expect(job.body._body).toMatch(/^UP \d+ years/);
    await call.event_json('CHANNEL_CREATE', 'CHANNEL_HANGUP_COMPLETE');
    const created = call.onceAsync('CHANNEL_CREATE', 3000, 'create');
    const completed = call.onceAsync('CHANNEL_HANGUP_COMPLETE', 3000, 'complete');
    const placed = sim.placeCall({ from: '+15550100', to: '1000' });
    const [c, h] = await Promise.all([created, completed]);
    expect(c.body['Unique-ID']).toBe(placed.uuid);
    expect(h.body['Hangup-Cause']).toBe('NORMAL_CLEARING');
    await call.exit().catch(() => undefined);
    client.end();
  });

  it('modesl Connection: auth, api, bgapi, events of a placed call', async () => {
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.01, writeRecordings: false }); // ext 1000 records to /var/lib/freeswitch
    const { eslPort } = await sim.start();
    const conn = await withTimeout(
      new Promise<ModeslConnection>((resolve) => {
        const c: ModeslConnection = new modesl.Connection('127.0.0.1', eslPort, 'ClueCon', () => resolve(c));
      }),
      3000,
      'modesl connect',
    );
    const status = await withTimeout(new Promise<ModeslEvent>((r) => conn.api('status', r)), 3000, 'api');
    expect(status.getBody()).toMatch(/^UP \d+ years/);
    const job = await withTimeout(new Promise<ModeslEvent>((r) => conn.bgapi('version', r)), 3000, 'bgapi');
    expect(job.getBody()).toContain('FreeSWITCH Version');
    await withTimeout(new Promise<void>((r) => conn.subscribe(['CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE'], r)), 3000, 'subscribe');
    const names: string[] = [];
    const done = new Promise<void>((resolve) => {
      conn.on('esl::event::CHANNEL_ANSWER::*', (e) => names.push(e.getHeader('Event-Name') ?? ''));
      conn.on('esl::event::CHANNEL_HANGUP_COMPLETE::*', (e) => {
        names.push(e.getHeader('Event-Name') ?? '');
        resolve();
      });
    });
    sim.placeCall({ from: '+15550100', to: '1000' });
    await withTimeout(done, 3000, 'modesl events');
    expect(names).toEqual(['CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE']);
    // modesl sends exit and half-closes; wait for FreeSWITCH's side to close like a polite client would.
    const closed = new Promise<void>((r) => conn.once('esl::end', () => r()));
    conn.disconnect();
    await withTimeout(closed, 3000, 'modesl close');
  });

  it('esl FreeSwitchServer serves an outbound call: answer, playback, hangup', async () => {
    const server = new FreeSwitchServer({ all_events: false, my_events: true, logger: quiet });
    const served = new Promise<void>((resolve, reject) => {
      server.on('connection', (call) => {
        void (async () => {
          await call.command('answer', '');
          await call.command('playback', 'tone_stream://%(200,0,440)');
          await call.hangup('NORMAL_CLEARING');
        })().then(resolve, reject);
      });
    });
    await server.listen({ host: '127.0.0.1', port: 0 } as { port: number });
    const port = (server as unknown as { __server: { address(): { port: number } } }).__server.address().port;
    sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.05, socketTarget: { host: '127.0.0.1', port } });
    await sim.start();
    const call = sim.placeCall({ from: '+15550100', to: '+15550199' });
    await withTimeout(served, 5000, 'outbound call');
    expect(await withTimeout(call.ended, 5000, 'call end')).toBe('NORMAL_CLEARING');
    expect(call.applications.map((a) => a.app)).toEqual(['socket', 'answer', 'playback']);
    expect(call.applications[2]?.response).toBe('FILE PLAYED');
    await server.close();
  });
});
