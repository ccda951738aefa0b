// The built-in agent: a deterministic conversation driven by dialplan/agent.yaml. It serves the demo and
// stands in when the external AI engine is down, so it must never leave the caller without an answer: every
// turn gets a prompt, a reprompt, or a hand-off to a person. State is per call, in memory, dropped at end().
import type {
  AgentAction,
  AgentReply,
  AgentReplyChunk,
  ConversationEngine,
  ConversationStart,
  ConversationTurn,
} from '../core/voice-ports.ts';
import { normalize, PhraseSet } from '../core/phrases.ts';
import { replyChunks } from './reply-stream.ts';
import type { AgentScript, LanguagePrompts, ScriptIntent } from './script.ts';

export interface ScriptedAgentOptions {
  script: AgentScript;
  /** Emergency phrases of every language (routing.yaml's emergency.phrases); any of them on any line. */
  emergencyPhrases: readonly string[];
  /** How long the caller has to press a digit when the agent asks for one. */
  digitTimeoutMs?: number;
}

type Stage =
  | { kind: 'intent' }
  | { kind: 'collect'; intent: string }
  | { kind: 'confirm'; intent: string; preference: string }
  | { kind: 'anything_else' }
  | { kind: 'message' }
  | { kind: 'done' };

interface CallState {
  language: string;
  caller: string;
  stage: Stage;
  /** Misunderstood or silent turns in a row. */
  misses: number;
  lastUtterance: string;
}

interface LanguageMatchers {
  yes: PhraseSet;
  no: PhraseSet;
  done: PhraseSet;
  intents: { id: string; intent: ScriptIntent; keywords: PhraseSet }[];
}

const MAX_QUOTED = 160;
/** A follow-up call the practice placed (routing rule `outbound`) opens differently from an incoming call. */
const OUTBOUND_GREETING: Record<string, string> = {
  en: "Hello, this is the practice's virtual assistant, calling you back. How can I help you today? You can say book, reschedule or cancel an appointment, billing, or test results.",
  es: 'Hola, le habla la asistente virtual de la clínica, devolviéndole la llamada. ¿En qué puedo ayudarle? Puede decir hacer, cambiar o cancelar una cita, facturación o resultados.',
};
const E164 = /^\+[1-9][0-9]{6,14}$/;

export class ScriptedAgent implements ConversationEngine {
  private readonly script: AgentScript;
  private readonly emergency: PhraseSet;
  private readonly digitTimeoutMs: number;
  private readonly matchers = new Map<string, LanguageMatchers>();
  private readonly calls = new Map<string, CallState>();

  constructor(options: ScriptedAgentOptions) {
    this.script = options.script;
    this.emergency = new PhraseSet(options.emergencyPhrases);
    this.digitTimeoutMs = options.digitTimeoutMs ?? 5000;
    for (const [language, prompts] of Object.entries(this.script.languages)) {
      this.matchers.set(language, {
        yes: new PhraseSet(prompts.yes),
        no: new PhraseSet(prompts.no),
        done: new PhraseSet(prompts.done),
        intents: Object.entries(this.script.intents).map(([id, intent]) => ({
          id,
          intent,
          keywords: new PhraseSet(intent.keywords[language] ?? []),
        })),
      });
    }
  }

  /** Calls with a conversation in progress (for leak checks and metrics). */
  get activeCalls(): number {
    return this.calls.size;
  }

  /** The language the script uses for a BCP 47 tag ("es-US" → "es"), or the default language. */
  languageFor(tag: string): string {
    const primary = tag.toLowerCase().split('-')[0] ?? '';
    return primary in this.script.languages ? primary : this.script.default_language;
  }

  holdingPhrase(language: string): string {
    return this.prompts(this.languageFor(language)).holding;
  }

  /** Every fixed sentence the agent can say, per language: the TTS cache warms these at start. */
  fixedPrompts(): { language: string; text: string }[] {
    const out: { language: string; text: string }[] = [];
    for (const [language, p] of Object.entries(this.script.languages)) {
      const texts = [p.greeting, p.greeting_message_only, OUTBOUND_GREETING[language] ?? '', p.message_taken, ...p.reprompts, p.not_understood];
      texts.push(p.operator, p.emergency, p.anything_else, p.goodbye, p.holding, p.confirm_digits);
      for (const intent of Object.values(this.script.intents)) {
        if (intent.flow === 'transfer') texts.push(intent.prompts[language]?.transfer ?? '');
        else {
          const prompts = intent.prompts[language];
          if (prompts) texts.push(prompts.ask, `${prompts.done} ${p.anything_else}`);
        }
      }
      for (const text of new Set(texts)) if (text !== '') out.push({ language, text });
    }
    return out;
  }

