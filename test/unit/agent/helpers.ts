// The real script and the real routing file's emergency phrases, as the app will wire them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseAgentScript } from '../../../src/agent/script.ts';
import { ResilientConversationEngine } from '../../../src/agent/resilient-engine.ts';
import { ScriptedAgent } from '../../../src/agent/scripted-agent.ts';
import type { ConversationEngine, ConversationStart, ConversationTurn } from '../../../src/core/voice-ports.ts';

const repoFile = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

export const agentYaml = readFileSync(repoFile('dialplan/agent.yaml'), 'utf8');

export function routingEmergencyPhrases(): string[] {
  const routing = parse(readFileSync(repoFile('dialplan/routing.yaml'), 'utf8')) as {
    emergency: { phrases: Record<string, string[]> };
  };
  return Object.values(routing.emergency.phrases).flat();
}

export function makeAgent(): ScriptedAgent {
  return new ScriptedAgent({
    script: parseAgentScript({ text: agentYaml, source: 'dialplan/agent.yaml' }),
    emergencyPhrases: routingEmergencyPhrases(),
  });
}

export const CALLER = '+17045550123';

export function startOf(callId: string, overrides: Partial<ConversationStart> = {}): ConversationStart {
  return {
    callId,
    caller: CALLER,
    did: '+17045550100',
    location: 'uptown',
    language: 'en-US',
    routing: { rule: 'ai-line', reason: 'AI answers this number', messageOnly: false },
    ...overrides,
  };
}

export const said = (text: string): ConversationTurn => ({ text, confidence: 0.92, partial: false });
export const pressed = (dtmf: string): ConversationTurn => ({ text: '', confidence: 0, partial: false, dtmf });
export const silence: ConversationTurn = { text: '', confidence: 0, partial: false };

export type ResilientOptions = ConstructorParameters<typeof ResilientConversationEngine>[0];

/**
 * The resilient engine as the tests drive it: `primary` first, the built-in agent behind it (its holding
 * phrase too), two misses before the fallback, a breaker of three, and a clock the test moves.
 */
export function resilientEngine(primary: ConversationEngine, fallback: ScriptedAgent, now: () => number, overrides: Partial<ResilientOptions> = {}): ResilientConversationEngine {
  return new ResilientConversationEngine({
    primary,
    fallback,
    deadlineMs: 1000,
    failuresBeforeFallback: 2,
    breakerThreshold: 3,
    recoveryMs: 30_000,
    holdingPhrase: (language) => fallback.holdingPhrase(language),
    now,
    ...overrides,
  });
}
