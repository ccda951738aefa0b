import { describe, expect, it } from 'vitest';
import { parseAgentScript } from '../../../src/agent/script.ts';
import { AgentScriptInvalidError } from '../../../src/core/errors.ts';
import { agentYaml } from './helpers.ts';

function problemsOf(text: string): readonly string[] {
  try {
    parseAgentScript({ text, source: 'agent.yaml' });
  } catch (error) {
    expect(error).toBeInstanceOf(AgentScriptInvalidError);
    expect((error as AgentScriptInvalidError).code).toBe('AGENT_SCRIPT_INVALID');
    return (error as AgentScriptInvalidError).problems;
  }
  throw new Error('expected the script to be refused');
}

describe('agent script validation', () => {
  it('accepts the shipped dialplan/agent.yaml', () => {
    const script = parseAgentScript({ text: agentYaml, source: 'dialplan/agent.yaml' });
    expect(Object.keys(script.languages)).toEqual(['en', 'es']);
    expect(script.operator_digit).toBe('0');
  });

  it('points a YAML syntax error at its line and column', () => {
    const problems = problemsOf('version: 1\nlanguages: [en\n');
    expect(problems[0]).toMatch(/^\d+:\d+: /);
  });

  it('names the key and line of a schema error', () => {
    const broken = agentYaml.replace('max_reprompts: 2', 'max_reprompts: lots');
    const problems = problemsOf(broken);
    const line = agentYaml.split('\n').findIndex((l) => l.startsWith('max_reprompts')) + 1;
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^${line}:\\d+: max_reprompts: `))]);
  });

  it('refuses a confirm prompt without {preference}', () => {
    const broken = agentYaml.replace('I have a request for {preference}. Is that right?', 'Is that right?');
    expect(problemsOf(broken)).toEqual([
      expect.stringMatching(/intents\.book_appointment\.prompts\.en\.confirm: must contain \{preference\}/),
    ]);
  });

  it('refuses a language that lacks an intent’s keywords', () => {
    const broken = agentYaml.replace('      es: ["cancelar", "anular"]\n', '');
    expect(problemsOf(broken)).toContain('intents.cancel_appointment.keywords.es: missing');
  });

  it('refuses an unknown key (a typo is not silently ignored)', () => {
    const broken = agentYaml.replace('max_reprompts: 2', 'max_reprompts: 2\nmax_repromts: 3');
    expect(problemsOf(broken).join('\n')).toMatch(/max_repromts/);
  });
});
