// What dialling and bridging need of the engine, apart from it: legs, dial strings and bridging work on a
// Switchboard, so they do not import the engine that imports them (no import loops, even of types).
import type { SimChannel } from './channel.ts';
import type { SimCore } from './core.ts';
import type { SimGateways } from './gateways.ts';
import type { LocalStreams } from './local-streams.ts';
import type { AppCall, CallSession } from './session.ts';

/** How a simulated far end answers an outgoing leg. */
export type EndpointBehaviour =
  | { kind: 'answer'; answerAfterMs?: number; hangupAfterMs?: number }
  | { kind: 'busy' }
  | { kind: 'no_answer' }
  | { kind: 'unreachable' }
  | { kind: 'reject'; cause: string };

export interface EngineOptions {
  dialplan: Record<string, AppCall[]>;
  /** Dialplan for numbers not in `dialplan` (the controller hand-off); undefined → NO_ROUTE_DESTINATION. */
  fallbackDialplan: ((destination: string) => AppCall[]) | undefined;
  /** Known gateways and whether each is UP. */
  gateways: SimGateways;
  profiles: readonly string[];
  /** Keyed by `user@host`, `user`, or `gateway/<name>/<number>` / `gateway/<name>`. */
  endpoints: Record<string, EndpointBehaviour>;
  defaultEndpoint: EndpointBehaviour;
  fileDurationMs: number;
  /** mod_local_stream's streams (music on hold). */
  localStreams: LocalStreams;
  /** FreeSWITCH's view of the file system for playbacks by absolute path (SimulatorOptions.fileRoot). */
  fileRoot?: string;
  socketApp(session: CallSession, arg: string): Promise<string>;
  /** Called when any channel hangs up (media bugs such as audio forks detach here). */
  onHangup?(session: CallSession): void;
}

export interface Switchboard {
  readonly core: SimCore;
  readonly opts: EngineOptions;
  /** The dialplan's applications for `extension`, undefined when nothing routes it. */
  route(extension: string): AppCall[] | undefined;
  /** A session for a new channel, registered with the switch. */
  newSession(ch: SimChannel): CallSession;
  /** Legs that share their fate: a loopback pair, or two channels joined by uuid_bridge. */
  link(a: CallSession, b: CallSession): void;
}
