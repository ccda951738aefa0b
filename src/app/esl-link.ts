// What the operator is told about the inbound ESL connection. The client retries for ever (a refused password
// every ESL_RECONNECT_MAX_MS), so logging each attempt would bury the one fact that matters under a stack
// trace per retry. Instead the link has a state, each change of state is logged once (a refused password as
// an error: it will not fix itself), and /ready names the state while it is not connected.
import type { Logger } from 'pino';
import { EslAuthError } from '../core/errors.ts';
import type { InboundEslClient } from '../esl/index.ts';
import { ReadinessProblem } from '../http/index.ts';

type LinkState = 'starting' | 'connected' | 'password_refused' | 'down';

// Names the variable to fix, never its value.
const PASSWORD_REFUSED = 'FreeSWITCH refused the event socket password (FREESWITCH_ESL_PASSWORD)';

export class EslLinkStatus {
  readonly #inbound: InboundEslClient;
  #state: LinkState = 'starting';

  constructor(inbound: InboundEslClient, logger: Logger, where: { host: string; port: number }) {
    this.#inbound = inbound;
    inbound.on('connected', () => {
      if (this.#enter('connected')) logger.info('inbound ESL connected');
    });
    inbound.on('disconnected', (error) => {
      if (error instanceof EslAuthError) {
        if (this.#enter('password_refused')) logger.error(`${PASSWORD_REFUSED}; retrying`);
        return;
      }
      const was = this.#state;
      if (!this.#enter('down')) return;
      // The message of the cause (ECONNREFUSED, a timeout, the socket closed) says enough; its stack says nothing.
      const reason = error?.message ?? 'connection closed';
      if (was === 'connected') logger.warn({ reason }, 'inbound ESL disconnected; reconnecting');
      else logger.warn({ reason, host: where.host, port: where.port }, "cannot reach FreeSWITCH's event socket; retrying");
    });
  }

  /** The `esl` readiness check: resolves while connected, else rejects with the known reason. */
  async check(): Promise<void> {
    if (this.#inbound.current() !== undefined) return;
    throw new ReadinessProblem(this.#state === 'password_refused' ? PASSWORD_REFUSED : "no connection to FreeSWITCH's event socket; reconnecting");
  }

  /** Moves to `next`; true when that is a change (the caller then logs it). */
  #enter(next: LinkState): boolean {
    if (this.#state === next) return false;
    this.#state = next;
    return true;
  }
}
