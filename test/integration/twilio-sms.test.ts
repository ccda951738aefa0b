// The SMS adapter end to end: the REAL twilio client (6.x) against a local peer speaking Twilio's REST
// Messages API, including Twilio's error bodies and dropped connections.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appointmentSms } from '../../src/core/sms-templates.ts';
import type { SystemEvent } from '../../src/core/notify-ports.ts';
import { TwilioPeer } from '../../src/peers/twilio-peer.ts';
import { TwilioSms, type SmsLogger, type TwilioSmsOptions } from '../../src/twilio/index.ts';

const ACCOUNT_SID = `AC${'1'.repeat(32)}`;
const AUTH_TOKEN = 'test-auth-token';
const FROM = '+17045550100';
const PATIENT = '+17045550123';
const STATUS_URL = 'https://callbridge.example.org/v1/webhooks/twilio/status';

let peer: TwilioPeer;
let logs: string[];
let events: SystemEvent[];
let senders: TwilioSms[];
const logger: SmsLogger = {
  info: (fields, message) => logs.push(`${message} ${JSON.stringify(fields)}`),
  warn: (fields, message) => logs.push(`${message} ${JSON.stringify(fields)}`),
};

function sender(overrides: Partial<TwilioSmsOptions> = {}): TwilioSms {
  const sms = new TwilioSms({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    from: FROM,
    apiUrl: peer.url,
    statusCallbackUrl: STATUS_URL,
    initialBackoffMs: 5,
    maxBackoffMs: 20,
    timeoutMs: 5000,
    logger,
    events: { publish: (event) => events.push(event) },
    ...overrides,
  });
  senders.push(sms);
  return sms;
}

const body = appointmentSms('appointment_request', { preference: 'monday at 9' }, 'Carolina Skin Clinic');

beforeEach(async () => {
  peer = await TwilioPeer.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  logs = [];
  events = [];
  senders = [];
});

afterEach(async () => {
  for (const sms of senders) sms.close();
  await peer.close();
});

describe('TwilioSms (real twilio client)', () => {
  it('sends the message with the sender, the body and the status callback, and returns Twilio\'s SID', async () => {
    const result = await sender().send({ to: PATIENT, body, purpose: 'appointment', callId: 'call-1' });
    expect(result).toEqual({ ok: true, sid: peer.messages[0]?.sid, attempts: 1 });
    expect(result.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(peer.messages).toEqual([
      expect.objectContaining({ to: PATIENT, from: FROM, body, statusCallback: STATUS_URL, status: 'queued' }),
    ]);
    expect(events).toEqual([
      expect.objectContaining({ type: 'SMS_SENT', callId: 'call-1', data: expect.objectContaining({ to: '***0123', purpose: 'appointment', attempts: 1 }) }),
    ]);
  });

  it('can send through a messaging service instead of a number', async () => {
    const result = await sender({ from: undefined, messagingServiceSid: `MG${'2'.repeat(32)}` }).send({ to: PATIENT, body, purpose: 'appointment' });
    expect(result.ok).toBe(true);
    expect(peer.messages[0]).toMatchObject({ from: null, messagingServiceSid: `MG${'2'.repeat(32)}`, status: 'accepted' });
  });

  it('retries after a 500 and a 429 and then succeeds', async () => {
    peer.failNext(1, 500);
    const first = await sender().send({ to: PATIENT, body, purpose: 'emergency' });
    expect(first).toMatchObject({ ok: true, attempts: 2 });
    peer.failNext(2, 429);
    const second = await sender().send({ to: PATIENT, body, purpose: 'emergency' });
    expect(second).toMatchObject({ ok: true, attempts: 3 });
    expect(peer.requestCount).toBe(5);
    expect(peer.messages).toHaveLength(2);
  });

  it('retries when the connection drops', async () => {
    peer.failNext(1, 'reset');
    const result = await sender().send({ to: PATIENT, body, purpose: 'failover' });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(peer.messages).toHaveLength(1);
  });

  it('gives up after maxAttempts with ok: false, the attempts and a reason, and records the failure', async () => {
    peer.failNext(10, 503);
    const result = await sender({ maxAttempts: 3 }).send({ to: PATIENT, body, purpose: 'emergency', callId: 'call-9' });
    expect(result).toEqual({ ok: false, attempts: 3, error: 'twilio HTTP 503 code 20503' });
    expect(peer.requestCount).toBe(3);
    expect(peer.messages).toHaveLength(0);
    expect(events.map((e) => e.type)).toEqual(['SMS_FAILED']);
    expect(events[0]?.data).toMatchObject({ to: '***0123', attempts: 3, error: 'twilio HTTP 503 code 20503' });
  });

  it('does not retry when Twilio refuses the credentials', async () => {
    const result = await sender({ authToken: 'wrong-token' }).send({ to: PATIENT, body, purpose: 'appointment' });
    expect(result).toEqual({ ok: false, attempts: 1, error: 'twilio HTTP 401 code 20003' });
    expect(peer.requestCount).toBe(1);
  });

  it('does not retry a number Twilio rejects, and keeps the number out of the reason', async () => {
    const result = await sender().send({ to: '+0123', body, purpose: 'appointment' });
    expect(result).toEqual({ ok: false, attempts: 1, error: 'twilio HTTP 400 code 21211' });
  });

  it('never logs the number in clear nor the body', async () => {
    peer.failNext(1, 500);
    await sender().send({ to: PATIENT, body, purpose: 'appointment', callId: 'call-2' });
    await sender({ maxAttempts: 1 }).send({ to: '+1704555', body, purpose: 'appointment' });
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const all = logs.join('\n');
    expect(all).toContain('***0123');
    expect(all).not.toContain('7045550123');
    expect(all).not.toContain('704555"');
    expect(all).not.toContain('Carolina Skin Clinic');
    expect(all).not.toContain('Monday');
  });

  it('reports a network failure when Twilio cannot be reached', async () => {
    const gone = peer.url;
    await peer.close();
    peer = await TwilioPeer.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    const result = await sender({ apiUrl: gone, maxAttempts: 2 }).send({ to: PATIENT, body, purpose: 'failover' });
    expect(result).toEqual({ ok: false, attempts: 2, error: 'network error ECONNREFUSED' });
  });

  it('stops retrying once closed', async () => {
    peer.failNext(10, 500);
    const sms = sender({ maxAttempts: 5, initialBackoffMs: 60_000, maxBackoffMs: 60_000 });
    const pending = sms.send({ to: PATIENT, body, purpose: 'appointment' });
    while (peer.requestCount < 1) await new Promise((resolve) => setImmediate(resolve));
    sms.close();
    expect(await pending).toEqual({ ok: false, attempts: 1, error: 'twilio HTTP 500 code 20500; sender closed' });
  });
});
