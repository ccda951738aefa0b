// Outbound follow-up calls through the whole controller: requested over the API, placed through FreeSWITCH
// (the simulator's originate runs the `socket` app, so the answered leg comes back to our controller like any
// call), and handled by the same voice pipeline — here the far end is an answering machine (a continuous
// greeting), which gets the practice's short message and nothing else.
import { describe, expect, it } from 'vitest';
import { eventually, type Harness } from '../support/controller-harness.ts';
import { useVoiceHarness } from '../support/voice-peers.ts';

const TOKEN = 'test-token-0123456789';
const PATIENT = '+15557770300';

const suite = useVoiceHarness();
const sessions = suite.sessions;

async function api(h: Harness, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`http://127.0.0.1:${h.controller.addresses.http.port}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

describe('outbound follow-up calls', () => {
  it('places a requested call through FreeSWITCH, and leaves an answering machine a short message', async () => {
    const h = await suite.start();
    // Any time of day is a calling hour somewhere: the request names a zone where it is midday now.
    const zone = ['Pacific/Kiritimati', 'Asia/Tokyo', 'Asia/Kolkata', 'Europe/London', 'America/New_York', 'America/Los_Angeles', 'Pacific/Honolulu'].find((tz) => {
      const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hour12: false }).format(new Date()));
      return hour >= 9 && hour < 19;
    });
    const requested = await api(h, 'POST', '/v1/calls/outbound', { to: PATIENT, purpose: 'appointment_reminder', timeZone: zone });
    expect(requested.status).toBe(202);
    await eventually(() => sessions.length === 1, 'the answered leg back at the controller', 10_000);
    const session = sessions[0]!;
    await session.done;
    const stored = await h.controller.store.getCall(session.callId);
    const types = stored?.events.map((e) => e.type) ?? [];
    expect(stored?.events.find((e) => e.type === 'offered')?.data).toMatchObject({ outboundId: requested.body.id });
    expect(stored?.events.find((e) => e.type === 'answerer')?.data).toMatchObject({ kind: 'machine' });
    // No conversation with a machine: the message, then the call ends.
    expect(types).not.toContain('agent_reply');
    expect(suite.peers.tts.requests.some((r) => r.input.text === 'Hello, this is Test Practice calling. Please call us back when you can. Thank you.')).toBe(true);
    await eventually(async () => (await api(h, 'GET', `/v1/calls/outbound/${String(requested.body.id)}`)).body.status === 'machine', 'the outcome recorded');
  });

  it('refuses a number on the do-not-call list', async () => {
    const h = await suite.start();
    expect((await api(h, 'POST', '/v1/do-not-call', { number: PATIENT, reason: 'asked not to be called' })).status).toBe(201);
    const refused = await api(h, 'POST', '/v1/calls/outbound', { to: PATIENT, purpose: 'follow_up' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ reason: 'do_not_call' });
  });
});
