// `show channels as json`. Idle FreeSWITCH prints `{"row_count": 0}` (with a space, no "rows" key); with
// channels it prints `{"row_count":N,"rows":[…]}` (trace rule 11). Rows come from FreeSWITCH's core
// database, written asynchronously, so a channel created a moment ago can still be missing.
import { EslProtocolError } from '../core/errors.ts';

export interface ChannelRow {
  uuid: string;
  direction: string;
  created_epoch: string;
  name: string;
  state: string;
  callstate: string;
  cid_num: string;
  dest: string;
  application: string;
  call_uuid: string;
  [column: string]: string;
}

export function parseChannelRows(body: string): ChannelRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new EslProtocolError(`show channels: not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || !('row_count' in parsed)) {
    throw new EslProtocolError('show channels: no row_count');
  }
  const rows = (parsed as { rows?: unknown }).rows;
  if (rows === undefined) return [];
  if (!Array.isArray(rows)) throw new EslProtocolError('show channels: rows is not a list');
  return rows.map((row: unknown) => {
    const out: Record<string, string> = {};
    if (typeof row === 'object' && row !== null) {
      for (const [k, v] of Object.entries(row)) out[k] = v === null || v === undefined ? '' : String(v);
    }
    return out as ChannelRow;
  });
}
