// Hand-offs with their context, and the dashboard's commands, end to end: the caller talks with the agent
// through the simulator and the speech stand-ins; the context the person receives is read back over the
// authenticated API, and the SIP headers are checked on the bridge FreeSWITCH ran.
import { describe, expect, it } from 'vitest';
import type { SimulatedCall } from '../../src/simulator/simulator.ts';
import { InboundEslClient, type EslEvent } from '../../src/esl/index.ts';
import { eventually, type Harness } from '../support/controller-harness.ts';
import { useVoiceHarness } from '../support/voice-peers.ts';

const AI_LINE = '+15559870100';
const CALLER = '+15557770188';
const TOKEN = 'test-token-0123456789';

const suite = useVoiceHarness();
const sessions = suite.sessions;
let harness: Harness;

async function start(): Promise<Harness> {
  harness = await suite.start();
  return harness;
}

async function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const { port } = harness.controller.addresses.http;
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? TOKEN}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const bridgeOf = (call: SimulatedCall): string | undefined => call.applications.find((a) => a.app === 'bridge')?.arg;

/** Watches FreeSWITCH's events the way an operator's tool would: the agents' legs as they are originated. */
async function watchOriginates(h: Harness): Promise<{ legs: EslEvent[]; stop: () => Promise<void> }> {
  const legs: EslEvent[] = [];
  const client = new InboundEslClient({ host: '127.0.0.1', port: h.eslPort, password: 'ClueCon', events: ['CHANNEL_ORIGINATE'] });
  client.on('event', (event) => legs.push(event));
  await client.start();
  await client.waitConnected({ timeoutMs: 5000 });
  return { legs, stop: () => client.stop() };
}

async function promptsHeard(call: SimulatedCall, count: number): Promise<void> {
  await eventually(() => call.playbacks.length >= count, `${count} prompts heard`, 10_000);
}

describe('transfers with context', () => {
  it('stores what was said before the bridge, serves it to staff, and labels the agent\'s call with SIP headers', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await promptsHeard(call, 1);
    call.say('I need to book an appointment');
    await promptsHeard(call, 2);
    const watch = await watchOriginates(h);
    call.sendDtmf('0');
    const session = sessions[0]!;
    await eventually(() => session.state === 'bridged', 'the caller put through to a person', 10_000);
    // A warm transfer: the agent's leg was originated with the context headers, and heard the summary first.
    const leg = watch.legs.find((e) => e.headers.get('variable_sip_h_X-Callbridge-Call-Id') === session.callId);
    await watch.stop();
    expect(leg?.headers.get('variable_sip_h_X-Callbridge-Reason')).toBe('operator');
    expect(leg?.headers.get('variable_sip_h_X-Callbridge-Summary-Url')).toBe(`https://calls.practice.example/v1/calls/${session.callId}/context`);
    expect(suite.peers.tts.requests.some((r) => r.input.text?.startsWith('Call from the AI assistant. Reason: operator.') === true)).toBe(true);
    expect(bridgeOf(call)).toBeUndefined();

    const context = await api(`/v1/calls/${session.callId}/context`);
    expect(context.status).toBe(200);
    expect(context.body).toMatchObject({ targetKind: 'ring_group', targetName: 'front', urgency: 'normal', transcriptStatus: 'available' });
    const transcript = context.body.transcript as { speaker: string; text: string }[];
    expect(transcript.map((t) => t.speaker)).toEqual(['agent', 'caller', 'agent']);
    expect(transcript[1]!.text).toMatch(/^I need to book an appointment/);
    // Only with the token.
    expect((await api(`/v1/calls/${session.callId}/context`, { token: 'wrong-token-0123456789' })).status).toBe(401);

    call.hangup();
    await session.done;
    const done = await api(`/v1/calls/${session.callId}/context`);
    expect(done.body).toMatchObject({ outcome: 'bridged' });
    expect(done.body.durationMs).toEqual(expect.any(Number));
  });

  it('lets staff move a call from the agent to a group', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await promptsHeard(call, 1);
    const session = sessions[0]!;
    expect((await api(`/v1/calls/${session.callId}/transfer`, { method: 'POST', body: { target: 'front', reason: 'asked for Ana' } })).status).toBe(202);
    await eventually(() => session.state === 'bridged', 'bridged to the front desk', 10_000);
    // A call put through warm stays with that person: moving it again would drop the caller.
    expect((await api(`/v1/calls/${session.callId}/transfer`, { method: 'POST', body: { target: 'front', reason: 'again' } })).status).toBe(409);
    call.hangup();
    await session.done;
  });

  it('lets staff take a call over as an emergency, and hang it up', async () => {
    const h = await start();
    const call = h.simulator.placeCall({ from: CALLER, to: AI_LINE, say: [] });
    await promptsHeard(call, 1);
    const session = sessions[0]!;
    expect((await api(`/v1/calls/${session.callId}/takeover`, { method: 'POST', body: {} })).status).toBe(202);
    await eventually(() => bridgeOf(call) !== undefined, 'the emergency bridge');
    expect(bridgeOf(call)).toContain('sofia/gateway/threecx/+15550000911');
    expect((await api(`/v1/calls/${session.callId}/takeover`, { method: 'POST', body: {} })).status).toBe(202);

    expect((await api(`/v1/calls/${session.callId}/hangup`, { method: 'POST', body: {} })).status).toBe(202);
    expect(await call.ended).toBe('NORMAL_CLEARING');
    await session.done;
    expect((await api(`/v1/calls/${session.callId}/hangup`, { method: 'POST', body: {} })).status).toBe(404);
    expect((await api('/v1/calls/00000000-0000-4000-8000-000000000000/transfer', { method: 'POST', body: { target: 'front', reason: 'x' } })).status).toBe(404);
    expect((await api(`/v1/calls/${session.callId}/transfer`, { method: 'POST', body: { target: 'front;evil', reason: 'x' } })).status).toBe(400);
  });
});
