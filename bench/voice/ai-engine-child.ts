// The AI engine peer of the voice benchmark in a process of its own: it answers every request at once
// (a fixed greeting, a fixed reply), and in its own process it is not queued behind the simulator's frames
// and the Speechmatics peer, so the engine's share of a turn is only the HTTP round trip.
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import type { AiEngineReply, AiEngineRequest } from './ai-engine-protocol.ts';

let peer: AiEnginePeer | undefined;
const reply = (message: AiEngineReply): void => void process.send?.(message);

async function handle(request: AiEngineRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      peer = await AiEnginePeer.start({ onStart: () => ({ say: request.greeting, actions: [] }), onTurn: () => ({ say: request.reply, actions: [] }) });
      reply({ type: 'started', url: peer.url });
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
