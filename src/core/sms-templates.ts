// Every text message body callbridge sends (issue 6). Bodies carry no clinical details: the appointment
// messages are fixed wording, and of the values the AI engine passes only two may shape them — `language`
// (en/es picks the wording) and `preference` (a day/time), the latter only when every word of it comes
// from a closed day-and-time vocabulary, so nothing the caller said about their health can reach a phone.
// Emergency alerts carry a call id and a link, never the caller's number or what was said.
// Bodies use only the GSM 03.38 basic character set (one septet per character, so a body is never
// re-encoded as UCS-2 and its length is its cost). Every part is bounded (practice name, call id, link,
// preference), so no body can exceed SMS_MAX_LENGTH; the unit tests check it with the longest inputs.

export const SMS_MAX_LENGTH = 320;

// GSM 03.38 basic set, without the escape table (^{}[]~|€\ cost two septets and are not needed).
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);

export function isGsmSafe(text: string): boolean {
  for (const char of text) if (!GSM_BASIC.has(char)) return false;
  return true;
}

/** Best GSM rendering of configured text: accents the set lacks are dropped (á → a), anything else removed. */
export function toGsm(text: string): string {
  let out = '';
  for (const char of text) {
    if (GSM_BASIC.has(char)) out += char;
    else for (const base of char.normalize('NFD')) if (GSM_BASIC.has(base)) out += base;
  }
  return out.replace(/\s+/g, ' ').trim();
}

const PRACTICE_NAME_MAX = 40;
const DEFAULT_PRACTICE_NAME = 'Your care team';

function practiceLabel(name: string | undefined): string {
  const clean = toGsm(name ?? '').slice(0, PRACTICE_NAME_MAX).trim();
  return clean === '' ? DEFAULT_PRACTICE_NAME : clean;
}

// ---------------------------------------------------------------------------------------------------------
// Appointment messages (the agent's `send_sms` action).

type Language = 'en' | 'es';

interface Wording {
  /** `pref` is a whitelisted day/time or undefined. */
  body(practice: string, pref: string | undefined): string;
}

const OPT_OUT: Record<Language, string> = {
  en: 'Reply STOP to opt out.',
  es: 'Responda STOP para no recibir mensajes.',
};

const APPOINTMENT_TEMPLATES: Record<string, Record<Language, Wording>> = {
  appointment_request: {
    en: { body: (p, pref) => `${p}: we received your appointment request${pref ? ` for ${pref}` : ''}. Our team will call or text you to confirm. ${OPT_OUT.en}` },
    es: { body: (p, pref) => `${p}: recibimos su solicitud de cita${pref ? ` para ${pref}` : ''}. Nuestro equipo le llamara o le enviara un mensaje para confirmarla. ${OPT_OUT.es}` },
  },
  appointment_reschedule: {
    en: { body: (p, pref) => `${p}: we received your request to reschedule your appointment${pref ? ` to ${pref}` : ''}. Our team will call or text you to confirm the new time. ${OPT_OUT.en}` },
    es: { body: (p, pref) => `${p}: recibimos su solicitud para cambiar su cita${pref ? ` a ${pref}` : ''}. Nuestro equipo le llamara o le enviara un mensaje para confirmar el nuevo horario. ${OPT_OUT.es}` },
  },
  appointment_cancel: {
    en: { body: (p, pref) => `${p}: we received your request to cancel your appointment${pref ? ` on ${pref}` : ''}. Our team will text you once it is done. ${OPT_OUT.en}` },
    es: { body: (p, pref) => `${p}: recibimos su solicitud para cancelar su cita${pref ? ` del ${pref}` : ''}. Nuestro equipo le enviara un mensaje cuando este hecho. ${OPT_OUT.es}` },
  },
};

// For a template this build does not know: says nothing but that the request arrived.
const GENERIC: Record<Language, Wording> = {
  en: { body: (p) => `${p}: we received your request. Our team will contact you soon. ${OPT_OUT.en}` },
  es: { body: (p) => `${p}: recibimos su solicitud. Nuestro equipo se comunicara con usted pronto. ${OPT_OUT.es}` },
};

export const APPOINTMENT_TEMPLATE_NAMES: readonly string[] = Object.keys(APPOINTMENT_TEMPLATES);

