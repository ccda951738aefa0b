// The AI engine peer of the voice and streaming benchmarks in a process of its own, so it is not queued
// behind the simulator's frames and the Speechmatics peer: the engine's share of a turn is the HTTP round
// trip plus, for the streaming benchmark, the generation time it is told to take (GeneratedReplies).
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import { engineDelayMs, freshReply, type AiEngineReply, type AiEngineRequest, type GeneratedReplies } from './ai-engine-protocol.ts';

let peer: AiEnginePeer | undefined;
let warmup = false;
/** callId → the caller's index (the last digits of its number), so a caller's fresh words are the same in every run. */
const callers = new Map<string, number>();
const reply = (message: AiEngineReply): void => void process.send?.(message);

function start(greeting: string, fixed: string, generated: GeneratedReplies | undefined): Promise<AiEnginePeer> {
  const say = (callId: string, seq: number): string => {
    const caller = callers.get(callId);
    if (generated === undefined || warmup || caller === undefined || seq > generated.freshTurns) return fixed;
    return freshReply(caller, seq, generated.sentences);
  };
  return AiEnginePeer.start({
    onStart: (s) => {
      callers.set(s.callId, Number(s.caller.slice(-4)));
      return { say: greeting, actions: [] };
    },
    onTurn: (callId, _turn, seq) => ({ say: say(callId, seq), actions: [] }),
    // v2 only: the peer waits this long before each sentence after the first.
    sentenceGapMs: generated?.sentenceGapMs,
  });
}

async function handle(request: AiEngineRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      peer = await start(request.greeting, request.reply, request.generated);
      // The peer holds every answer back this long (a v2 stream: its first chunk); v1 gets the whole reply's time.
      if (request.generated !== undefined) peer.behaviour = { kind: 'slow', ms: engineDelayMs(request.generated) };
      reply({ type: 'started', url: peer.url });
      return;
    case 'warmup':
      warmup = request.on;
      reply({ type: 'warmup' });
      return;
    case 'turns':
      reply({ type: 'turns', turns: peer?.processed.turn ?? 0 });
      return;
    case 'stop':
      await peer?.close();
      reply({ type: 'stopped' });
      process.disconnect();
      return;
  }
}

process.on('message', (request: AiEngineRequest) => {
  handle(request).catch((error: unknown) => reply({ type: 'error', message: String((error as Error).stack ?? error) }));
});
