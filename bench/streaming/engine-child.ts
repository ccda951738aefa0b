// The AI engine stand-in of the streaming benchmark, in a process of its own: every reply has the same
// sentences and the same generation time in both contract versions. Each sentence takes `generationMs` to
// generate, one after the other: a v1 engine answers the whole reply when the last is ready, a v2 engine
// streams each sentence the moment it is.
import { AiEnginePeer } from '../../src/peers/ai-engine-peer.ts';
import { missReply, type EngineReply, type EngineRequest, type EngineSettings } from './engine-protocol.ts';

let peer: AiEnginePeer | undefined;
let warmup = false;
/** callId → the caller's index (from the benchmark's caller numbers), so replies are the same in both runs. */
const callers = new Map<string, number>();
const reply = (message: EngineReply): void => void process.send?.(message);

function sentencesFor(settings: EngineSettings, callId: string, seq: number): string[] {
  const caller = callers.get(callId);
  if (warmup || caller === undefined || seq > settings.missTurns) return settings.cachedReply;
  return missReply(caller, seq, settings.sentences);
}

async function start(settings: EngineSettings): Promise<string> {
  if (settings.version !== 'v1') throw new Error(`contract ${settings.version}: the stand-in does not stream yet`);
  peer = await AiEnginePeer.start({
    onStart: (s) => {
      callers.set(s.callId, Number(s.caller.slice(-4)));
      return { say: settings.greeting, actions: [] };
    },
    onTurn: (callId, _turn, seq) => ({ say: sentencesFor(settings, callId, seq).join(' '), actions: [] }),
  });
  peer.behaviour = { kind: 'slow', ms: settings.sentences * settings.generationMs };
  return peer.url;
}

async function handle(request: EngineRequest): Promise<void> {
  switch (request.type) {
    case 'start':
      reply({ type: 'started', url: await start(request.settings) });
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

process.on('message', (request: EngineRequest) => {
  handle(request).catch((error: unknown) => reply({ type: 'error', message: String((error as Error).stack ?? error) }));
});
