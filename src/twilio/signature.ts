// X-Twilio-Signature checks with the library's own validators, so our reading of Twilio's signing rules
// (URL + sorted form params, HMAC-SHA1 with the auth token; a bodySHA256 query parameter for JSON bodies)
// is Twilio's. The URL is the public one Twilio posted to, as configured, not what a proxy made of it.
import twilio from 'twilio';

export interface TwilioSignatureInput {
  authToken: string;
  /** The full public URL Twilio requested, query string included. */
  url: string;
  /** The form parameters of the request body. */
  params: Record<string, string | string[]>;
  /** The X-Twilio-Signature header; missing → invalid. */
  signature: string | undefined;
}

export function verifyTwilioSignature(input: TwilioSignatureInput): boolean {
  if (!input.signature) return false;
  try {
    return twilio.validateRequest(input.authToken, input.signature, input.url, input.params);
  } catch {
    // validateRequest parses the URL; a misconfigured one verifies nothing.
    return false;
  }
}

export interface TwilioBodySignatureInput {
  authToken: string;
  /** The full public URL, with Twilio's bodySHA256 query parameter. */
  url: string;
  /** The raw request body (JSON). */
  body: string;
  signature: string | undefined;
}

/** For Twilio webhooks with a JSON body: the signature covers the URL, the URL's bodySHA256 covers the body. */
export function verifyTwilioBodySignature(input: TwilioBodySignatureInput): boolean {
  if (!input.signature) return false;
  try {
    return twilio.validateRequestWithBody(input.authToken, input.signature, input.url, input.body);
  } catch {
    return false;
  }
}