  start(start: ConversationStart): Promise<AgentReply> {
    const language = this.languageFor(start.language);
    const messageOnly = start.routing.messageOnly;
    this.calls.set(start.callId, {
      language,
      caller: start.caller,
      stage: messageOnly ? { kind: 'message' } : { kind: 'intent' },
      misses: 0,
      lastUtterance: '',
    });
    const p = this.prompts(language);
    if (start.routing.rule === 'outbound') return Promise.resolve(say(OUTBOUND_GREETING[language] ?? p.greeting));
    return Promise.resolve(say(messageOnly ? p.greeting_message_only : p.greeting));
  }

  turn(callId: string, turn: ConversationTurn): Promise<AgentReply> {
    return Promise.resolve(this.step(callId, turn));
  }

  /**
   * Contract v2: the same reply sentence by sentence, so the first sentence can be synthesised and played
   * while the next is (an SSML reply stays whole), then its actions, then done.
   */
  async *turnStream(callId: string, turn: ConversationTurn): AsyncGenerator<AgentReplyChunk> {
    yield* replyChunks(this.step(callId, turn), { split: true });
  }

  end(callId: string, _reason?: string): Promise<void> {
    this.calls.delete(callId);
    return Promise.resolve();
  }

  private step(callId: string, turn: ConversationTurn): AgentReply {
    // A turn without a start (a late turn after end(), or a caller we never greeted): answer it rather than
    // go silent, but keep no state for it, so nothing outlives the call.
    const call = this.calls.get(callId) ?? {
      language: this.script.default_language,
      caller: '',
      stage: { kind: 'intent' },
      misses: 0,
      lastUtterance: '',
    };
    if (call.stage.kind === 'done') return say('');
    const text = normalize(turn.text);
    const p = this.prompts(call.language);

    // Emergencies first, even in a partial transcript: seconds matter more than a finished sentence.
    const phrase = this.emergency.find(text);
    if (phrase !== undefined) {
      call.stage = { kind: 'done' };
      return say(p.emergency, [{ type: 'emergency', reason: `caller said an emergency phrase: "${phrase}"` }]);
    }
    if (turn.partial) return say('');
    if (turn.text.trim() !== '') call.lastUtterance = turn.text.trim();

    const digits = turn.dtmf ?? '';
    if (digits.includes(this.script.operator_digit)) {
      return this.transfer(call, this.script.operator_target, 'caller pressed the operator digit', p.operator, 'Pressed the operator digit.');
    }

    const m = this.matchers.get(call.language);
    if (m === undefined) return this.miss(call, p);
    const stage = call.stage;
    // Asking for a person works at every step of a flow, not only at the menu.
    if (stage.kind === 'collect' || stage.kind === 'confirm') {
      const person = m.intents.find((e) => isOperator(e.intent, this.script.operator_target) && e.keywords.find(text));
      if (person !== undefined) return this.transfer(call, this.script.operator_target, person.id, p.operator, 'Asked for a person.');
    }
    switch (stage.kind) {
      case 'message':
        if (text === '') return this.miss(call, p);
        call.stage = { kind: 'done' };
        return say(p.message_taken, [{ type: 'hangup' }]);
      case 'collect':
        if (text === '') return this.miss(call, p);
        call.misses = 0;
        call.stage = { kind: 'confirm', intent: stage.intent, preference: turn.text.trim().slice(0, 100) };
        return this.askConfirm(call, p);
      case 'confirm': {
        const yes = digits.startsWith('1') || m.yes.find(text) !== undefined;
        const no = digits.startsWith('2') || m.no.find(text) !== undefined;
        if (yes && !no) return this.confirmed(call, stage, p);
        if (no) {
          call.misses = 0;
          call.stage = { kind: 'collect', intent: stage.intent };
          return say(this.appointmentPrompts(stage.intent, call.language)?.ask ?? p.reprompts[0] ?? p.not_understood);
        }
        return this.miss(call, p);
      }
      case 'anything_else':
      case 'intent': {
        const found = m.intents.find((entry) => entry.keywords.find(text) !== undefined);
        if (found === undefined) {
          if (stage.kind === 'anything_else' && m.done.find(text) !== undefined) {
            call.stage = { kind: 'done' };
            return say(p.goodbye, [{ type: 'hangup' }]);
          }
          return this.miss(call, p);
        }
        call.misses = 0;
        if (found.intent.flow === 'transfer') {
          const prompt = found.intent.prompts[call.language]?.transfer ?? p.operator;
          return this.transfer(call, found.intent.target, found.id, prompt, `${capitalize(found.intent.summary)}.`);
        }
        call.stage = { kind: 'collect', intent: found.id };
        return say(found.intent.prompts[call.language]?.ask ?? p.not_understood);
      }
    }
  }

