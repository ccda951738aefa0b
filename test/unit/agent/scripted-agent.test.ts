import { describe, expect, it } from 'vitest';
import { agentReplySchema } from '../../../src/agent/contract.ts';
import { CALLER, makeAgent, pressed, said, silence, startOf } from './helpers.ts';

describe('ScriptedAgent conversations (dialplan/agent.yaml)', () => {
  it('books an appointment: asks for a preference, confirms it, then texts a confirmation', async () => {
    const agent = makeAgent();
    const greeting = await agent.start(startOf('c1'));
    expect(greeting.say).toMatch(/How can I help you today/);

    const ask = await agent.turn('c1', said('Hi, I would like to book an appointment please'));
    expect(ask.say).toMatch(/What day and time work best/);
    expect(ask.actions).toEqual([]);

    const confirm = await agent.turn('c1', said('Next Tuesday morning'));
    expect(confirm.say).toContain('I have a request for Next Tuesday morning. Is that right?');
    expect(confirm.actions).toEqual([{ type: 'collect_digits', max: 1, timeoutMs: 5000 }]);

    const done = await agent.turn('c1', said("Yes, that's right."));
    expect(done.say).toMatch(/text message.*anything else/);
    expect(done.actions).toEqual([
      {
        type: 'send_sms',
        to: CALLER,
        template: 'appointment_request',
        values: { preference: 'Next Tuesday morning', language: 'en' },
      },
    ]);

    const bye = await agent.turn('c1', said("No, that's all, thanks"));
    expect(bye.actions).toEqual([{ type: 'hangup' }]);
    for (const reply of [greeting, ask, confirm, done, bye]) expect(agentReplySchema.safeParse(reply).success).toBe(true);
    await agent.end('c1', 'caller hung up');
    expect(agent.activeCalls).toBe(0);
  });

  it('takes "no" at confirmation (or digit 2) as a new preference, and digit 1 as yes', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c2'));
    await agent.turn('c2', said('I need to reschedule my appointment'));
    await agent.turn('c2', said('Friday at 3'));
    const again = await agent.turn('c2', pressed('2'));
    expect(again.say).toMatch(/What day and time would work better/);
    const confirm = await agent.turn('c2', said('Monday at 9'));
    expect(confirm.say).toContain('move your appointment to Monday at 9');
    const done = await agent.turn('c2', pressed('1'));
    expect(done.actions).toEqual([
      { type: 'send_sms', to: CALLER, template: 'appointment_reschedule', values: { preference: 'Monday at 9', language: 'en' } },
    ]);
  });

  it('sends no SMS when the caller withheld their number', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c3', { caller: '' }));
    await agent.turn('c3', said('cancel my appointment'));
    await agent.turn('c3', said('the 12th at noon'));
    const done = await agent.turn('c3', said('yes'));
    expect(done.say).toMatch(/cancellation request/);
    expect(done.actions).toEqual([]);
  });

  it('transfers a billing question to billing with a short summary and without the caller number', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c4'));
    const reply = await agent.turn('c4', said('I have a question about a charge on my bill'));
    expect(reply.say).toBe('Let me connect you with our billing team.');
    expect(reply.actions).toEqual([
      {
        type: 'transfer',
        target: 'billing',
        reason: 'billing',
        summary: 'Billing question. Caller said: "I have a question about a charge on my bill". Language: en.',
      },
    ]);
    expect(JSON.stringify(reply)).not.toContain('7045550123');
  });

  it('sends results questions to pathology_results and "representative" to the operator', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c5'));
    const results = await agent.turn('c5', said('calling about my biopsy results'));
    expect(results.actions[0]).toMatchObject({ type: 'transfer', target: 'pathology_results' });
    await agent.start(startOf('c6'));
    const person = await agent.turn('c6', said('Can I talk to a representative'));
    expect(person.actions[0]).toMatchObject({ type: 'transfer', target: 'operator' });
  });

  it('escalates an English emergency phrase at once, even in a partial transcript', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c7'));
    await agent.turn('c7', said('I want to book an appointment'));
    const reply = await agent.turn('c7', { text: "my husband can't breathe", confidence: 0.6, partial: true });
    expect(reply.say).toMatch(/urgent/);
    expect(reply.actions).toEqual([{ type: 'emergency', reason: `caller said an emergency phrase: "can't breathe"` }]);
  });

  it('escalates a Spanish emergency phrase on a Spanish call, accents or not', async () => {
    const agent = makeAgent();
    const greeting = await agent.start(startOf('c8', { language: 'es-US' }));
    expect(greeting.say).toMatch(/Gracias por llamar/);
    const reply = await agent.turn('c8', said('Tengo una reaccion alergica muy fuerte'));
    expect(reply.say).toMatch(/urgente/);
    expect(reply.actions).toEqual([{ type: 'emergency', reason: 'caller said an emergency phrase: "reacción alérgica"' }]);
  });

  it('ignores partial transcripts that are not emergencies (the final one drives the turn)', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c9'));
    expect(await agent.turn('c9', { text: 'I want to', confidence: 0.5, partial: true })).toEqual({ say: '', actions: [] });
    const reply = await agent.turn('c9', said('I want to book'));
    expect(reply.say).toMatch(/book an appointment/);
  });

  it('sends the caller to the operator on DTMF 0 at any stage', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c10'));
    await agent.turn('c10', said('book an appointment'));
    const reply = await agent.turn('c10', pressed('0'));
    expect(reply.say).toBe('Connecting you with the operator now.');
    expect(reply.actions).toEqual([
      {
        type: 'transfer',
        target: 'operator',
        reason: 'caller pressed the operator digit',
        summary: 'Pressed the operator digit. Caller said: "book an appointment". Language: en.',
      },
    ]);
  });

  it('reprompts twice on silence or unknown words, then transfers with a summary', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c11'));
    const first = await agent.turn('c11', silence);
    expect(first.say).toMatch(/didn't catch that/);
    expect(first.actions).toEqual([]);
    const second = await agent.turn('c11', said('purple elephants'));
    expect(second.say).toMatch(/press 0 for the operator/);
    const third = await agent.turn('c11', silence);
    expect(third.say).toBe('Let me connect you with a member of our team.');
    expect(third.actions).toEqual([
      {
        type: 'transfer',
        target: 'operator',
        reason: 'caller not understood',
        summary: 'Not understood after 2 reprompts. Caller said: "purple elephants". Language: en.',
      },
    ]);
    expect(await agent.turn('c11', said('hello?'))).toEqual({ say: '', actions: [] });
  });

  it('after hours takes a message and hangs up, still watching for emergencies', async () => {
    const agent = makeAgent();
    const afterHours = { rule: 'after-hours', reason: 'closed', messageOnly: true };
    const greeting = await agent.start(startOf('c12', { routing: afterHours }));
    expect(greeting.say).toMatch(/closed right now/);
    const reply = await agent.turn('c12', said('This is Ana, please call me back about my prescription'));
    expect(reply.say).toMatch(/We have your message/);
    expect(reply.actions).toEqual([{ type: 'hangup' }]);

    await agent.start(startOf('c13', { routing: afterHours }));
    const urgent = await agent.turn('c13', said('I have chest pain'));
    expect(urgent.actions[0]).toMatchObject({ type: 'emergency' });
  });

  it('keeps calls apart and forgets a call at end()', async () => {
    const agent = makeAgent();
    await agent.start(startOf('a'));
    await agent.start(startOf('b', { language: 'es-MX' }));
    await agent.turn('a', said('book'));
    const b = await agent.turn('b', said('quiero hacer una cita'));
    expect(b.say).toMatch(/Con gusto/);
    const a = await agent.turn('a', said('Thursday'));
    expect(a.say).toContain('Thursday');
    await agent.end('a', 'done');
    await agent.end('b', 'done');
    expect(agent.activeCalls).toBe(0);
  });

  it('lists its fixed prompts per language for the TTS cache, and a holding phrase', () => {
    const agent = makeAgent();
    const prompts = agent.fixedPrompts();
    expect(prompts.filter((p) => p.language === 'en').length).toBeGreaterThan(10);
    expect(prompts.some((p) => p.language === 'es' && p.text.startsWith('Gracias por llamar'))).toBe(true);
    expect(prompts.every((p) => !p.text.includes('{preference}'))).toBe(true);
    expect(agent.holdingPhrase('en-US')).toBe('One moment please.');
    expect(agent.holdingPhrase('es-US')).toBe('Un momento, por favor.');
    expect(agent.holdingPhrase('fr-FR')).toBe('One moment please.');
  });

  it('hands the caller to a person when they ask for one in the middle of booking', async () => {
    const agent = makeAgent();
    await agent.start(startOf('c14'));
    await agent.turn('c14', said('I want to book an appointment'));
    const reply = await agent.turn('c14', said('can I just speak to a person'));
    expect(reply.actions).toEqual([
      {
        type: 'transfer',
        target: 'operator',
        reason: 'operator',
        summary: 'Asked for a person. Caller said: "can I just speak to a person". Language: en.',
      },
    ]);
  });

  it('answers a turn for a call it does not know, without keeping state for it', async () => {
    const agent = makeAgent();
    const reply = await agent.turn('ghost', said('billing please'));
    expect(reply.actions[0]).toMatchObject({ type: 'transfer', target: 'billing' });
    expect((await agent.turn('ghost', silence)).say).toMatch(/didn't catch that/);
    expect(agent.activeCalls).toBe(0);
  });
});
