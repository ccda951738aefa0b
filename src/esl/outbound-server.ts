// The listener FreeSWITCH connects to once per call (`socket host:port async full` in the dialplan). For
// each connection we send `connect`, read the channel data from its reply, and only then hand the call to
// the application: a `call` listener always gets a connection whose channel is known.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createServer, type Server, type Socket } from 'node:net';
import { EslConnection, type EslConnectionOptions } from './connection.ts';
import { parseOutboundConnectReply, type EslEvent } from './protocol/event.ts';

export type OutboundSocketServerEvents = {
  /** `acceptedAtMs`: performance.now() when FreeSWITCH's connection was accepted (for pickup latency). */
  call: [connection: EslConnection, channelData: EslEvent, acceptedAtMs: number];
  /** A connection that never became a call (connect failed or timed out); its socket is already closed. */
  connectFailed: [error: Error];
};

export interface OutboundSocketServerOptions {
  connection?: EslConnectionOptions;
  /** Wait for the connect reply (ms). */
  connectTimeoutMs?: number;
  /** Bound on close(): live connections still open after this are destroyed (ms). */
  closeTimeoutMs?: number;
}

export class OutboundSocketServer extends EventEmitter<OutboundSocketServerEvents> {
  readonly #options: OutboundSocketServerOptions;
  readonly #sockets = new Set<Socket>();
  readonly #connections = new Set<EslConnection>();
  #server: Server | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: OutboundSocketServerOptions = {}) {
    super();
    this.#options = options;
  }

  /** Sockets currently open (calls in progress plus connections still in `connect`). */
  get openSockets(): number {
    return this.#sockets.size;
  }

  listen(options: { host: string; port: number }): Promise<{ port: number }> {
    if (this.#server !== undefined) return Promise.reject(new Error('OutboundSocketServer is already listening'));
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.#server = undefined;
        reject(error);
      };
      server.once('error', onError);
      server.listen(options.port, options.host, () => {
        server.off('error', onError);
        const address = server.address();
        resolve({ port: typeof address === 'object' && address !== null ? address.port : options.port });
      });
    });
  }

  /** Stops listening and closes every live connection (idempotent, bounded by closeTimeoutMs). */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const server = this.#server;
    const serverClosed =
      server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    const bound = this.#options.closeTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, bound);
    });
    await Promise.race([Promise.all([...this.#connections].map((c) => c.close())), timeout]);
    clearTimeout(timer);
    for (const socket of this.#sockets) socket.destroy();
    await serverClosed;
  }

  #accept(socket: Socket): void {
    const acceptedAtMs = performance.now();
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const connection = new EslConnection(socket, this.#options.connection);
    this.#connections.add(connection);
    connection.once('close', () => this.#connections.delete(connection));
    connection
      .command('connect', { timeoutMs: this.#options.connectTimeoutMs ?? 5_000 })
      .then((reply) => {
        const channelData = parseOutboundConnectReply(reply);
        if (connection.closed || this.#closing !== undefined) {
          throw new Error('Outbound socket closed before the call could be handed over');
        }
        this.emit('call', connection, channelData, acceptedAtMs);
      })
      .catch((error: unknown) => {
        socket.destroy();
        this.emit('connectFailed', error instanceof Error ? error : new Error(String(error)));
      });
  }
}
