// Twilio's delivery status callbacks reaching our route over real HTTP: posted and signed by the Twilio peer
// (signatures computed by the real twilio library), checked by src/twilio's verifyTwilioSignature.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { twilioStatusRoutes, type TwilioStatus } from '../../src/http/index.ts';
import { TWILIO_STATUS_PATH } from '../../src/http/twilio.ts';
import { postTwilioCallback, TwilioPeer } from '../../src/peers/twilio-peer.ts';
import { TwilioSms, verifyTwilioBodySignature, verifyTwilioSignature } from '../../src/twilio/index.ts';

const ACCOUNT_SID = `AC${'3'.repeat(32)}`;
const AUTH_TOKEN = 'status-callback-token';
const PATIENT = '+17045550123';
const SID = `SM${'a'.repeat(32)}`;

let app: FastifyInstance;
let peer: TwilioPeer;
let publicUrl: string;
let statuses: TwilioStatus[];
let logLines: string[];

beforeEach(async () => {
  statuses = [];
  logLines = [];
  const logger: FastifyBaseLogger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
  app = Fastify({ loggerInstance: logger });
  // The public URL is known only once listening; the plugin reads it per request, so a getter supplies it.
  let url = '';
  await app.register(twilioStatusRoutes, {
    get publicUrl() {
      return url;
    },
    verifySignature: (request) => verifyTwilioSignature({ authToken: AUTH_TOKEN, ...request }),
    onStatus: (status) => {
      statuses.push(status);
    },
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  url = publicUrl = `${address}${TWILIO_STATUS_PATH}`;
  peer = await TwilioPeer.start({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
});

afterEach(async () => {
  await peer.close();
  await app.close();
});

function callbackParams(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    From: '+17045550100',
    MessageSid: SID,
    MessageStatus: 'delivered',
    SmsSid: SID,
    SmsStatus: 'delivered',
    To: PATIENT,
    ...overrides,
  };
}

describe('POST /v1/webhooks/twilio/status', () => {
  it('accepts the delivery reports of a message we sent (real client → peer → signed callback)', async () => {
    const sms = new TwilioSms({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: '+17045550100', apiUrl: peer.url, statusCallbackUrl: publicUrl });
    const sent = await sms.send({ to: PATIENT, body: 'Test: we received your request.', purpose: 'appointment' });
    expect(sent.ok).toBe(true);
    const sid = sent.sid ?? '';

    expect(await peer.reportStatus(sid, 'sent')).toEqual({ status: 204, body: '' });
    expect(await peer.reportStatus(sid, 'undelivered', 30003)).toEqual({ status: 204, body: '' });
    expect(statuses).toEqual([
      { sid, status: 'sent' },
      { sid, status: 'undelivered', errorCode: 30003 },
    ]);
  });

  it('refuses a callback whose parameters were changed after signing', async () => {
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, publicUrl, callbackParams({ MessageStatus: 'failed' }));
    const response = await postTwilioCallback({ url: publicUrl, authToken: AUTH_TOKEN, params: callbackParams(), signature });
    expect(response.status).toBe(403);
    expect(statuses).toEqual([]);
  });

  it('refuses a callback without a signature, or signed with another token or for another URL', async () => {
    expect((await postTwilioCallback({ url: publicUrl, authToken: AUTH_TOKEN, params: callbackParams(), signature: null })).status).toBe(403);
    expect((await postTwilioCallback({ url: publicUrl, authToken: 'not-our-token', params: callbackParams() })).status).toBe(403);
    const elsewhere = twilio.getExpectedTwilioSignature(AUTH_TOKEN, 'https://attacker.example/status', callbackParams());
    expect((await postTwilioCallback({ url: publicUrl, authToken: AUTH_TOKEN, params: callbackParams(), signature: elsewhere })).status).toBe(403);
    expect(statuses).toEqual([]);
  });

  it('answers 400 to a signed body that is not a status report, and to a body that is not a form', async () => {
    const garbage = await postTwilioCallback({ url: publicUrl, authToken: AUTH_TOKEN, params: { hello: 'world', MessageSid: 'nope' } });
    expect(garbage.status).toBe(400);
    const json = await fetch(publicUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-twilio-signature': 'x' },
      body: JSON.stringify(callbackParams()),
    });
    expect(json.status).toBe(400);
    expect(statuses).toEqual([]);
  });

  it('keeps phone numbers out of the logs, including for refused callbacks', async () => {
    await postTwilioCallback({ url: publicUrl, authToken: 'not-our-token', params: callbackParams() });
    await postTwilioCallback({ url: publicUrl, authToken: AUTH_TOKEN, params: callbackParams() });
    expect(statuses).toHaveLength(1);
    const all = logLines.join('');
    expect(all).toContain('twilio callback refused');
    expect(all).not.toContain('7045550123');
    expect(all).not.toContain('7045550100');
  });
});

describe('verifyTwilioSignature / verifyTwilioBodySignature (signatures from the twilio library)', () => {
  const url = 'https://callbridge.example.org/v1/webhooks/twilio/status?tenant=a';

  it('accepts Twilio\'s signature for the URL as configured, with or without the default port', () => {
    const params = callbackParams();
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params);
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, url, params, signature })).toBe(true);
    const withPort = 'https://callbridge.example.org:443/v1/webhooks/twilio/status?tenant=a';
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, url: withPort, params, signature })).toBe(true);
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, url: `${url}b`, params, signature })).toBe(false);
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, url, params: { ...params, To: '+17045559999' }, signature })).toBe(false);
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, url, params, signature: undefined })).toBe(false);
    expect(verifyTwilioSignature({ authToken: AUTH_TOKEN, url: 'not a url', params, signature })).toBe(false);
  });

  it('checks a JSON body through the bodySHA256 in the signed URL', () => {
    const body = JSON.stringify({ MessageSid: SID, MessageStatus: 'delivered' });
    const signedUrl = `https://callbridge.example.org/hooks?bodySHA256=${twilio.getExpectedBodyHash(body)}`;
    const signature = twilio.getExpectedTwilioSignature(AUTH_TOKEN, signedUrl, {});
    expect(verifyTwilioBodySignature({ authToken: AUTH_TOKEN, url: signedUrl, body, signature })).toBe(true);
    expect(verifyTwilioBodySignature({ authToken: AUTH_TOKEN, url: signedUrl, body: body.replace('delivered', 'failed'), signature })).toBe(false);
    expect(verifyTwilioBodySignature({ authToken: 'other', url: signedUrl, body, signature })).toBe(false);
    expect(verifyTwilioBodySignature({ authToken: AUTH_TOKEN, url: signedUrl, body, signature: undefined })).toBe(false);
  });
});
