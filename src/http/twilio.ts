// Twilio's delivery status callbacks: `POST /v1/webhooks/twilio/status`, a form body signed with
// X-Twilio-Signature. Twilio holds no API token, so the route declares `auth: 'signature'` (the /v1 access
// check lets it through); the signature is its authentication and is checked before anything in the body is used:
// 403 for a missing or wrong signature, 400 for a signed body that is not a status report, 204 otherwise.
// The check itself is injected (src/twilio/ verifyTwilioSignature with the auth token), as adapters do not
// import each other. The body holds phone numbers (To, From): nothing of it is logged.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

export type TwilioFormParams = Record<string, string | string[]>;

export interface TwilioStatus {
  sid: string;
  /** Twilio's MessageStatus: queued, sent, delivered, undelivered, failed … */
  status: string;
  /** Twilio's error code for undelivered/failed messages. */
  errorCode?: number;
}

export interface TwilioStatusRoutesOptions {
  /** The URL exactly as Twilio is told to call it (TWILIO_STATUS_CALLBACK_URL): what Twilio signed. */
  publicUrl: string;
  /** True when the signature is Twilio's for this URL and these parameters. */
  verifySignature: (request: { url: string; params: TwilioFormParams; signature: string | undefined }) => boolean;
  onStatus: (status: TwilioStatus) => void | Promise<void>;
}

export const TWILIO_STATUS_PATH = '/v1/webhooks/twilio/status';

const statusBody = z.object({
  MessageSid: z.string().regex(/^(SM|MM)[0-9a-fA-F]{32}$/),
  MessageStatus: z.string().regex(/^[a-z_]{1,32}$/),
  ErrorCode: z.string().regex(/^[0-9]{1,8}$/).optional(),
});

class BadBody extends Error {
  readonly statusCode = 400;
}

export const twilioStatusRoutes: FastifyPluginAsync<TwilioStatusRoutesOptions> = async (app, options) => {
  // Scoped to this plugin: Twilio posts forms only; anything else is a malformed callback.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const params: TwilioFormParams = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = params[key];
      params[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    done(null, params);
  });
  app.addContentTypeParser('*', (_request, _payload, done) => done(new BadBody('expected a form-encoded body'), undefined));

  app.post(TWILIO_STATUS_PATH, { config: { auth: 'signature' } }, async (request, reply) => {
    const params = (request.body ?? {}) as TwilioFormParams;
    const header = request.headers['x-twilio-signature'];
    const signature = Array.isArray(header) ? header[0] : header;
    if (!options.verifySignature({ url: options.publicUrl, params, signature })) {
      request.log.warn({ route: TWILIO_STATUS_PATH, signature: signature === undefined ? 'missing' : 'invalid' }, 'twilio callback refused');
      return reply.code(403).send({ error: 'forbidden', message: 'Invalid Twilio signature' });
    }
    const parsed = statusBody.safeParse(params);
    if (!parsed.success) {
      return reply.code(400).send({ error: 'bad_request', message: 'Not a Twilio message status callback' });
    }
    const { MessageSid, MessageStatus, ErrorCode } = parsed.data;
    await options.onStatus({ sid: MessageSid, status: MessageStatus, ...(ErrorCode === undefined ? {} : { errorCode: Number(ErrorCode) }) });
    return reply.code(204).send();
  });
};
