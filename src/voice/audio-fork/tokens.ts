// Per-call single-use tokens and the fork URL. The URL is what the controller hands FreeSWITCH in
// `uuid_audio_fork <uuid> start <url> …`; FreeSWITCH splits that command on spaces, so nothing in it may
// contain one (the call id is percent-encoded, the token is base64url).
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison (the lengths are not secret: every token has the same length). */
export function tokenMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `<base><path>/<callId>?token=<token>`; base is e.g. `ws://10.0.0.5:8080` (a trailing slash is fine). */
export function forkUrl(options: { base: string; path: string; callId: string; token: string }): string {
  const base = options.base.replace(/\/+$/, '');
  return `${base}${options.path}/${encodeURIComponent(options.callId)}?token=${encodeURIComponent(options.token)}`;
}

export type ParsedForkRequest =
  | { kind: 'other' }
  | { kind: 'fork'; callId: string; token: string | undefined };

/**
 * Reads a request target (`/v1/audio-fork/abc?token=…`). `other` means the path is not ours at all; a
 * `fork` with an empty/undecodable call id is still ours (refused as unknown).
 */
export function parseForkRequest(target: string | undefined, path: string): ParsedForkRequest {
  if (target === undefined) return { kind: 'other' };
  const q = target.indexOf('?');
  const pathname = q < 0 ? target : target.slice(0, q);
  const prefix = `${path}/`;
  if (!pathname.startsWith(prefix)) return { kind: 'other' };
  const rawId = pathname.slice(prefix.length);
  let callId = '';
  try {
    callId = rawId.includes('/') ? '' : decodeURIComponent(rawId);
  } catch {
    callId = '';
  }
  const token = q < 0 ? undefined : (new URLSearchParams(target.slice(q + 1)).get('token') ?? undefined);
  return { kind: 'fork', callId, token };
}
