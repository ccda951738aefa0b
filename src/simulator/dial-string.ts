// FreeSWITCH dial strings with several targets, as `bridge` takes them:
//   {global=vars}[leg=vars]target1,[leg=vars]target2|target3
// `,` rings its targets at the same time (the first to answer wins), `|` tries the next group only when the
// whole previous group failed. `[leg_timeout=N]` limits how long one leg rings. The single-target dialling
// itself is legs.ts's `dial`.
import type { CallSession } from './session.ts';
import type { Switchboard } from './switchboard.ts';
import { dial, type DialResult } from './legs.ts';

/** Splits on `separator` outside {…} and […] blocks. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth = Math.max(0, depth - 1);
    else if (c === separator && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** `{a=1,b=2}` (or `[…]`) in front of `text`: the variables and the rest. */
function leadingVars(text: string, open: '{' | '['): { vars: string[]; rest: string } {
  const close = open === '{' ? '}' : ']';
  if (!text.startsWith(open)) return { vars: [], rest: text };
  const end = text.indexOf(close);
  if (end < 0) return { vars: [], rest: text };
  return { vars: text.slice(1, end).split(',').filter((v) => v.includes('=')), rest: text.slice(end + 1) };
}

/** One leg as legs.ts dials it: all its variables in front, leg_timeout as the leg's originate_timeout. */
function legDialString(globalVars: string[], leg: string): string {
  const { vars: legVars, rest } = leadingVars(leg, '[');
  const vars = [...globalVars, ...legVars].map((v) => (v.startsWith('leg_timeout=') ? `originate_timeout=${v.slice('leg_timeout='.length)}` : v));
  return vars.length === 0 ? rest : `{${vars.join(',')}}${rest}`;
}

export async function dialTargets(engine: Switchboard, opts: { dial: string; caller?: CallSession }): Promise<DialResult> {
  const { vars: globalVars, rest } = leadingVars(opts.dial.trim(), '{');
  let last: DialResult = { cause: 'NO_ROUTE_DESTINATION' };
  for (const group of splitTopLevel(rest, '|')) {
    if (opts.caller !== undefined && !opts.caller.ch.isUp) return { cause: opts.caller.ch.hangupCause ?? 'ORIGINATOR_CANCEL' };
    const legs = splitTopLevel(group, ',').map((leg) => legDialString(globalVars, leg));
    last = legs.length === 1 ? await dial(engine, { dial: legs[0] as string, caller: opts.caller }) : await ringAll(engine, legs, opts.caller);
    if (last.session !== undefined) return last;
  }
  return last;
}

/**
 * Rings every leg at once; the first to answer wins and any that answer later are hung up (LOSE_RACE).
 * Unlike FreeSWITCH, legs still ringing when one answers are not cancelled at once: they ring out.
 */
async function ringAll(engine: Switchboard, legs: string[], caller: CallSession | undefined): Promise<DialResult> {
  let winner: CallSession | undefined;
  const results = await new Promise<DialResult[]>((resolve) => {
    const settled: DialResult[] = [];
    for (const leg of legs) {
      void dial(engine, { dial: leg, caller }).then((result) => {
        if (result.session !== undefined) {
          if (winner === undefined) {
            winner = result.session;
            resolve([result]);
          } else result.session.hangup('LOSE_RACE');
        }
        settled.push(result);
        if (settled.length === legs.length) resolve(settled);
      });
    }
  });
  return winner !== undefined ? { session: winner } : (results.at(-1) ?? { cause: 'NO_ANSWER' });
}
