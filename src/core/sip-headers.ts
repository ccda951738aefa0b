// Context for the human who picks up, as SIP X-headers on the outgoing INVITE: FreeSWITCH's sofia turns a
// channel variable `sip_h_X-Foo` into the header `X-Foo`, so 3CX can show it.
//
// Where the variables go: a `{a=1,b=2}` block at the very start of a dial string sets them on EVERY leg the
// string creates (both `,` simultaneous and `|` one-after-another legs); `[a=1]` in front of one target sets
// them on that leg only. So the headers are merged into the leading `{…}` block (created when absent), and
// per-leg blocks such as `[leg_timeout=20]` stay untouched.
//
// Why values are sanitised: in a dial string `,` separates variables, `|` and `,` separate legs, `]`/`}`
// close blocks, `'` toggles FreeSWITCH's quoting and `\` escapes; a value carrying any of these could add a
// leg (an injected call) or a variable. Values arrive from callers' words (reason, summary), so they are
// reduced to a safe character set, collapsed to single spaces and bounded in length. A value with a space
// is wrapped in single quotes: the `originate` api splits its arguments on spaces outside quotes.
export const SIP_HEADER_NAMES = ['X-Callbridge-Call-Id', 'X-Callbridge-Reason', 'X-Callbridge-Summary-Url'] as const;

/** Longest value kept per header (SIP allows more; 3CX displays a line). */
export const MAX_SIP_HEADER_VALUE = 200;

/** Header names: SIP tokens only (letters, digits, `-`), so a name cannot inject either. */
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;

/** Characters kept in a value; everything else (dial-string syntax, quotes, controls, newlines) becomes a space. */
const UNSAFE = /[^A-Za-z0-9 .:/?&=_~%+@#;-]/g;

export function sanitizeSipHeaderValue(value: string): string {
  return value.normalize('NFKC').replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_SIP_HEADER_VALUE).trim();
}

/**
 * `dial` with `sip_h_<name>=<value>` for each header on every leg. Headers whose value is empty after
 * sanitising are left out; a header name that is not a plain token is refused (a programming error).
 */
export function withSipHeaders(dial: string, headers: Readonly<Record<string, string>>): string {
  const vars: string[] = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw new Error(`not a SIP header name: ${JSON.stringify(name)}`);
    const value = sanitizeSipHeaderValue(raw);
    if (value === '') continue;
    vars.push(`sip_h_${name}=${value.includes(' ') ? `'${value}'` : value}`);
  }
  if (vars.length === 0) return dial;
  const trimmed = dial.trimStart();
  if (trimmed.startsWith('{')) {
    const end = trimmed.indexOf('}');
    if (end < 0) throw new Error('dial string has an unclosed {…} block');
    const existing = trimmed.slice(1, end);
    return `{${existing === '' ? '' : `${existing},`}${vars.join(',')}}${trimmed.slice(end + 1)}`;
  }
  return `{${vars.join(',')}}${trimmed}`;
}
