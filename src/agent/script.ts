// dialplan/agent.yaml: the scripted agent's prompts and keywords, validated with zod. Problems name the key
// and its line:col, so an admin's bad edit is refused with a message that points at the mistake.
import { readFile } from 'node:fs/promises';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { AgentScriptInvalidError } from '../core/errors.ts';

const phrase = z.string().trim().min(1);
const phrases = z.array(phrase).min(1);
const languageCode = z.string().regex(/^[a-z]{2,3}$/, 'expected a language code such as "en"');

const languageSchema = z.strictObject({
  greeting: phrase,
  greeting_message_only: phrase,
  message_taken: phrase,
  reprompts: phrases,
  not_understood: phrase,
  operator: phrase,
  emergency: phrase,
  anything_else: phrase,
  goodbye: phrase,
  holding: phrase,
  confirm_digits: phrase,
  yes: phrases,
  no: phrases,
  done: phrases,
});

const perLanguage = <T extends z.ZodType>(schema: T) => z.record(languageCode, schema);

const appointmentIntent = z.strictObject({
  flow: z.literal('appointment'),
  sms_template: z.string().regex(/^[a-z][a-z0-9_]*$/),
  keywords: perLanguage(phrases),
  prompts: perLanguage(
    z.strictObject({
      ask: phrase,
      confirm: phrase.refine((s) => s.includes('{preference}'), 'must contain {preference}'),
      done: phrase,
    }),
  ),
});

const transferIntent = z.strictObject({
  flow: z.literal('transfer'),
  target: z.string().min(1),
  /** What the person taking the call reads first: the topic, never what the caller said about their health. */
  summary: phrase,
  keywords: perLanguage(phrases),
  prompts: perLanguage(z.strictObject({ transfer: phrase })),
});

const scriptSchema = z.strictObject({
  version: z.literal(1, 'expected version: 1'),
  default_language: languageCode,
  operator_digit: z.string().regex(/^[0-9*#]$/, 'expected one DTMF digit'),
  max_reprompts: z.number().int().min(0).max(5),
  operator_target: z.string().min(1),
  languages: perLanguage(languageSchema),
  intents: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), z.discriminatedUnion('flow', [appointmentIntent, transferIntent])),
});

export type AgentScript = z.infer<typeof scriptSchema>;
export type LanguagePrompts = z.infer<typeof languageSchema>;
export type ScriptIntent = AgentScript['intents'][string];

/** Parses and validates a script; `source` names it in errors (a file name relative to the repo). */
export function parseAgentScript(options: { text: string; source: string }): AgentScript {
  const lineCounter = new LineCounter();
  const doc = parseDocument(options.text, { lineCounter, prettyErrors: false });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new AgentScriptInvalidError(
      options.source,
      doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split('\n')[0] ?? e.code}`),
    );
  }
  const parsed = scriptSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new AgentScriptInvalidError(
      options.source,
      parsed.error.issues.map((issue) => {
        // Point at the deepest node that exists (a missing key points at its parent).
        let path = issue.path.map(String);
        let node: unknown = doc.getIn(path, true);
        while (!isNode(node) && path.length > 0) {
          path = path.slice(0, -1);
          node = doc.getIn(path, true);
        }
        const where = isNode(node) && node.range ? `${at(node.range[0])}: ` : '';
        return `${where}${issue.path.join('.') || '(root)'}: ${issue.message}`;
      }),
    );
  }
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw new AgentScriptInvalidError(options.source, problems);
  return parsed.data;
}

export async function loadAgentScript(options: { path: string; source?: string }): Promise<AgentScript> {
  const text = await readFile(options.path, 'utf8');
  return parseAgentScript({ text, source: options.source ?? options.path });
}

/** What a schema cannot say: every language has every intent's keywords and prompts. */
function crossCheck(script: AgentScript): string[] {
  const problems: string[] = [];
  const languages = Object.keys(script.languages);
  if (!languages.includes(script.default_language)) {
    problems.push(`default_language: "${script.default_language}" is not one of languages (${languages.join(', ')})`);
  }
  for (const language of languages) {
    const prompts = script.languages[language];
    if (prompts && prompts.reprompts.length < script.max_reprompts) {
      problems.push(`languages.${language}.reprompts: needs ${script.max_reprompts} entries (max_reprompts)`);
    }
    for (const [id, intent] of Object.entries(script.intents)) {
      if (!intent.keywords[language]) problems.push(`intents.${id}.keywords.${language}: missing`);
      if (!intent.prompts[language]) problems.push(`intents.${id}.prompts.${language}: missing`);
    }
  }
  return problems;
}
