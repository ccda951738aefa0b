import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPOINTMENT_TEMPLATE_NAMES,
  SMS_MAX_LENGTH,
  appointmentSms,
  emergencyAlertSms,
  failoverNoticeSms,
  isGsmSafe,
  safePreference,
  toGsm,
} from '../../../src/core/sms-templates.ts';

const PRACTICE = 'Carolina Skin Clinic';
const templates = [...APPOINTMENT_TEMPLATE_NAMES, 'no_such_template'];

function expectSendable(body: string): void {
  expect(body.length).toBeLessThanOrEqual(SMS_MAX_LENGTH);
  expect(isGsmSafe(body)).toBe(true);
}

describe('appointmentSms', () => {
  it('knows the templates the built-in agent names in dialplan/agent.yaml', () => {
    expect(APPOINTMENT_TEMPLATE_NAMES).toEqual(expect.arrayContaining(['appointment_request', 'appointment_reschedule', 'appointment_cancel']));
  });

  it('confirms the request with the practice name, a day/time preference and the opt-out', () => {
    const body = appointmentSms('appointment_request', { preference: 'monday at 9', language: 'en' }, PRACTICE);
    expect(body).toBe(
      'Carolina Skin Clinic: we received your appointment request for Monday at 9. Our team will call or text you to confirm. Reply STOP to opt out.',
    );
  });

  it('words a reschedule and a cancellation differently', () => {
    expect(appointmentSms('appointment_reschedule', { preference: 'Friday afternoon' }, PRACTICE)).toContain('reschedule your appointment to Friday afternoon');
    expect(appointmentSms('appointment_cancel', {}, PRACTICE)).toContain('cancel your appointment.');
  });

  it('writes Spanish when the call was in Spanish, without characters outside the GSM set', () => {
    const body = appointmentSms('appointment_request', { preference: 'el miércoles por la mañana', language: 'es' }, PRACTICE);
    expect(body).toBe(
      'Carolina Skin Clinic: recibimos su solicitud de cita para el miercoles por la manana. Nuestro equipo le llamara o le enviara un mensaje para confirmarla. Responda STOP para no recibir mensajes.',
    );
    expectSendable(body);
  });

  it('leaves out a preference carrying anything but days and times', () => {
    for (const preference of [
      'monday, my rash is worse',
      'after my chemo on tuesday',
      'tuesday at 9 call Maria',
      '3 14 62 at 9', // could be a date of birth
      'lunes, tengo dolor',
    ]) {
      const body = appointmentSms('appointment_request', { preference }, PRACTICE);
      expect(body).toBe(appointmentSms('appointment_request', {}, PRACTICE));
    }
  });

  it('gives an unknown template a generic body that says nothing about the request', () => {
    const body = appointmentSms('biopsy_results_ready', { preference: 'monday', result: 'benign' }, PRACTICE);
    expect(body).toBe('Carolina Skin Clinic: we received your request. Our team will contact you soon. Reply STOP to opt out.');
  });

  it('never prints a value other than a whitelisted preference, and always fits in a GSM message of 320 characters', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...templates),
        fc.dictionary(fc.stringMatching(/^[a-z_]{1,12}$/), fc.stringMatching(/^Qx[a-zA-Z ]{1,40}$/)),
        fc.string({ maxLength: 200 }).map((name) => name.replace(/Q/g, '')),
        (template, values, practiceName) => {
          const body = appointmentSms(template, values, practiceName);
          expectSendable(body);
          for (const [key, value] of Object.entries(values)) if (key !== 'language') expect(body).not.toContain(value.trim());
          expect(body).not.toContain('Qx');
        },
      ),
    );
  });

  it('fits the longest practice name and preference', () => {
    const preference = 'septiembre septiembre septiembre septiembre septiembre septiembre 12:30pm 11:45am';
    expect(safePreference(preference)).toBeDefined();
    for (const template of templates) {
      for (const language of ['en', 'es']) expectSendable(appointmentSms(template, { preference, language }, 'Ñ'.repeat(500)));
    }
  });
});

describe('safePreference', () => {
  it('accepts days, times and their connecting words and normalises them', () => {
    expect(safePreference('next Tuesday, 10:30 a.m.')).toBe('next Tuesday 10:30 am');
    expect(safePreference('the 3rd of March in the morning')).toBe('the 3rd of March in the morning');
    expect(safePreference('  ')).toBeUndefined();
  });
});

describe('emergencyAlertSms', () => {
  it('carries the call id and the link, and no clinical text', () => {
    const body = emergencyAlertSms({ callId: 'c-4f2a', link: 'https://dash.example.org/calls/c-4f2a', practiceName: PRACTICE });
    expect(body).toBe('Carolina Skin Clinic EMERGENCY: a caller is being connected to staff now. Call c-4f2a. Details: https://dash.example.org/calls/c-4f2a');
    expectSendable(body);
  });

  it('refuses to print a call id or link that could smuggle other text', () => {
    const body = emergencyAlertSms({ callId: 'chest pain +17045550123', link: 'javascript:alert(1)' });
    expect(body).toBe('Your care team EMERGENCY: a caller is being connected to staff now. Call unknown.');
  });

  it('fits with the longest accepted parts', () => {
    const body = emergencyAlertSms({ callId: 'a'.repeat(64), link: `https://${'x'.repeat(132)}`, practiceName: 'P'.repeat(300) });
    expect(body).toContain('a'.repeat(64));
    expect(body).toContain('x'.repeat(132));
    expectSendable(body);
  });
});

describe('failoverNoticeSms', () => {
  it('says which mode the system is in and since when (UTC)', () => {
    const body = failoverNoticeSms({ mode: '3cx-down', since: new Date('2026-11-25T21:58:12Z'), practiceName: PRACTICE });
    expect(body).toBe(
      'Carolina Skin Clinic phone system: 3CX unreachable: calls go to the on-call numbers through the backup trunk since 2026-11-25 21:58 UTC.',
    );
    expectSendable(body);
  });

  it('names a mode it has no wording for, but only if it looks like a mode name', () => {
    expect(failoverNoticeSms({ mode: 'pstn-only', since: new Date(Number.NaN) })).toBe('Your care team phone system: mode pstn-only.');
    expect(failoverNoticeSms({ mode: 'Call +17045550123 now', since: new Date(0) })).toContain('mode changed since 1970-01-01 00:00 UTC');
  });
});

describe('toGsm', () => {
  it('keeps GSM letters, drops accents the set lacks and removes the rest', () => {
    expect(toGsm('Clínica Niño  Café 😀 ')).toBe('Clinica Niño Café');
    expect(isGsmSafe(toGsm('Zoë’s “Clinic”'))).toBe(true);
  });
});
