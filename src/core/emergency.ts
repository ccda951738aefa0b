// Emergency escalation, the pure parts: spotting an emergency phrase in what the caller said (partial
// transcripts included: seconds matter more than a finished sentence), and the dial string that reaches a
// person. FreeSWITCH tries `|`-separated targets one after another within one `bridge`, so the emergency
// line, the manager and the backup trunk are all in the first command: no round trip is lost between them.
import type { Gateways } from './call-plan.ts';
import { normalize, PhraseSet } from './phrases.ts';
import type { SystemMode } from './routing/types.ts';

export type EmergencyTrigger =
  /** A phrase from routing.yaml's emergency.phrases heard in a transcript (partial or final). */
  | { kind: 'phrase'; language: 'en' | 'es'; index: number }
  /** The AI engine's `emergency` action. */
  | { kind: 'agent'; reason: string }
  /** The caller pressed the emergency escape. */
  | { kind: 'dtmf' }
  /** Staff took the call over from the dashboard. */
  | { kind: 'staff'; by: string };

export interface EmergencyTargets {
  /** The emergency line (on-call provider), E.164, and the trunk it is normally reached through. */
  number: string;
  via: 'threecx' | 'twilio';
  /** The practice manager's 3CX extension: the second person tried. */
  managerExtension: string;
}

/** Seconds each emergency target rings before the next is tried. */
export const EMERGENCY_RING_SECONDS = 20;

export function emergencyDial(targets: EmergencyTargets, gateways: Gateways, mode: SystemMode): { dial: string; fallbackDial: string } {
  const leg = (gateway: string, destination: string): string =>
    `[leg_timeout=${EMERGENCY_RING_SECONDS}]sofia/gateway/${gateway}/${destination.replace(/[^0-9+*#]/g, '')}`;
  const legs: string[] = [];
  // With 3CX down only the backup trunk can reach anyone.
  if (mode !== '3cx-down') {
    legs.push(leg(targets.via === 'twilio' ? gateways.twilio : gateways.threecx, targets.number));
    legs.push(leg(gateways.threecx, targets.managerExtension));
  }
  if (targets.via !== 'twilio' || mode === '3cx-down') legs.push(leg(gateways.twilio, targets.number));
  const dial = legs.join('|');
  // Nobody answered any of them: go round once more rather than leave the caller alone.
  return { dial, fallbackDial: dial };
}

export class EmergencyPhrases {
  readonly #sets: { language: 'en' | 'es'; phrases: readonly string[]; set: PhraseSet }[];

  constructor(phrases: { en: readonly string[]; es: readonly string[] }) {
    this.#sets = (['en', 'es'] as const).map((language) => ({ language, phrases: phrases[language], set: new PhraseSet(phrases[language]) }));
  }

  /** The first emergency phrase in `text` (any language: callers mix them), or undefined. */
  find(text: string): { language: 'en' | 'es'; index: number } | undefined {
    const form = normalize(text);
    for (const { language, phrases, set } of this.#sets) {
      const phrase = set.find(form);
      if (phrase !== undefined) return { language, index: phrases.indexOf(phrase) };
    }
    return undefined;
  }
}
