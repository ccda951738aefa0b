// Who hears about an emergency, once its bridge is on the way: every EMERGENCY_NOTIFICATION_SMS recipient
// gets a text (call id and a link, never clinical words or the caller's number), and an EMERGENCY_ALERT
// system event goes out (log, and the audit trail, webhooks and live stream). Sending never delays the
// bridge: it starts after the bridge command and runs in the background.
import type { Logger } from 'pino';
import type { EmergencyTrigger } from '../core/emergency.ts';
import type { EventSink, SmsSender } from '../core/notify-ports.ts';
import { emergencyAlertSms } from '../core/sms-templates.ts';
import type { Metrics } from '../http/metrics.ts';
import { maskPhoneNumber } from './logger.ts';

export interface EmergencyAlertsOptions {
  /** Undefined when Twilio is not configured: the alert is then logged as not sent. */
  sms: SmsSender | undefined;
  recipients: () => readonly string[];
  /** Where the link in the text points (the call's context page); undefined → no link. */
  publicBaseUrl: string | undefined;
  practiceName: () => string;
  events: EventSink;
  metrics: Metrics;
  logger: Logger;
}

export class EmergencyAlerts {
  readonly #o: EmergencyAlertsOptions;
  readonly #sending = new Set<Promise<unknown>>();

  constructor(options: EmergencyAlertsOptions) {
    this.#o = options;
  }

  alert(callId: string, trigger: EmergencyTrigger, msToBridgeCommand: number): void {
    const { metrics, events } = this.#o;
    metrics.emergenciesTotal.inc({ trigger: trigger.kind });
    metrics.emergencyBridgeSeconds.observe(msToBridgeCommand / 1000);
    events.publish({ type: 'EMERGENCY_ALERT', at: new Date(), callId, data: { trigger: trigger.kind, msToBridgeCommand: Math.round(msToBridgeCommand) } });
    const recipients = this.#o.recipients();
    if (this.#o.sms === undefined || recipients.length === 0) {
      this.#o.logger.error({ callId, recipients: recipients.length }, 'emergency alert texts not sent: Twilio or EMERGENCY_NOTIFICATION_SMS is not configured');
      return;
    }
    const link = this.#o.publicBaseUrl === undefined ? '' : `${this.#o.publicBaseUrl}/v1/calls/${callId}/context`;
    const body = emergencyAlertSms({ callId, link, practiceName: this.#o.practiceName() });
    for (const to of recipients) this.#track(this.#send(callId, to, body));
  }

  /** Resolves when every text started so far has been sent or given up (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.#sending]);
  }

  async #send(callId: string, to: string, body: string): Promise<void> {
    const result = await this.#o.sms!.send({ to, body, purpose: 'emergency', callId });
    this.#o.metrics.smsTotal.inc({ purpose: 'emergency', outcome: result.ok ? 'sent' : 'failed' });
    this.#o.events.publish({
      type: result.ok ? 'SMS_SENT' : 'SMS_FAILED',
      at: new Date(),
      callId,
      data: { purpose: 'emergency', to: maskPhoneNumber(to), attempts: result.attempts, ...(result.error ? { error: result.error } : {}) },
    });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.#o.logger.error({ err: error }, 'emergency alert text failed')).finally(() => this.#sending.delete(tracked));
    this.#sending.add(tracked);
  }
}
