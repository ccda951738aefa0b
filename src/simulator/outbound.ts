// The `socket <host:port> async full` application: FreeSWITCH connects to the controller, answers its
// commands on that socket, runs its sendmsg messages one after another, and ends the connection with the
// linger / disconnect notices in the order the traces show (README rules 8, 9, 17). Until the controller
// sends `connect` the channel is not parked: if the socket dies first, the caller stays in this
// application, ringing, until they hang up (mod_event_socket 1.10's socket_function).
import { connect, type Socket } from 'node:net';
import type { SimCore } from './core.ts';
import { EslConnection, type ApiRunner } from './connection.ts';
import type { Engine } from './engine.ts';
import type { CallSession } from './session.ts';

export interface OutboundDeps {
  core: SimCore;
  engine: Engine;
  api: ApiRunner;
  password: string;
  connections: Set<EslConnection>;
  connectTimeoutMs: number;
  onSocketFailed(session: CallSession, target: string, error: Error): void;
}

function dialSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      cleanup();
      sock.destroy();
      reject(new Error(`connect timeout to ${host}:${port}`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      cleanup();
      sock.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(sock);
    };
    function cleanup(): void {
      clearTimeout(timer);
      sock.off('error', onError);
      sock.off('connect', onConnect);
    }
    sock.once('error', onError);
    sock.once('connect', onConnect);
  });
}

export async function runSocketApp(deps: OutboundDeps, session: CallSession, arg: string): Promise<string> {
  const [target = ''] = arg.split(/\s+/);
  const i = target.lastIndexOf(':');
  const host = i > 0 ? target.slice(0, i) : '127.0.0.1';
  const port = Number.parseInt(i > 0 ? target.slice(i + 1) : target, 10);
  session.ch.setVar('socket_host', host);
  let sock: Socket;
  try {
    sock = await dialSocket(host, port, deps.connectTimeoutMs);
  } catch (err) {
    // FreeSWITCH logs the failure and the dialplan goes on with its next application (the fallback).
    deps.onSocketFailed(session, target, err instanceof Error ? err : new Error(String(err)));
    return '_none_';
  }
  if (!session.ch.isUp) {
    sock.destroy();
    return '_none_';
  }
  let closed: () => void = () => {};
  const gate = new Promise<void>((r) => (closed = r));
  const conn = new EslConnection(sock, {
    core: deps.core,
    engine: deps.engine,
    api: deps.api,
    password: deps.password,
    controlled: session,
    onClose: (c) => {
      deps.connections.delete(c);
      closed();
      // Before `connect` nothing changes for the channel: socket_function keeps waiting for the connect
      // while the channel is ready, so the caller stays here, unanswered, until they hang up (or a
      // uuid_transfer takes the channel away).
      if (!c.connected) return;
      // The controller went away while the call is up: FreeSWITCH hangs the call up, unless the
      // controller said `resume`, in which case the dialplan goes on after the socket application.
      if (session.ch.isUp && c.wantsResume) session.leaveSocket();
      else if (session.ch.isUp) session.hangup('NORMAL_CLEARING');
    },
  });
  deps.connections.add(conn);
  deps.engine.holders.set(session.ch.uuid, {
    onHangup: (s) => {
      // Caller hung up: the linger notice goes out at once; a hangup the controller asked for is
      // confirmed after HANGUP_COMPLETE instead (rule 17).
      if (!s.hangupFromController) conn.sendLingerNotice();
    },
    onHangupComplete: () => {
      if (conn.linger !== undefined) conn.sendLingerNotice();
      else conn.sendFinalDisconnect();
    },
    gate,
  });
  session.enterSocket();
  // The channel is parked (and runs the controller's messages) only once the controller said `connect`.
  const handshake = await session.wait(Number.POSITIVE_INFINITY, { breakable: false, until: conn.whenConnected });
  const outcome = handshake === 'elapsed' ? await session.serveMessages() : handshake;
  if (outcome === 'leave') {
    deps.engine.holders.delete(session.ch.uuid);
  } else {
    session.flushQueueAtHangup();
  }
  session.ch.fire('CHANNEL_UNPARK');
  return session.lastResponse;
}
