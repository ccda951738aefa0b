// Transfers for people: the context an agent's screen shows for a call handed to them
// (GET /v1/calls/:id/context), and the dashboard's commands on a live call (transfer, take over, hang up).
// Register inside the authenticated /v1 scope. The commands go to the CallCommands port: the controller
// owns live calls; this plugin only validates, asks, and maps the answer to a status (202/404/409).
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { CallStore } from '../core/ports.ts';
import { HttpError } from './http-error.ts';
import { parseInput } from './validation.ts';

/** What a live call says to a command: done (asynchronously), no such live call, or not now. */
export type CallCommandResult = 'accepted' | 'not_found' | 'not_transferable';

export interface TransferCommand {
  /** `operator`, `emergency`, a ring group id, an extension or a number. */
  target: string;
  mode: 'blind' | 'warm';
  reason: string;
}

/** The controller's side: each resolves once the command is accepted, not when the call has moved. */
export interface CallCommands {
  transfer(callId: string, command: TransferCommand): Promise<CallCommandResult>;
  /** Staff take the call over now (emergency override), at `extension` or the emergency manager's. */
  takeover(callId: string, command: { extension?: string }): Promise<CallCommandResult>;
  hangup(callId: string, command: { reason?: string }): Promise<Exclude<CallCommandResult, 'not_transferable'>>;
}

/** A transfer's context as the agent's screen gets it (the db's TransferRecord fits this shape). */
export interface TransferContext {
  id: string;
  callId: string;
  requestedAt: Date;
  bridgedAt: Date | null;
  outcome: string | null;
  targetKind: string;
  targetName: string;
  agentExtension: string | null;
  reason: string;
  summary: string | null;
  intent: string | null;
  urgency: string;
  callerNumber: string | null;
  transcript: ReadonlyArray<{ speaker: string; text: string }> | null;
  /** `available`, `not_stored` (no encryption key when written) or `unreadable` (key changed). */
  transcriptStatus: string;
  durationMs: number | null;
}

export interface TransfersRoutesOptions {
  callStore: Pick<CallStore, 'getCall'>;
  transfers: { getLatestForCall(callId: string): Promise<TransferContext | undefined> };
  commands: CallCommands;
}

const idParams = z.object({ id: z.uuid({ error: 'id must be a UUID' }) });

// Names from the routing file and dialable numbers only: nothing that could reach a dial string as syntax.
const target = z
  .string({ error: 'target is required' })
  .regex(/^\+?[A-Za-z0-9_-]{1,64}$/, { error: 'target must be a ring group id, extension or number (letters, digits, _ -)' });
const extension = z.string().regex(/^[0-9]{2,10}$/, { error: 'extension must be 2 to 10 digits' });
const text = (name: string, max: number) =>
  z.string({ error: `${name} must be a string` }).trim().min(1, { error: `${name} must not be empty` }).max(max, { error: `${name} is at most ${max} characters` });

const transferBody = z.strictObject({
  target,
  mode: z.enum(['blind', 'warm'], { error: 'mode must be blind or warm' }).default('warm'),
  reason: text('reason', 500),
});
const takeoverBody = z.strictObject({ extension: extension.optional() });
const hangupBody = z.strictObject({ reason: text('reason', 200).optional() });

function answer(reply: FastifyReply, callId: string, result: CallCommandResult) {
  switch (result) {
    case 'accepted':
      return reply.code(202).send({ status: 'accepted', callId });
    case 'not_found':
      throw new HttpError(404, 'not_found', `call ${callId} is not a live call`);
    case 'not_transferable':
      throw new HttpError(409, 'conflict', `call ${callId} cannot take this command in its current state`);
  }
}

export const transfersRoutes: FastifyPluginAsync<TransfersRoutesOptions> = async (app, { callStore, transfers, commands }) => {
  app.get('/calls/:id/context', { config: { permission: 'calls:read' } }, async (request) => {
    const { id } = parseInput(idParams, request.params);
    const context = await transfers.getLatestForCall(id);
    if (context !== undefined) return context;
    if ((await callStore.getCall(id)) === undefined) throw new HttpError(404, 'not_found', `call ${id} not found`);
    throw new HttpError(404, 'not_found', `call ${id} has no transfer`);
  });

  app.post('/calls/:id/transfer', { config: { permission: 'calls:control' } }, async (request, reply) => {
    const { id } = parseInput(idParams, request.params);
    const body = parseInput(transferBody, request.body ?? {}, { withPaths: true });
    return answer(reply, id, await commands.transfer(id, body));
  });

  app.post('/calls/:id/takeover', { config: { permission: 'calls:control' } }, async (request, reply) => {
    const { id } = parseInput(idParams, request.params);
    const body = parseInput(takeoverBody, request.body ?? {}, { withPaths: true });
    return answer(reply, id, await commands.takeover(id, body.extension === undefined ? {} : { extension: body.extension }));
  });

  app.post('/calls/:id/hangup', { config: { permission: 'calls:control' } }, async (request, reply) => {
    const { id } = parseInput(idParams, request.params);
    const body = parseInput(hangupBody, request.body ?? {}, { withPaths: true });
    return answer(reply, id, await commands.hangup(id, body.reason === undefined ? {} : { reason: body.reason }));
  });
};
