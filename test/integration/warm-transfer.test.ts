// Warm transfer over real ESL against the FreeSWITCH simulator: the caller on hold, agents rung one at a
// time through the 3CX gateway with the context as SIP X-headers, the summary whispered to the agent who
// answers, then the caller bridged to them. Far ends are the simulator's endpoints (no answer, busy, answer).
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HOLD_AUDIO, runWarmTransfer, type WarmTransferOptions } from '../../src/call/warm-transfer.ts';
import type { RoutedAgent } from '../../src/core/routing/types.ts';
import { InboundEslClient, type EslConnection, type EslEvent } from '../../src/esl/index.ts';
import { SHIPPED_LOCAL_STREAMS } from '../../src/simulator/local-streams.ts';
import { FreeSwitchSimulator, type EndpointBehaviour, type SimulatedCall, type SimulatorOptions } from '../../src/simulator/simulator.ts';

const WHISPER = '/var/lib/callbridge/tts/whisper-summary.wav';
const CALL_ID = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
const HEADERS = {
  'X-Callbridge-Call-Id': CALL_ID,
  'X-Callbridge-Reason': 'billing question, invoice',
  'X-Callbridge-Summary-Url': `https://cb.example/v1/calls/${CALL_ID}/context`,
};
const agent = (extension: string, priority: number): RoutedAgent => ({ extension, name: `agent ${extension}`, skills: [], priority });
const AGENTS = [agent('101', 1), agent('102', 2)];

let sim: FreeSwitchSimulator | undefined;
let esl: InboundEslClient | undefined;

afterEach(async () => {
  await esl?.stop();
  await sim?.stop();
  esl = undefined;
  sim = undefined;
});

interface Rig {
  connection: EslConnection;
  caller: SimulatedCall;
  events: EslEvent[];
  options: (extra?: Partial<WarmTransferOptions>) => WarmTransferOptions;
}

