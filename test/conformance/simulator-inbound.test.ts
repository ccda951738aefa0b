// Replays the recorded inbound-ESL client bytes against the simulator and compares its bytes with what the
// real FreeSWITCH 1.10.12 sent (see simulator-helpers.ts for what is compared and what is normalised).
import { afterEach, describe as suite, expect, it } from 'vitest';
import type { FreeSwitchSimulator } from '../../src/simulator/simulator.ts';
import { connect } from 'node:net';
import { frames, perChannel, readTrace, type Described } from './simulator-helpers.ts';
import { UUID, compare, replay, sleep, stopReplaySimulator } from './simulator-replay.ts';

afterEach(stopReplaySimulator);

function dropRacedConsumeMedia(ds: Described[]): Described[] {
  return ds.filter((d, i) => {
    if (d.eventName !== 'CHANNEL_STATE' || d.channelState !== 'CS_CONSUME_MEDIA') return true;
    const next = ds.slice(i + 1).find((n) => n.uniqueId === d.uniqueId);
    const prev = ds.slice(0, i).reverse().find((n) => n.uniqueId === d.uniqueId);
    return !(next?.channelState === 'CS_EXCHANGE_MEDIA' && prev?.eventName === 'CHANNEL_EXECUTE');
  });
}

/** The uuid of the first channel a trace's client used in its commands. */
function firstCaller(name: string): string {
  const text = readTrace(name).client.toString('utf8');
  return text.match(UUID)?.[0] ?? '';
}

async function callAfterSubscribe(index: number, line: string, s: FreeSwitchSimulator): Promise<void> {
  if (line === 'exit') {
    const call = s.placeCall({ from: 'sipp', to: '1000' });
    await call.ended;
    await sleep(20);
  }
  void index;
}

