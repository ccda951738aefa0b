// The built-in agent speaks contract v2: the same conversation as turn(), its replies sentence by sentence
// (so the first can play while the next is synthesised), then the actions, then done.
import { describe, expect, it } from 'vitest';
import { agentReplyChunkSchema } from '../../../src/agent/contract.ts';
import { collectReply } from '../../../src/agent/reply-stream.ts';
import type { AgentReplyChunk, ConversationTurn } from '../../../src/core/voice-ports.ts';
import { makeAgent, said, startOf } from './helpers.ts';

async function streamed(agent: ReturnType<typeof makeAgent>, callId: string, turn: ConversationTurn): Promise<AgentReplyChunk[]> {
  const chunks: AgentReplyChunk[] = [];
  for await (const chunk of agent.turnStream(callId, turn)) chunks.push(chunk);
  return chunks;
}

describe('ScriptedAgent.turnStream', () => {
  it('streams each reply sentence by sentence, then its actions, then done', async () => {
    const agent = makeAgent();
    await agent.start(startOf('s1'));
    const ask = await streamed(agent, 's1', said('I would like to book an appointment'));
    expect(ask).toEqual([
      { type: 'sentence', text: "I'd be happy to help you book an appointment." },
      { type: 'sentence', text: 'What day and time work best for you?' },
      { type: 'done' },
    ]);
    const confirm = await streamed(agent, 's1', said('Next Tuesday morning'));
    expect(confirm.filter((c) => c.type === 'sentence').length).toBeGreaterThan(1);
    expect(confirm.slice(-2)).toEqual([{ type: 'actions', actions: [{ type: 'collect_digits', max: 1, timeoutMs: 5000 }] }, { type: 'done' }]);
    for (const chunk of [...ask, ...confirm]) expect(agentReplyChunkSchema.safeParse(chunk).success).toBe(true);
    await agent.end('s1', 'caller hung up');
  });

  it('says exactly what turn() says, in the same conversation steps', async () => {
    const whole = makeAgent();
    const stream = makeAgent();
    const turns = [said('I need to reschedule my appointment'), said('Friday at 3'), said('yes'), said('no, that is all')];
    await whole.start(startOf('w'));
    await stream.start(startOf('w'));
    for (const turn of turns) {
      const reply = await whole.turn('w', turn);
      expect(collectReply(await streamed(stream, 'w', turn))).toEqual(reply);
    }
  });

  it('hands an emergency to staff with the emergency action after its words', async () => {
    const agent = makeAgent();
    await agent.start(startOf('e1'));
    const chunks = await streamed(agent, 'e1', { text: "I have chest pain and I can't", confidence: 0.8, partial: true });
    expect(chunks.map((c) => c.type)).toEqual(['sentence', 'sentence', 'sentence', 'actions', 'done']);
    expect(chunks[0]).toEqual({ type: 'sentence', text: 'This sounds urgent.' });
    expect(chunks.at(-2)).toEqual({ type: 'actions', actions: [{ type: 'emergency', reason: 'caller said an emergency phrase: "chest pain"' }] });
  });

  it('answers a partial transcript with done alone', async () => {
    const agent = makeAgent();
    await agent.start(startOf('p1'));
    expect(await streamed(agent, 'p1', { text: 'I would like', confidence: 0.5, partial: true })).toEqual([{ type: 'done' }]);
  });
});
