// Calls stranded in FreeSWITCH's `socket` application. When a controller's socket dies before the
// controller said `connect` (a controller killed or stopped with FreeSWITCH's connection still in its accept
// queue), mod_event_socket 1.10 neither parks the channel nor continues the dialplan: socket_function waits
// for a connect that never comes while the channel is ready, so the caller rings until they give up.
// Nobody owns such a channel and it has no call row. After a resync we look for them, wait long enough for
// any handshake still in flight to finish (ours or another controller's: its session writes a row), and send
// each one still stranded through its dialplan again with uuid_transfer (a transfer makes the channel "not
// ready", which ends that wait). The dialplan hands it to a controller again: usually this one.
import type { Logger } from 'pino';
import type { CallStore } from '../core/ports.ts';
import type { ChannelRow } from '../esl/channels.ts';
import type { CallRegistry, RegisteredCall } from './registry.ts';

export interface StrandedCallsDeps {
  store: Pick<CallStore, 'listUnendedCalls'>;
  registry: CallRegistry<RegisteredCall>;
  showChannels: () => Promise<ChannelRow[]>;
  /** uuid_transfer (ChannelControl.transfer on the inbound connection). */
  transfer: (uuid: string, destination: string, dialplan: string, context: string) => Promise<string>;
  logger: Logger;
  /** Longer than any outbound handshake may take (the outbound server's connect timeout). */
  graceMs: number;
  signal: AbortSignal;
}

// Only tokens FreeSWITCH reads as one argument go into the transfer command.
const ARGUMENT = /^[A-Za-z0-9+*#_.@-]{1,64}$/;

/** Inbound channels in `socket` that no session of ours holds and no call row knows. */
function candidates(rows: readonly ChannelRow[], unended: ReadonlySet<string>, registry: CallRegistry<RegisteredCall>): ChannelRow[] {
  return rows.filter(
    (row) => row.direction === 'inbound' && row.application === 'socket' && !unended.has(row.uuid) && registry.getByFsUuid(row.uuid) === undefined,
  );
}

async function unendedUuids(deps: StrandedCallsDeps): Promise<Set<string>> {
  return new Set((await deps.store.listUnendedCalls()).map((call) => call.fsUuid));
}

function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (elapsed: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    };
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sends every channel still stranded after the grace period back through its dialplan; returns how many. */
export async function rescueStrandedCalls(rows: readonly ChannelRow[], deps: StrandedCallsDeps): Promise<number> {
  const suspects = candidates(rows, await unendedUuids(deps), deps.registry);
  if (suspects.length === 0) return 0;
  if (!(await wait(deps.graceMs, deps.signal))) return 0;
  const again = candidates(await deps.showChannels(), await unendedUuids(deps), deps.registry);
  const still = new Map(again.map((row) => [row.uuid, row]));
  let rescued = 0;
  for (const suspect of suspects) {
    const row = still.get(suspect.uuid);
    if (row === undefined || row.created_epoch !== suspect.created_epoch || deps.signal.aborted) continue;
    const dialplan = row.dialplan === undefined || row.dialplan === '' ? 'XML' : row.dialplan;
    const args = [row.uuid, row.dest, dialplan, row.context ?? ''];
    if (!args.every((arg) => ARGUMENT.test(arg))) {
      deps.logger.warn({ fsUuid: row.uuid }, 'a call is stranded in the socket application but its destination cannot be used in a transfer');
      continue;
    }
    try {
      const reply = await deps.transfer(row.uuid, row.dest, dialplan, row.context ?? '');
      if (!reply.startsWith('+OK')) throw new Error(reply.trim());
      rescued++;
      deps.logger.warn({ fsUuid: row.uuid }, 'a call was stranded in the socket application (its controller went away before connect); sent it through the dialplan again');
    } catch (error) {
      deps.logger.error({ err: error, fsUuid: row.uuid }, 'could not move a call stranded in the socket application');
    }
  }
  return rescued;
}