async function rig(
  endpoints: Record<string, EndpointBehaviour>,
  callerHangsUpAfterMs?: number,
  simOptions: Partial<SimulatorOptions> = {},
): Promise<Rig> {
  // 1/50 time: a 20 s ring lasts 400 ms, the 2 s whisper 40 ms.
  sim = new FreeSwitchSimulator({ password: 'ClueCon', timeScale: 0.02, heartbeatMs: 0, endpoints, ...simOptions });
  const { eslPort } = await sim.start();
  esl = new InboundEslClient({
    host: '127.0.0.1',
    port: eslPort,
    password: 'ClueCon',
    // What the transfer needs, plus what this test looks at.
    events: ['BACKGROUND_JOB', 'CHANNEL_HANGUP_COMPLETE', 'PLAYBACK_START', 'PLAYBACK_STOP', 'CHANNEL_ORIGINATE', 'CHANNEL_BRIDGE', 'CHANNEL_EXECUTE_COMPLETE'],
  });
  await esl.start();
  const connection = await esl.waitConnected({ timeoutMs: 5_000 });
  const events: EslEvent[] = [];
  connection.on('event', (event) => events.push(event));
  // Extension 5000 answers and parks: a caller waiting with the controller.
  const caller = sim.placeCall({ from: '+15551230000', to: '5000', ...(callerHangsUpAfterMs === undefined ? {} : { callerHangsUpAfterMs }) });
  await until(() => caller.answered);
  const options = (extra: Partial<WarmTransferOptions> = {}): WarmTransferOptions => ({
    connection,
    callerUuid: caller.uuid,
    agents: AGENTS,
    gateway: 'threecx',
    ringSeconds: 20,
    sipHeaders: HEADERS,
    whisperFile: WHISPER,
    deadlineMs: 30_000,
    ...extra,
  });
  return { connection, caller, events, options };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

const originates = (events: EslEvent[]) => events.filter((e) => e.name === 'CHANNEL_ORIGINATE');
/** How the caller's hold playback ended (the playback application's response), once it has. */
const holdResponse = (events: EslEvent[], callerUuid: string) =>
  events
    .find((e) => e.name === 'CHANNEL_EXECUTE_COMPLETE' && e.uniqueId === callerUuid && e.headers.get('Application-Data') === DEFAULT_HOLD_AUDIO)
    ?.headers.get('Application-Response');
const holdStarted = (events: EslEvent[], callerUuid: string) =>
  events.some((e) => e.name === 'PLAYBACK_START' && e.uniqueId === callerUuid && e.headers.get('Playback-File-Path') === DEFAULT_HOLD_AUDIO);

describe('warm transfer against the simulator', () => {
  it('skips the agent who does not answer, whispers to the next, then bridges the caller to them', async () => {
    const { caller, events, options } = await rig({
      'gateway/threecx/101': { kind: 'no_answer' },
      'gateway/threecx/102': { kind: 'answer', answerAfterMs: 1000 },
    });
    const result = await runWarmTransfer(options());
    expect(result).toMatchObject({ outcome: 'bridged', agent: { extension: '102' } });
    if (result.outcome !== 'bridged') return;

    // Both agents' phones were rung through the 3CX gateway, each carrying the context headers.
    const legs = originates(events);
    expect(legs.map((e) => e.headers.get('Channel-Name'))).toEqual(['sofia/gateway/threecx/101', 'sofia/gateway/threecx/102']);
    for (const leg of legs) {
      expect(leg.headers.get('variable_sip_h_X-Callbridge-Call-Id')).toBe(CALL_ID);
      // Commas cannot travel in a dial-string variable: they are dropped, the words stay.
      expect(leg.headers.get('variable_sip_h_X-Callbridge-Reason')).toBe('billing question invoice');
      expect(leg.headers.get('variable_sip_h_X-Callbridge-Summary-Url')).toBe(HEADERS['X-Callbridge-Summary-Url']);
    }
    expect(legs[1]?.uniqueId).toBe(result.agentUuid);

    // The summary was whispered to agent 102 to its end, before the caller was bridged to them.
    const whisperEnd = events.findIndex((e) => e.name === 'PLAYBACK_STOP' && e.uniqueId === result.agentUuid && e.headers.get('Playback-File-Path') === WHISPER);
    const bridge = events.findIndex((e) => e.name === 'CHANNEL_BRIDGE' && e.uniqueId === caller.uuid);
    expect(whisperEnd).toBeGreaterThanOrEqual(0);
    expect(events[whisperEnd]?.headers.get('Playback-Status')).toBe('done');
    expect(bridge).toBeGreaterThan(whisperEnd);
    expect(events[bridge]?.headers.get('Bridge-B-Unique-ID')).toBe(result.agentUuid);

    // The caller heard hold music until the bridge, never the whisper.
    expect(caller.playbacks).toEqual([{ path: 'local_stream://moh', status: 'break', playedMs: expect.any(Number) }]);
    expect(sim?.activeChannels).toBe(2);
    caller.hangup();
    await until(() => sim?.activeChannels === 0);
  });

  it('moves on when an agent hangs up before the bridge', async () => {
    const { events, options } = await rig({
      'gateway/threecx/101': { kind: 'answer', answerAfterMs: 100, hangupAfterMs: 1 },
      'gateway/threecx/102': { kind: 'answer', answerAfterMs: 100 },
    });
    const result = await runWarmTransfer(options());
    expect(result).toMatchObject({ outcome: 'bridged', agent: { extension: '102' } });
    expect(originates(events)).toHaveLength(2);
  });

  it('reports no_answer with each agent’s cause, the caller still on hold and no agent leg left', async () => {
    const { caller, events, options } = await rig({
      'gateway/threecx/101': { kind: 'busy' },
      'gateway/threecx/102': { kind: 'no_answer' },
    });
    const result = await runWarmTransfer(options({ ringSeconds: 5 }));
    expect(result).toEqual({
      outcome: 'no_answer',
      tried: [
        { extension: '101', cause: 'USER_BUSY' },
        { extension: '102', cause: 'NO_ANSWER' },
      ],
    });
    expect(caller.playbacks).toEqual([]); // hold music still playing, for the group's fallback to take over
    expect(holdStarted(events, caller.uuid)).toBe(true);
    expect(sim?.activeChannels).toBe(1);
  });

  it('kills the ringing agent leg when the caller hangs up meanwhile', async () => {
    // The caller hangs up 4 simulated seconds in, while agent 101 rings (20 s).
    const { events, options } = await rig({ 'gateway/threecx/101': { kind: 'no_answer' } }, 4_000);
    const result = await runWarmTransfer(options());
    expect(result).toEqual({ outcome: 'caller_gone' });
    expect(originates(events)).toHaveLength(1);
    await until(() => sim?.activeChannels === 0);
  });

  it('hangs up the agent who already answered when the session aborts during the whisper', async () => {
    const { events, options } = await rig({ 'gateway/threecx/101': { kind: 'answer', answerAfterMs: 100 } });
    const abort = new AbortController();
    const longWhisper = 'tone_stream://%(60000,0,440)';
    const running = runWarmTransfer(options({ whisperFile: longWhisper, signal: abort.signal }));
    await until(() => events.some((e) => e.name === 'PLAYBACK_START' && e.headers.get('Playback-File-Path') === longWhisper));
    abort.abort();
    expect(await running).toEqual({ outcome: 'caller_gone' });
    const agentUuid = originates(events)[0]?.uniqueId;
    await until(() => events.some((e) => e.name === 'CHANNEL_HANGUP_COMPLETE' && e.uniqueId === agentUuid));
    expect(events.some((e) => e.name === 'CHANNEL_BRIDGE')).toBe(false);
  });

  it('plays the shipped music on hold to the caller while the agent rings, until the bridge', async () => {
    // The streams of freeswitch/autoload_configs/local_stream.conf.xml (the simulator's default, spelled out).
    const { caller, connection, events, options } = await rig(
      { 'gateway/threecx/101': { kind: 'answer', answerAfterMs: 3000 } },
      undefined,
      { localStreams: SHIPPED_LOCAL_STREAMS },
    );
    const running = runWarmTransfer(options({ agents: [agent('101', 1)] }));
    await until(() => holdStarted(events, caller.uuid));
    // While the phone rings, the caller is a listener of the moh stream.
    expect(await connection.api('local_stream show moh')).toMatch(/^ {2}total: {4}1$/m);
    expect(await running).toMatchObject({ outcome: 'bridged', agent: { extension: '101' } });
    expect(holdResponse(events, caller.uuid)).toBe('FILE PLAYED');
    expect(caller.playbacks).toEqual([{ path: DEFAULT_HOLD_AUDIO, status: 'break', playedMs: expect.any(Number) }]);
    // The music played for the whole ring (3 simulated seconds), not an instant.
    expect(caller.playbacks[0]?.playedMs).toBeGreaterThan(1000);
  });

  it('with no moh stream on the switch (the defect seen on FreeSWITCH 1.10.12) the caller waits in silence', async () => {
    // mod_local_stream without a configuration does not load: local_stream://moh cannot be opened.
    const { caller, events, options } = await rig({ 'gateway/threecx/101': { kind: 'answer', answerAfterMs: 3000 } }, undefined, { localStreams: [] });
    const result = await runWarmTransfer(options({ agents: [agent('101', 1)] }));
    expect(result.outcome).toBe('bridged');
    expect(holdResponse(events, caller.uuid)).toBe('FILE NOT FOUND');
    expect(holdStarted(events, caller.uuid)).toBe(false);
    expect(caller.playbacks).toEqual([]);
  });

  it('never rings past the overall deadline', async () => {
    const { events, options } = await rig({ 'gateway/threecx/101': { kind: 'no_answer' }, 'gateway/threecx/102': { kind: 'no_answer' } });
    const result = await runWarmTransfer(options({ deadlineMs: 1_500 }));
    expect(result.outcome).toBe('no_answer');
    // Each phone rings for what is left of the 1.5 s (whole seconds), not the group's 20 s.
    const timeouts = originates(events).map((e) => Number(e.headers.get('variable_originate_timeout')));
    expect(timeouts.length).toBeGreaterThan(0);
    for (const seconds of timeouts) expect(seconds).toBe(1);
  });
});