  private askConfirm(call: CallState, p: LanguagePrompts): AgentReply {
    if (call.stage.kind !== 'confirm') return this.miss(call, p);
    const prompts = this.appointmentPrompts(call.stage.intent, call.language);
    const question = (prompts?.confirm ?? '{preference}').replaceAll('{preference}', call.stage.preference);
    return say(`${question} ${p.confirm_digits}`, [{ type: 'collect_digits', max: 1, timeoutMs: this.digitTimeoutMs }]);
  }

  private confirmed(call: CallState, stage: { intent: string; preference: string }, p: LanguagePrompts): AgentReply {
    const intent = this.script.intents[stage.intent];
    const actions: AgentAction[] = [];
    if (intent?.flow === 'appointment' && E164.test(call.caller)) {
      actions.push({
        type: 'send_sms',
        to: call.caller,
        template: intent.sms_template,
        values: { preference: stage.preference, language: call.language },
      });
    }
    call.misses = 0;
    call.stage = { kind: 'anything_else' };
    const done = this.appointmentPrompts(stage.intent, call.language)?.done ?? '';
    return say(`${done} ${p.anything_else}`.trim(), actions);
  }

  /** Silence or words the script does not know: reprompt up to max_reprompts times, then a person. */
  private miss(call: CallState, p: LanguagePrompts): AgentReply {
    call.misses++;
    if (call.misses > this.script.max_reprompts) {
      const summary = `Not understood after ${this.script.max_reprompts} reprompts.`;
      return this.transfer(call, this.script.operator_target, 'caller not understood', p.not_understood, summary);
    }
    const stage = call.stage;
    if (stage.kind === 'message') return say(p.greeting_message_only);
    if (stage.kind === 'collect') return say(this.appointmentPrompts(stage.intent, call.language)?.ask ?? p.not_understood);
    if (stage.kind === 'confirm') return this.askConfirm(call, p);
    return say(p.reprompts[call.misses - 1] ?? p.reprompts.at(-1) ?? p.not_understood);
  }

  private transfer(call: CallState, target: string, reason: string, prompt: string, topic: string): AgentReply {
    call.stage = { kind: 'done' };
    // The summary is what the person picking up needs: the topic, the caller's last words (short), the
    // language. Never the caller's number: the transfer carries the call itself.
    const quoted = call.lastUtterance === '' ? '' : ` Caller said: "${truncate(call.lastUtterance)}".`;
    const summary = `${topic}${quoted} Language: ${call.language}.`;
    return say(prompt, [{ type: 'transfer', target, reason, summary }]);
  }

  private appointmentPrompts(intentId: string, language: string): { ask: string; confirm: string; done: string } | undefined {
    const intent = this.script.intents[intentId];
    return intent?.flow === 'appointment' ? intent.prompts[language] : undefined;
  }

  private prompts(language: string): LanguagePrompts {
    const prompts = this.script.languages[language] ?? this.script.languages[this.script.default_language];
    // parseAgentScript guarantees the default language exists.
    if (prompts === undefined) throw new TypeError(`agent script has no language ${language}`);
    return prompts;
  }
}

function isOperator(intent: ScriptIntent, operatorTarget: string): boolean {
  return intent.flow === 'transfer' && intent.target === operatorTarget;
}

function say(text: string, actions: AgentAction[] = []): AgentReply {
  return { say: text, actions };
}

function truncate(text: string): string {
  return text.length <= MAX_QUOTED ? text : `${text.slice(0, MAX_QUOTED - 1)}…`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
