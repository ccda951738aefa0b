// Clients of the live event stream as a dashboard would use them: Server-Sent Events over fetch, and a
// WebSocket. Each collects what it receives so tests can wait for and compare events.
import { WebSocket } from 'ws';
import { eventually } from './controller-harness.ts';

export interface LiveMessage {
  id: string;
  type: string;
  at: string;
  callId: string | null;
  data: Record<string, unknown>;
}

export interface LiveClient {
  readonly messages: LiveMessage[];
  /** SSE: the `id:` of each message as the browser would remember it (equals message.id). */
  readonly ids: string[];
  /** Resolves when the server ended the stream. */
  readonly ended: Promise<void>;
  waitFor(predicate: (m: LiveMessage) => boolean, what: string, timeoutMs?: number): Promise<LiveMessage>;
  close(): void;
}

function waiter(messages: LiveMessage[]) {
  return async (predicate: (m: LiveMessage) => boolean, what: string, timeoutMs = 5000): Promise<LiveMessage> => {
    await eventually(() => messages.some(predicate), what, timeoutMs);
    return messages.find(predicate) as LiveMessage;
  };
}

/** GET /v1/events; resolves with the response status and, for 200, the running client. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<{ status: number; client?: LiveClient }> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (response.status !== 200 || response.body === null) {
    await response.body?.cancel();
    return { status: response.status };
  }
  const messages: LiveMessage[] = [];
  const ids: string[] = [];
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
          }
          if (fields.data === undefined) continue;
          const message = JSON.parse(fields.data) as LiveMessage;
          if (fields.event !== message.type || fields.id !== message.id) throw new Error(`SSE fields disagree with the data: ${block}`);
          ids.push(fields.id);
          messages.push(message);
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  })();
  return {
    status: 200,
    client: { messages, ids, ended, waitFor: waiter(messages), close: () => abort.abort() },
  };
}

/** The WebSocket at /v1/events/ws; resolves with the refusal status, or the running client. */
export async function openWs(url: string): Promise<{ status: number; client?: LiveClient; closeCode?: Promise<number> }> {
  const socket = new WebSocket(url);
  const messages: LiveMessage[] = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString()) as LiveMessage));
  const closeCode = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
  const opened = await new Promise<number>((resolve, reject) => {
    socket.once('open', () => resolve(101));
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    // Kept for the socket's life: an error after the handshake ends the client, it must not throw.
    socket.on('error', reject);
  });
  if (opened !== 101) return { status: opened };
  return {
    status: 101,
    closeCode,
    client: {
      messages,
      get ids() {
        return messages.map((m) => m.id);
      },
      ended: closeCode.then(() => undefined),
      waitFor: waiter(messages),
      close: () => socket.close(),
    },
  };
}