suite('simulator replays the inbound ESL traces', () => {
  it('auth-wrong-password: -ERR invalid, disconnect notice, close', async () => {
    const { got, want } = await replay('inbound-auth-wrong-password');
    compare(got, want);
  });

  it('command-before-auth: -ERR command not found, socket stays open, later auth works', async () => {
    const { got, want } = await replay('inbound-command-before-auth');
    compare(got, want);
  });

  it('bgapi-plain: Job-UUID replies (caller-chosen honoured), BACKGROUND_JOB with inner body', async () => {
    const { got, want } = await replay('inbound-bgapi-plain');
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
    const jobs = (ds: Described[]) => ds.filter((d) => d.eventName === 'BACKGROUND_JOB').map((d) => d.names);
    expect(jobs(got)).toEqual(jobs(want));
  });

  it('bgapi-json: the same in json', async () => {
    const { got, want } = await replay('inbound-bgapi-json');
    const jobs = (ds: Described[]) => ds.filter((d) => d.eventName === 'BACKGROUND_JOB').map((d) => d.names);
    expect(jobs(got)).toEqual(jobs(want));
  });

  for (const fmt of ['plain', 'json', 'xml']) {
    it(`event-${fmt}-call1000: the SIP call's events, per-event header order`, async () => {
      const { got, want } = await replay(`inbound-event-${fmt}-call1000`, { before: callAfterSubscribe });
      compare(got, want);
    });
  }

  it('originate-failures: BACKGROUND_JOB results and the failed legs\' HANGUP_COMPLETE per endpoint', async () => {
    const { got, want } = await replay('inbound-originate-failures-plain', { paceByEvents: true });
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
    // BACKGROUND_JOB and HANGUP_COMPLETE come in either order (rule 16): compare each stream on its own.
    const jobs = (ds: Described[]) => ds.filter((d) => d.eventName === 'BACKGROUND_JOB').map((d) => [d.innerBody, d.names]);
    expect(jobs(got)).toEqual(jobs(want));
    const legs = (ds: Described[]) =>
      ds.filter((d) => d.eventName === 'CHANNEL_HANGUP_COMPLETE').map((d) => [d.names]);
    expect(legs(got)).toEqual(legs(want));
  });

  it('media-control: uuid_answer, uuid_broadcast/uuid_break, uuid_record, uuid_setvar/getvar, uuid_hold, uuid_kill', async () => {
    const { got, want } = await replay('inbound-media-control-call4100-plain', {
      paceByEvents: true,
      before: async (i, _line, s, uuidMap) => {
        if (i === 2) {
          // sipp calls 4100 (pre_answer, park) right after the subscription.
          const call = s.placeCall({ from: 'sipp', to: '4100' });
          uuidMap.set('52730023-48b1-49d2-bcf7-00b516c5a576', call.uuid);
          await sleep(30);
        }
      },
    });
    compare(got, want);
  });

  it('dtmf-rfc2833-call5000: RTP digits, uuid_recv_dtmf (APP), uuid_send_dtmf (no event), errors', async () => {
    let call: ReturnType<FreeSwitchSimulator['placeCall']> | undefined;
    const { got, want, raw } = await replay('inbound-dtmf-rfc2833-call5000-plain', {
      paceByEvents: true,
      before: async (i, line, s, uuidMap) => {
        if (i === 2) {
          // sipp calls 5000 (answer, park) and sends 1 2 3 # * 9 as RFC 2833, 1.0-4.0 s after the ACK.
          const c = s.placeCall({
            from: 'sipp',
            to: '5000',
            dtmf: [
              { atMs: 1000, digits: '1', durationMs: 100 },
              { atMs: 1600, digits: '2', durationMs: 160 },
              { atMs: 2200, digits: '3', durationMs: 100 },
              { atMs: 2800, digits: '#', durationMs: 200 },
              { atMs: 3400, digits: '*', durationMs: 100 },
              { atMs: 4000, digits: '9', durationMs: 100 },
            ],
          });
          call = c;
          uuidMap.set('c9ba9fc3-0d6e-4901-a2f6-b9b9268c2c6e', c.uuid);
          await sleep(80);
        }
        if (line === 'exit' && call !== undefined) {
          call.hangup('NORMAL_CLEARING');
          await call.ended;
        }
      },
    });
    compare(got, want);
    // `#` is URL-encoded, `*` is not (rule 20); durations are 8 kHz samples.
    const trace = readTrace('inbound-dtmf-rfc2833-call5000-plain').fs.toString('utf8');
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('DTMF-'));
    expect(lines(raw)).toEqual(lines(trace));
  });

  it('misc-commands: event/nixevent/noevents/filter/linger/log/sendevent replies; sendevent echoed as CUSTOM', async () => {
    const { got, want } = await replay('inbound-misc-commands');
    compare(got, want);
    const custom = (ds: Described[]) => ds.filter((d) => d.eventName === 'CUSTOM').map((d) => [d.names, d.innerBody]);
    expect(custom(got)).toEqual(custom(want));
    expect(custom(got)).toHaveLength(1);
  });

  it('load-100-loopback: 100 bgapi originates, 200 legs created and answered, hupall ends all 200', async () => {
    const { got, want } = await replay('inbound-load-100-loopback-plain', {
      // Real time: the recorded client sent hupall while every loopback/1000 was still in its 4 s dialplan.
      timeScale: 1,
      before: async (_i, line) => {
        if (line === 'api hupall') await sleep(50);
      },
    });
    const count = (ds: Described[], n: string) => ds.filter((d) => d.eventName === n).length;
    for (const n of ['CHANNEL_CREATE', 'CHANNEL_ANSWER', 'CHANNEL_HANGUP_COMPLETE']) expect(count(got, n)).toBe(count(want, n));
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
    // FreeSWITCH delivered a few legs' CHANNEL_ANSWER before their CHANNEL_CREATE (two threads racing);
    // that interleaving cannot be reproduced on purpose, so this trace is compared per channel as a
    // multiset of events, and per event name as the set of header layouts seen.
    const perLeg = (ds: Described[]) => perChannel(ds).filter((c) => c.uuid !== '').map((c) => c.events.map((e) => e.eventName).sort().join(',')).sort();
    expect(perLeg(got)).toEqual(perLeg(want));
    const layouts = (ds: Described[]) => [...new Set(ds.filter((d) => d.kind === 'event').map((d) => `${d.eventName}: ${d.names?.join(' ')}`))].sort();
    expect(layouts(got)).toEqual(layouts(want));
  });

  for (const fmt of ['plain', 'json']) {
    it(`heartbeat-${fmt}: HEARTBEAT every 20 s with its RE_SCHEDULE, check_ip once a minute`, async () => {
      // 20 s × 0.01 = 200 ms per heartbeat; the recorded client idled through two of them.
      const { got, want } = await replay(`inbound-heartbeat-${fmt}`, {
        heartbeat: true,
        before: async (_i, line) => {
          if (line === 'exit') await sleep(500);
        },
      });
      expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
      const events = (ds: Described[]) => ds.filter((d) => d.kind === 'event').map((d) => [d.eventName, d.names]);
      expect(events(got)).toEqual(events(want));
    });
  }

  for (const fmt of ['plain', 'json']) {
    it(`bridge-transfer-call6000-${fmt}: bridge to a SIP far end, uuid_transfer, originate + uuid_bridge, errors`, async () => {
      const { got, want } = await replay(`inbound-bridge-transfer-call6000-${fmt}`, {
        paceByEvents: true,
        before: async (i, _line, s, uuidMap) => {
          if (i === 2) {
            // sipp calls 6000, which bridges to the sipp UAS on 5090.
            const call = s.placeCall({ from: 'sipp', to: '6000' });
            uuidMap.set(fmt === 'plain' ? '5a7af1f4-9251-4faa-8cc8-37b8b863269b' : firstCaller(`inbound-bridge-transfer-call6000-${fmt}`), call.uuid);
            await sleep(50);
          }
        },
      });
      // The json capture saw the uuid_bridge'd loopback-a pass through CS_CONSUME_MEDIA before
      // CS_EXCHANGE_MEDIA; the plain capture of the same scenario did not (a FreeSWITCH thread race).
      // The simulator follows the plain capture, so that one extra state is dropped from the json one.
      compare(got, fmt === 'json' ? dropRacedConsumeMedia(want) : want);
    });
  }

  it('log7: log/data frames for a call made on another connection (outer header order, EXECUTE lines per leg)', async () => {
    const { raw } = await replay('inbound-log7', {
      before: async (i, _line, s) => {
        if (i !== 2) return;
        // As recorded: a second connection runs `api originate loopback/1000 &park` while this one logs.
        const other = connect(s.eslPort ?? 0, '127.0.0.1');
        other.write('auth ClueCon\n\napi originate loopback/1000 &park\n\n');
        await sleep(150);
        other.destroy();
      },
    });
    const logFrames = (b: Buffer) => frames(b).filter((f) => f.outer[0]?.[1] === 'log/data');
    const trace = logFrames(readTrace('inbound-log7').fs);
    const got = logFrames(Buffer.from(raw));
    expect(got.length).toBeGreaterThan(0);
    // Every log/data frame has the recorded outer header order (rule 2).
    const outerNames = (fs: typeof trace) => [...new Set(fs.map((f) => f.outer.map(([k]) => k).join(',')))];
    expect(outerNames(got)).toEqual(outerNames(trace));
    // The EXECUTE lines, per leg, in order (paths normalised; the simulator logs far fewer other lines).
    const executes = (fs: typeof trace, leg: string) =>
      fs.map((f) => f.body.replace(/\/\S*\/(fsref_)/, '<dir>/$1').replace(UUID, '<uuid>')).filter((b) => b.startsWith(`EXECUTE [depth=0] loopback/1000-${leg} `));
    for (const leg of ['a', 'b']) expect(executes(got, leg)).toEqual(executes(trace, leg));
  });

  it('api-commands: replies to version, status, show channels, originate, uuid_*, errors', async () => {
    const { got, want } = await replay('inbound-api-commands', {
      // Real time: the originated loopback/1000 must still be up (4 s dialplan) when uuid_kill comes.
      timeScale: 1,
      before: async (i, line, s) => {
        if (line === 'api show channels as json' && i > 12) await sleep(50);
        if (i === 20) {
          s.placeCall({ from: 'sipp', to: '3000' });
          await sleep(20);
        }
      },
    });
    expect(got.filter((d) => d.kind === 'other').map((d) => d.key)).toEqual(want.filter((d) => d.kind === 'other').map((d) => d.key));
  });
});
