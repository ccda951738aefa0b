// What `api sofia status` (no arguments) says: the running SIP profiles and their gateways, parsed. Pure.
//
// From mod_sofia's cmd_status in 1.10 (no capture of it exists): a header row, a line of 97 '=', then one row
// per running profile, `<name>\tprofile\t  <url>\tRUNNING (<calls in use>)` (a second row with ` (TLS)` when
// the profile also listens for TLS), its gateways as `<profile>::<gateway>\tgateway\t  <register-to>\t<reg
// state>` (FAILED and TRYING add ` (retry: …)`), aliases as `<alias>\t  alias\t  <profile>\tALIASED`, the
// '=' line again and `N profile(s) M alias(es)`. Name and data are right-aligned in 25 and 40 columns. A
// profile that failed to start (a port in use, a bad IP) is not listed at all, and neither are its gateways.
import type { GatewayRegState } from './gateway-status.ts';

export interface SofiaSummary {
  /** Running profiles by name, each with its in-use count. */
  profiles: Map<string, { url: string; inUse: number }>;
  /** Gateways by `<profile>::<gateway>` with the registration state cmd_status prints. */
  gateways: Map<string, { profile: string; name: string; state: GatewayRegState | string }>;
}

/** Undefined when the text is not a sofia summary (e.g. `-ERR sofia Command not found!`). */
export function parseSofiaSummary(text: string): SofiaSummary | undefined {
  const lines = text.split('\n');
  if (!/^\s*Name\t\s*Type\t/.test(lines[0] ?? '')) return undefined;
  const summary: SofiaSummary = { profiles: new Map(), gateways: new Map() };
  for (const line of lines.slice(1)) {
    const cells = line.split('\t').map((c) => c.trim());
    if (cells.length < 4) continue;
    const [name = '', type = '', data = '', state = ''] = cells;
    if (type === 'profile') {
      const running = /^RUNNING \((\d+)\)/.exec(state);
      if (running !== null && !summary.profiles.has(name)) summary.profiles.set(name, { url: data, inUse: Number(running[1]) });
    } else if (type === 'gateway') {
      const split = name.indexOf('::');
      if (split < 0) continue;
      summary.gateways.set(name, { profile: name.slice(0, split), name: name.slice(split + 2), state: state.replace(/\s*\(retry: [^)]*\)$/, '') });
    }
  }
  return summary;
}
