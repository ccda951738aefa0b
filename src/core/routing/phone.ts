// Caller and DID numbers arrive in whatever form the carrier and 3CX chose ("+17045550100", "17045550100",
// "(704) 555-0100", "anonymous"). The routing file is written in E.164, so both sides meet there.
// The practice is in North America: 10 digits get +1, 11 digits starting with 1 get +.

const ANONYMOUS = new Set(['', 'anonymous', 'unknown', 'restricted', 'private', 'unavailable']);

/** E.164 when the input can be read as a phone number, otherwise the bare digits, or '' when withheld. */
export function normalizeNumber(raw: string): string {
  const trimmed = raw.trim();
  if (ANONYMOUS.has(trimmed.toLowerCase())) return '';
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length === 0) return '';
  if (trimmed.startsWith('+')) return `+${digits}`;
  if (digits.length === 10) return `+1${digits}`;
  if (digits.length === 11 && digits.startsWith('1')) return `+${digits}`;
  return digits;
}

export function isAnonymous(raw: string): boolean {
  return normalizeNumber(raw) === '';
}

/** Keeps the last 4 digits; what a log or an admin message may show of a phone number. */
export function maskNumber(raw: string): string {
  const digits = raw.replace(/\D/g, '');
  if (digits.length === 0) return raw.trim() === '' ? '(no number)' : '(withheld)';
  if (digits.length <= 4) return `…${digits}`;
  return `…${digits.slice(-4)}`;
}
