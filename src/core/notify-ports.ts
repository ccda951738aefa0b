// Ports for telling people things (issue 6): text messages through Twilio, and system events (emergency
// alerts, transfers, mode changes) that go to the audit trail, the dashboard's live stream and webhooks.
// Adapters: src/twilio/ (SMS), src/app/ (the event bus). Nothing here may carry clinical details.

export type SmsPurpose = 'appointment' | 'emergency' | 'failover';

export interface SmsMessage {
  /** E.164. */
  to: string;
  /** Already free of clinical details (src/core/sms-templates.ts builds every body). */
  body: string;
  purpose: SmsPurpose;
  /** The call it is about, if any (recorded with the send, never put in logs with the number). */
  callId?: string;
}

export interface SmsResult {
  ok: boolean;
  /** Twilio's message SID when accepted. */
  sid?: string;
  /** Attempts made (retries on 429/5xx/network errors). */
  attempts: number;
  /** Why it failed, without the number or the body. */
  error?: string;
}

export interface SmsSender {
  /** Never rejects: a failure comes back as `ok: false` after the retries. */
  send(message: SmsMessage): Promise<SmsResult>;
}

export type SystemEventType =
  | 'CALL_STARTED'
  | 'CALL_ENDED'
  | 'CALL_TRANSFERRED'
  | 'EMERGENCY_ALERT'
  | 'SYSTEM_MODE_CHANGED'
  | 'SMS_SENT'
  | 'SMS_FAILED'
  /** Every move of a call's state machine (from → to), for the dashboard's live view. */
  | 'CALL_STATE_CHANGED'
  /** A finished recording was transcribed by a worker (ids and counts, never words). */
  | 'CALL_TRANSCRIBED'
  /** The caller's audio quality, read at hangup. */
  | 'VOICE_QUALITY'
  /** A call event reported by 3CX (POST /v1/webhooks/3cx), with how it was matched to our call. */
  | 'THREECX_CALL_EVENT';

export interface SystemEvent {
  type: SystemEventType;
  at: Date;
  callId?: string;
  /** Minimal, PHI-free details (ids, reasons, timings, masked numbers at most). */
  data: Record<string, unknown>;
}

export interface EventSink {
  publish(event: SystemEvent): void;
}