const DAYS: Record<string, string> = {
  monday: 'Monday', tuesday: 'Tuesday', wednesday: 'Wednesday', thursday: 'Thursday', friday: 'Friday',
  saturday: 'Saturday', sunday: 'Sunday', january: 'January', february: 'February', march: 'March',
  april: 'April', may: 'May', june: 'June', july: 'July', august: 'August', september: 'September',
  october: 'October', november: 'November', december: 'December',
};
// Words a day/time preference may be made of (English and Spanish, accents removed). Anything else in
// the value — a symptom, a name, a medication — makes the whole preference be left out.
const TIME_WORDS = new Set([
  ...Object.keys(DAYS),
  'today', 'tomorrow', 'next', 'this', 'week', 'morning', 'afternoon', 'evening', 'noon', 'at', 'on', 'the',
  'in', 'or', 'and', 'am', 'pm', 'early', 'late', 'after', 'before', 'around', 'anytime', 'any', 'time', 'of',
  'lunes', 'martes', 'miercoles', 'jueves', 'viernes', 'sabado', 'domingo', 'hoy', 'manana', 'pasado',
  'proxima', 'proximo', 'esta', 'este', 'semana', 'tarde', 'noche', 'mediodia', 'a', 'las', 'la', 'el', 'de',
  'del', 'en', 'por', 'y', 'o', 'temprano', 'antes', 'despues', 'cualquier', 'hora', 'enero', 'febrero',
  'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre',
]);
const NUMBER_WORD = /^(\d{1,2}(:\d{2})?(am|pm)?|\d{1,2}(st|nd|rd|th))$/;
const PREFERENCE_MAX_WORDS = 8;
// Two numbers make a day and a time; more could spell a date of birth or a phone number.
const PREFERENCE_MAX_NUMBERS = 2;

/** The preference as it may be printed, or undefined when any word of it is outside the vocabulary. */
export function safePreference(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const words = value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\./g, '')
    .split(/[\s,]+/)
    .filter((word) => word !== '');
  if (words.length === 0 || words.length > PREFERENCE_MAX_WORDS) return undefined;
  let numbers = 0;
  for (const word of words) {
    if (NUMBER_WORD.test(word)) numbers += 1;
    else if (!TIME_WORDS.has(word)) return undefined;
  }
  if (numbers > PREFERENCE_MAX_NUMBERS) return undefined;
  return words.map((word) => DAYS[word] ?? word).join(' ');
}

/**
 * The body for the agent's `send_sms` action. Of `values`, only `language` ('es' for Spanish, English
 * otherwise) and a whitelisted `preference` are used; an unknown template gets a generic body.
 */
export function appointmentSms(template: string, values: Record<string, string>, practiceName: string): string {
  const language: Language = values.language?.toLowerCase().startsWith('es') ? 'es' : 'en';
  const wording = (APPOINTMENT_TEMPLATES[template] ?? GENERIC)[language];
  return wording.body(practiceLabel(practiceName), safePreference(values.preference));
}

// ---------------------------------------------------------------------------------------------------------
// Staff messages.

const CALL_ID = /^[A-Za-z0-9_-]{1,64}$/;
// http(s) URLs made of GSM-safe URL characters only; a link that does not fit is left out, not mangled.
const LINK = /^https?:\/\/[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]{1,140}$/;

export interface EmergencyAlertInput {
  callId: string;
  /** Where staff see the call (the dashboard; behind login). */
  link: string;
  practiceName?: string;
}

/** For every EMERGENCY_NOTIFICATION_SMS recipient: that an emergency call is being connected, which one, where to look. */
export function emergencyAlertSms(input: EmergencyAlertInput): string {
  const callId = CALL_ID.test(input.callId) ? input.callId : 'unknown';
  const link = LINK.test(input.link) ? ` Details: ${input.link}` : '';
  return `${practiceLabel(input.practiceName)} EMERGENCY: a caller is being connected to staff now. Call ${callId}.${link}`;
}

const MODE_TEXT: Record<string, string> = {
  normal: 'back to normal: the AI assistant and 3CX are handling calls again',
  'ai-down': 'AI assistant unavailable: every new call goes straight to staff',
  '3cx-down': '3CX unreachable: calls go to the on-call numbers through the backup trunk',
};

export interface FailoverNoticeInput {
  /** The system mode entered (src/core/routing/types.ts SystemMode, or a future mode's name). */
  mode: string;
  since: Date;
  practiceName?: string;
}

/** For staff when the phone system changes mode. */
export function failoverNoticeSms(input: FailoverNoticeInput): string {
  const text = MODE_TEXT[input.mode] ?? `mode ${/^[a-z0-9-]{1,32}$/.test(input.mode) ? input.mode : 'changed'}`;
  const time = input.since.getTime();
  const since = Number.isNaN(time) ? '' : ` since ${new Date(time).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `${practiceLabel(input.practiceName)} phone system: ${text}${since}.`;
}
