// Shared by the audio-fork integration tests: a Fastify server with the AudioForkServer attached (as the
// controller runs it), a logger that keeps its lines, and the recorded mod_audio_fork WebSocket bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { AudioForkServer, type AudioForkLogger, type AudioForkServerOptions } from '../../src/voice/audio-fork/index.ts';

export const TRACES = join(import.meta.dirname, '..', 'fixtures', 'freeswitch-traces');

export function trace(name: string): Buffer {
  return readFileSync(join(TRACES, name));
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

export function memoryLogger(): { logger: AudioForkLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

export interface Harness {
  app: FastifyInstance;
  forks: AudioForkServer;
  port: number;
  base: string;
  lines: LogLine[];
  close(): Promise<void>;
}

/** Fastify on an ephemeral port with one plain route, and the audio-fork server on its HTTP server. */
export async function startHarness(options: Partial<Omit<AudioForkServerOptions, 'server' | 'logger'>> = {}): Promise<Harness> {
  const app = Fastify({ logger: false });
  app.get('/health', () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { logger, lines } = memoryLogger();
  const forks = new AudioForkServer({ server: app.server, logger, ...options });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    app,
    forks,
    port,
    base: `ws://127.0.0.1:${port}`,
    lines,
    close: async () => {
      await forks.close();
      await app.close();
    },
  };
}

export { serverFrames } from '../support/ws-frames.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 5 ms; throws after `timeoutMs` (tests only: their own wait, always bounded). */
export async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}
