// The dashboard's live stream: GET /v1/events (Server-Sent Events) and a WebSocket at /v1/events/ws, both
// behind `events:read` (browsers cannot set headers on EventSource/WebSocket, so the token may come as
// ?access_token=). A client resumes with its last event id (SSE: the Last-Event-ID header the browser
// sends on reconnect, or ?lastEventId=; WebSocket: ?lastEventId=) and gets exactly the events it missed;
// when they are no longer kept, or on a fresh connection, the first message is a `reset` with the calls
// live now. A client that does not read is dropped once its unsent backlog passes a limit, so one slow
// dashboard cannot grow the controller's memory.
//
// SSE is written by hand on the raw response: the format is four kinds of lines, and the maintained
// plugin (@fastify/sse) is pre-1.0 and not a dependency; neither it nor fastify-sse-v2 exposes the socket
// backlog we need to drop slow clients.
import { Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { parseInput } from './validation.ts';

/** One event as clients get it (the SSE `data:` line and the WebSocket message are this JSON). */
export interface LiveEventMessage {
  id: string;
  type: string;
  at: string;
  callId: string | null;
  data: Record<string, unknown>;
}

export interface LiveEventSource {
  /** Events after `lastId`, or 'gone' when they are not all kept any more (or the id is unknown). */
  since(lastId: string): readonly LiveEventMessage[] | 'gone';
  /** A `reset` message: the calls live now, under the latest event id. */
  reset(): LiveEventMessage;
  subscribe(listener: (event: LiveEventMessage) => void): () => void;
}

export interface LiveEventsRoutesOptions {
  source: LiveEventSource;
  /** Heartbeat period (SSE comment, WebSocket ping); default 15 s. */
  heartbeatMs?: number;
  /** Unsent bytes a client may fall behind by before it is dropped; default 1 MiB. */
  maxBacklogBytes?: number;
  /**
   * Path prefixes whose WebSocket upgrades another handler on the same server owns (the audio fork):
   * they are left to it while it listens. Every other upgrade goes through Fastify's routing and hooks.
   */
  upgradePathsElsewhere?: readonly string[];
}

const LIVE_EVENTS_WS_PATH = '/v1/events/ws';
const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BACKLOG_BYTES = 1024 * 1024;
/** How long a closing server waits for WebSocket clients to answer the close frame. */
const WS_CLOSE_GRACE_MS = 1000;

const resumeQuery = z.object({ lastEventId: z.string().max(200, { error: 'lastEventId is too long' }).optional() });

interface Stream {
  send(message: LiveEventMessage): void;
  end(): void;
}

/** Register inside the /v1 scope. */
export const liveEventsRoutes: FastifyPluginAsync<LiveEventsRoutesOptions> = async (app, options) => {
  const { source } = options;
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const maxBacklog = options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES;
  const streams = new Set<Stream>();

  // @fastify/websocket would take every upgrade on the server, including the audio fork's. It listens on a
  // server of its own (never listening on a port) that gets only the upgrades for our path; the owner of
  // another path is left alone, and any other path is refused here.
  const upgrades = new HttpServer();
  const elsewhere = options.upgradePathsElsewhere ?? [];
  const forward = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (path === LIVE_EVENTS_WS_PATH) {
      upgrades.emit('upgrade', request, socket, head);
      return;
    }
    const othersListen = app.server.listenerCount('upgrade') > 1;
    if (othersListen && elsewhere.some((prefix) => path.startsWith(prefix))) return;
    socket.on('error', () => undefined);
    socket.write('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
  };
  app.server.on('upgrade', forward);
  // An upgrade refused by a hook (401, 403) is answered like any request, but its socket was handed over by
  // the HTTP server and nobody else would close it.
  app.addHook('onResponse', async (request) => {
    if (request.raw.headers.upgrade !== undefined) request.raw.socket.destroy();
  });

  // Closing the server ends every stream: SSE responses end, WebSockets get 1001 and a moment to answer.
  const closeStreams = async (): Promise<void> => {
    app.server.off('upgrade', forward);
    for (const stream of streams) stream.end();
    const wss = app.websocketServer;
    const sockets = [...wss.clients];
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(sockets.map((s) => new Promise((resolve) => (s.readyState === s.CLOSED ? resolve(undefined) : s.once('close', resolve))))),
      new Promise((resolve) => (timer = setTimeout(resolve, WS_CLOSE_GRACE_MS))),
    ]);
    clearTimeout(timer);
    for (const s of sockets) if (s.readyState !== s.CLOSED) s.terminate();
    wss.close();
  };
  await app.register(fastifyWebsocket, { options: { server: upgrades, maxPayload: 4096 }, preClose: closeStreams });

  /** Sends the backlog (or a reset), then follows the source; all in one turn, so nothing slips between. */
  const open = (lastId: string | undefined, stream: Stream): (() => void) => {
    const missed = lastId === undefined ? 'gone' : source.since(lastId);
    if (missed === 'gone') stream.send(source.reset());
    else for (const message of missed) stream.send(message);
    return source.subscribe((message) => stream.send(message));
  };

  app.get('/events', { config: { permission: 'events:read', queryToken: true } }, async (request, reply) => {
    const query = parseInput(resumeQuery, request.query);
    const header = request.headers['last-event-id'];
    const lastId = typeof header === 'string' && header.length <= 200 && header !== '' ? header : query.lastEventId;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (nginx) must pass events on as they come.
      'x-accel-buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    let unsubscribe = (): void => undefined;
    const stream: Stream = {
      send: (message) => {
        if (res.destroyed) return;
        res.write(`id: ${message.id}\nevent: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`);
        if (res.writableLength > maxBacklog) {
          request.log.warn({ backlogBytes: res.writableLength }, 'live events client too slow; dropped');
          res.destroy();
        }
      },
      end: () => res.end(),
    };
    const heartbeat = setInterval(() => {
      if (!res.destroyed) res.write(': heartbeat\n\n');
    }, heartbeatMs);
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(stream);
    });
    streams.add(stream);
    unsubscribe = open(lastId, stream);
  });

  app.get('/events/ws', { websocket: true, config: { permission: 'events:read', queryToken: true } }, (socket: WebSocket, request) => {
    const parsed = resumeQuery.safeParse(request.query);
    if (!parsed.success) {
      socket.close(1008, 'lastEventId is invalid');
      return;
    }
    let alive = true;
    const stream: Stream = {
      send: (message) => {
        if (socket.readyState !== socket.OPEN) return;
        socket.send(JSON.stringify(message));
        if (socket.bufferedAmount > maxBacklog) {
          request.log.warn({ backlogBytes: socket.bufferedAmount }, 'live events client too slow; dropped');
          socket.terminate();
        }
      },
      end: () => socket.close(1001, 'server shutting down'),
    };
    // A peer that stopped answering pings (a laptop gone to sleep) is let go rather than buffered for.
    const heartbeat = setInterval(() => {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, heartbeatMs);
    socket.on('pong', () => (alive = true));
    const unsubscribe = open(parsed.data.lastEventId, stream);
    streams.add(stream);
    socket.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(stream);
    });
  });
};
