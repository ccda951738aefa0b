// Twilio adapter: text messages (the SmsSender port) and webhook signature checks; src/app/ wires it.
export { TWILIO_DEFAULT_API_URL, TwilioSms, maskNumber, type SmsLogger, type TwilioSmsOptions } from './twilio-sms.ts';
export {
  verifyTwilioBodySignature,
  verifyTwilioSignature,
  type TwilioBodySignatureInput,
  type TwilioSignatureInput,
} from './signature.ts';
