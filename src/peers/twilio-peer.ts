// A local stand-in for Twilio's REST Messages API, speaking what the official `twilio` client sends:
// `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded (To, Body, From or
// MessagingServiceSid, StatusCallback), HTTP basic auth with AccountSid:AuthToken. It answers 201 with a
// message resource shaped like Twilio's (sid SM…, status queued/accepted, snake_case fields) or Twilio's
// error body `{code, message, more_info, status}` (400 for bad parameters, 401 for bad credentials, and
// whatever status `failNext` asks for). It can also play Twilio's part in status callbacks: posting a
// form body signed with X-Twilio-Signature (computed by the real library) to a URL.
// A local stand-in for tests, the demo and the bench; never used in production.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';

export interface TwilioPeerOptions {
  accountSid: string;
  authToken: string;
}

/** A message the peer accepted. */
export interface PeerMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  status: string;
}

export interface TwilioCallbackInput {
  url: string;
  authToken: string;
  params: Record<string, string>;
  /** Send this signature instead of the right one (tests of forged callbacks); null sends none. */
  signature?: string | null;
}

/** Posts a form body to `url` as Twilio does, signed with X-Twilio-Signature unless told otherwise. */
export async function postTwilioCallback(input: TwilioCallbackInput): Promise<{ status: number; body: string }> {
  const signature = input.signature === undefined
    ? twilio.getExpectedTwilioSignature(input.authToken, input.url, input.params)
    : input.signature;
  const response = await fetch(input.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'user-agent': 'TwilioProxy/1.1',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    body: new URLSearchParams(input.params).toString(),
  });
  return { status: response.status, body: await response.text() };
}

const API_VERSION = '2010-04-01';
const E164 = /^\+[1-9][0-9]{6,14}$/;
const ERROR_TEXT: Record<number, { code: number; message: string }> = {
  401: { code: 20003, message: 'Authenticate' },
  404: { code: 20404, message: 'The requested resource was not found' },
  429: { code: 20429, message: 'Too Many Requests' },
  500: { code: 20500, message: 'Internal Server Error' },
  503: { code: 20503, message: 'Service Unavailable' },
};

export class TwilioPeer {
  readonly messages: PeerMessage[] = [];
  /** Every Messages request that reached the peer, accepted or not. */
  requestCount = 0;
  readonly #server: Server;
  readonly #accountSid: string;
  readonly #authToken: string;
  #failures: { remaining: number; status: number | 'reset' } = { remaining: 0, status: 500 };

  private constructor(server: Server, options: TwilioPeerOptions) {
    this.#server = server;
    this.#accountSid = options.accountSid;
    this.#authToken = options.authToken;
  }

  static async start(options: TwilioPeerOptions): Promise<TwilioPeer> {
    const server = createServer();
    const peer = new TwilioPeer(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void peer.#handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return peer;
  }

  /** The API base URL to give the client (TWILIO_API_URL). */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * The next `count` Messages requests (after the auth check) answer with this HTTP status and Twilio's
   * error body, or with 'reset' have their connection dropped without an answer.
   */
  failNext(count: number, status: number | 'reset' = 500): void {
    this.#failures = { remaining: count, status };
  }

  /** Plays Twilio reporting a message's delivery status to the StatusCallback it was sent with. */
  async reportStatus(sid: string, status: string, errorCode?: number): Promise<{ status: number; body: string }> {
    const message = this.messages.find((m) => m.sid === sid);
    if (message?.statusCallback == null) throw new Error(`no status callback for ${sid}`);
    message.status = status;
    const params: Record<string, string> = {
      AccountSid: this.#accountSid,
      ApiVersion: API_VERSION,
      From: message.from ?? '',
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: message.to,
      ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
      ...(errorCode === undefined ? {} : { ErrorCode: String(errorCode) }),
    };
    return postTwilioCallback({ url: message.statusCallback, authToken: this.#authToken, params });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = (req.url ?? '').split('?')[0] ?? '';
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (req.method !== 'POST' || match === null) {
      sendError(res, 404);
      return;
    }
    this.requestCount += 1;
    if (!this.#authorized(req.headers.authorization, match[1] ?? '')) {
      sendError(res, 401);
      return;
    }
    if (this.#failures.remaining > 0) {
      this.#failures.remaining -= 1;
      if (this.#failures.status === 'reset') req.socket.destroy();
      else sendError(res, this.#failures.status);
      return;
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const to = form.get('To');
    const from = form.get('From');
    const messagingServiceSid = form.get('MessagingServiceSid');
    const body = form.get('Body');
    // Twilio's own codes and wording, number included: a client must not echo these into logs.
    if (to === null) return sendError(res, 400, 21604, "A 'To' phone number is required.");
    if (!E164.test(to)) return sendError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (from === null && messagingServiceSid === null) return sendError(res, 400, 21603, "A 'From' phone number is required.");
    if (body === null || body === '') return sendError(res, 400, 21602, 'Message body is required.');

    const message: PeerMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      to,
      from,
      messagingServiceSid,
      body,
      statusCallback: form.get('StatusCallback'),
      // With a messaging service Twilio picks the sender later, and says so with 'accepted'.
      status: from === null ? 'accepted' : 'queued',
    };
    this.messages.push(message);
    res.writeHead(201, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(this.#resource(message)));
  }

  #authorized(header: string | undefined, pathAccount: string): boolean {
    const [scheme, encoded] = (header ?? '').split(' ');
    if (scheme !== 'Basic' || encoded === undefined) return false;
    const expected = `${this.#accountSid}:${this.#authToken}`;
    return Buffer.from(encoded, 'base64').toString('utf8') === expected && pathAccount === this.#accountSid;
  }

  #resource(message: PeerMessage): Record<string, unknown> {
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const uri = `/${API_VERSION}/Accounts/${this.#accountSid}/Messages/${message.sid}`;
    return {
      account_sid: this.#accountSid,
      api_version: API_VERSION,
      body: message.body,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: message.from,
      messaging_service_sid: message.messagingServiceSid,
      num_media: '0',
      num_segments: String(Math.max(1, Math.ceil(message.body.length / 153))),
      price: null,
      price_unit: 'USD',
      sid: message.sid,
      status: message.status,
      subresource_uris: { media: `${uri}/Media.json` },
      to: message.to,
      uri: `${uri}.json`,
    };
  }
}

function sendError(res: ServerResponse, status: number, code?: number, message?: string): void {
  const known = ERROR_TEXT[status];
  const errorCode = code ?? known?.code ?? 20500;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({
    code: errorCode,
    message: message ?? known?.message ?? 'Error',
    more_info: `https://www.twilio.com/docs/errors/${errorCode}`,
    status,
  }));
}
