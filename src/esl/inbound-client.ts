// The controller's long-lived inbound connection to FreeSWITCH (:8021). It authenticates, subscribes,
// and when the connection drops it reconnects with backoff, subscribes again, and emits `resync` so the
// application can reconcile its call registry with `show channels` (events were lost while down).
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { EslAuthError, EslCommandTimeoutError, EslConnectionClosedError } from '../core/errors.ts';
import { backoffDelay, resolveBackoff, type BackoffOptions, type ResolvedBackoff } from './backoff.ts';
import { EslConnection, replyText, type EslConnectionOptions } from './connection.ts';
import { parseChannelRows, type ChannelRow } from './channels.ts';
import type { EslEvent, EslEventFormat } from './protocol/event.ts';

export type InboundEslClientEvents = {
  connected: [connection: EslConnection];
  /** After every (re)connection and subscription: reconcile state, events may have been missed. */
  resync: [connection: EslConnection];
  /** The connection dropped or an attempt failed (EslAuthError for a refused password); a retry follows. */
  disconnected: [error: Error | undefined];
  event: [event: EslEvent];
};

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface InboundEslClientOptions {
  host: string;
  port: number;
  password: string;
  format?: EslEventFormat;
  /** Event names to subscribe to after each connect (default ALL). Include BACKGROUND_JOB to use bgapi. */
  events?: readonly string[];
  /** Socket connect + auth banner + auth reply (ms). */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** For tests: the jitter source and the timers of the reconnect schedule. */
  random?: () => number;
  timers?: Timers;
  connection?: EslConnectionOptions;
}

const REAL_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class InboundEslClient extends EventEmitter<InboundEslClientEvents> {
  readonly #options: InboundEslClientOptions;
  readonly #backoff: ResolvedBackoff;
  readonly #random: () => number;
  readonly #timers: Timers;
  #started = false;
  #stopping: Promise<void> | undefined;
  #attempt = 0;
  #current: EslConnection | undefined;
  /** The connection being set up (not yet current), so stop() can close it too. */
  #connecting: EslConnection | undefined;
  #retryTimer: unknown;
  #healthyTimer: unknown;

  constructor(options: InboundEslClientOptions) {
    super();
    this.#options = options;
    this.#backoff = resolveBackoff(options.backoff);
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? REAL_TIMERS;
  }

  /** The authenticated, subscribed connection, or undefined while (re)connecting. */
  current(): EslConnection | undefined {
    return this.#current;
  }

  /** Starts connecting in the background; keeps retrying until stop(). Resolves at once. */
  start(): Promise<void> {
    if (!this.#started && this.#stopping === undefined) {
      this.#started = true;
      this.#connectOnce();
    }
    return Promise.resolve();
  }

  /** Resolves with the current connection, waiting for one at most `timeoutMs`. */
  waitConnected(options: { timeoutMs: number }): Promise<EslConnection> {
    const current = this.#current;
    if (current !== undefined) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new EslCommandTimeoutError('connect', options.timeoutMs));
      }, options.timeoutMs);
      const onConnected = (connection: EslConnection): void => {
        clearTimeout(timer);
        resolve(connection);
      };
      this.once('connected', onConnected);
    });
  }

  /** Stops reconnecting and closes the connection (idempotent, bounded by the connection's close grace). */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#clearTimers();
      const connections = [this.#current, this.#connecting].filter((c) => c !== undefined);
      await Promise.all(connections.map((c) => c.close()));
    })();
    return this.#stopping;
  }

  /** `show channels as json` on the current connection. */
  async showChannels(options: { timeoutMs?: number } = {}): Promise<ChannelRow[]> {
    const connection = this.#current;
    if (connection === undefined) throw new EslConnectionClosedError('No inbound ESL connection');
    return parseChannelRows(await connection.api('show channels as json', options));
  }

  #connectOnce(): void {
    const options = this.#options;
    const socket = connect({ host: options.host, port: options.port, noDelay: true });
    const connection = new EslConnection(socket, options.connection);
    // Forward events from the start: the first events can share a TCP read with the subscribe reply and
    // are dispatched before the handshake's continuation runs; attaching later would drop them.
    connection.on('event', (event) => this.emit('event', event));
    this.#connecting = connection;
    this.#handshake(connection).then(
      () => {
        this.#connecting = undefined;
        if (this.#stopping !== undefined) {
          void connection.close();
          return;
        }
        this.#current = connection;
        connection.once('close', (error) => this.#onDropped(connection, error));
        this.#healthyTimer = this.#timers.setTimeout(() => {
          this.#healthyTimer = undefined;
          this.#attempt = 0;
        }, this.#backoff.healthyAfterMs);
        this.emit('connected', connection);
        this.emit('resync', connection);
      },
      (error: unknown) => {
        this.#connecting = undefined;
        connection.removeAllListeners('event');
        void connection.close();
        const failure = error instanceof Error ? error : new Error(String(error));
        if (this.#stopping !== undefined) return;
        this.emit('disconnected', failure);
        this.#scheduleRetry(failure instanceof EslAuthError);
      },
    );
  }

  async #handshake(connection: EslConnection): Promise<void> {
    const options = this.#options;
    const timeoutMs = options.connectTimeoutMs ?? 5_000;
    await waitForAuthRequest(connection, timeoutMs);
    const reply = await connection.command(`auth ${options.password}`, { timeoutMs });
    const text = replyText(reply);
    if (!text.startsWith('+OK')) throw new EslAuthError(text);
    const events = options.events ?? ['ALL'];
    await connection.subscribe(options.format ?? 'plain', events, { timeoutMs });
  }

  #onDropped(connection: EslConnection, error: Error | undefined): void {
    if (this.#current === connection) this.#current = undefined;
    connection.removeAllListeners('event');
    if (this.#healthyTimer !== undefined) {
      this.#timers.clearTimeout(this.#healthyTimer);
      this.#healthyTimer = undefined;
    }
    // A drop we caused with stop() is not news: nothing will reconnect, and nobody should be alarmed.
    if (this.#stopping !== undefined) return;
    this.emit('disconnected', error);
    this.#scheduleRetry(false);
  }

  #scheduleRetry(authFailed: boolean): void {
    if (this.#stopping !== undefined) return;
    // A refused password will not fix itself in 250 ms: wait the longest delay, every time.
    const delay = authFailed ? this.#backoff.maxMs : backoffDelay(this.#backoff, this.#attempt, this.#random);
    this.#attempt++;
    this.#retryTimer = this.#timers.setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#stopping === undefined) this.#connectOnce();
    }, delay);
  }

  #clearTimers(): void {
    if (this.#retryTimer !== undefined) this.#timers.clearTimeout(this.#retryTimer);
    if (this.#healthyTimer !== undefined) this.#timers.clearTimeout(this.#healthyTimer);
    this.#retryTimer = undefined;
    this.#healthyTimer = undefined;
  }
}

function waitForAuthRequest(connection: EslConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      connection.off('authRequest', onAuth);
      connection.off('close', onClose);
    };
    const onAuth = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (error: Error | undefined): void => {
      cleanup();
      reject(new EslConnectionClosedError('ESL connection closed before the auth request', { cause: error }));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new EslCommandTimeoutError('auth request', timeoutMs));
    }, timeoutMs);
    connection.on('authRequest', onAuth);
    connection.on('close', onClose);
  });
}
