// Recordings and transcripts over HTTP (register inside the authenticated /v1 scope):
//   GET /v1/recordings?callId=&limit=            recordings:read  metadata only, newest first
//   GET /v1/recordings/:id                       recordings:read
//   GET /v1/recordings/:id/audio?reason=         recordings:play  the decrypted WAV, streamed
//   GET /v1/recordings/:id/transcript?reason=    recordings:play  the transcript as JSON
//   PUT /v1/recordings/:id/legal-hold            recordings:hold  { hold, reason }
// Audio and transcripts need a stated reason (`?reason=` or the X-Access-Reason header) and are audited by the
// RecordingsApi before anything is sent. Answers when that goes wrong:
//   400 bad_request                 malformed id, missing or unusable reason
//   404 not_found                   no such recording (or no transcript yet)
//   503 audit_unavailable           the audit entry could not be written: nothing is sent
//   409 recording_tampered          the stored file fails authentication (altered, truncated, swapped)
//   500 recording_key_unavailable   the file is wrapped under a master key this process does not hold: a
//                                   configuration problem on our side, not the client's
// The stream starts only once its first chunk has decrypted and authenticated, so those two arrive as clean
// statuses; a failure further into the file aborts the response (the client sees a short body against
// Content-Length). The reason text is never logged: it may name a patient, and the audit log keeps it.
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Principal } from '../core/access.ts';
import { accessReason } from '../core/access-reason.ts';
import { CallbridgeError, ErrorCode, RecordingNotFoundError } from '../core/errors.ts';
import { HttpError } from './http-error.ts';
import { parseInput } from './validation.ts';

/** What the API shows about a recording: no audio, no words, no numbers. */
export interface RecordingView {
  id: string;
  callId: string;
  recordedAt: Date;
  durationMs: number | null;
  channels: number | null;
  legalHold: boolean;
  retainUntil: Date;
  hasTranscript: boolean;
}

/** Who is asking and why; the audit entry names both. */
export interface RecordingAccess {
  principal: Principal;
  reason: string;
}

/** The app's side (src/app/recordings-api.ts); errors are CallbridgeErrors with recording codes. */
export interface RecordingsApi {
  list(query: { callId?: string; limit: number }): Promise<RecordingView[]>;
  get(id: string): Promise<RecordingView | undefined>;
  /** Audits, then opens; resolves once the first chunk decrypted. RecordingNotFound / Tampered / KeyUnknown / AuditUnavailable. */
  openAudio(id: string, access: RecordingAccess): Promise<{ bytes: number; stream: Readable }>;
  /** Audits, then decrypts the transcript. Same errors as openAudio. */
  readTranscript(id: string, access: RecordingAccess): Promise<unknown>;
  /** Audited; undefined when there is no such recording. */
  setLegalHold(id: string, hold: boolean, access: RecordingAccess): Promise<RecordingView | undefined>;
}

export interface RecordingsRoutesOptions {
  recordings: RecordingsApi;
}

const MAX_LIST_LIMIT = 200;

const idParams = z.object({ id: z.uuid({ error: 'id must be a UUID' }) });
const listQuery = z.strictObject({
  callId: z.uuid({ error: 'callId must be a UUID' }).optional(),
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int({ error: 'limit must be an integer' })
    .min(1, { error: 'limit must be at least 1' })
    .max(MAX_LIST_LIMIT, { error: `limit must be at most ${MAX_LIST_LIMIT}` })
    .default(50),
});
const reasonQuery = z.object({ reason: z.string().optional() });
const holdBody = z.strictObject({ hold: z.boolean({ error: 'hold must be true or false' }), reason: accessReason });

/** The stated reason from `?reason=` or X-Access-Reason (one of them; the query wins when both are there). */
function statedReason(query: unknown, header: string | string[] | undefined): string {
  const fromQuery = parseInput(reasonQuery, query).reason;
  const fromHeader = typeof header === 'string' ? header : undefined;
  const offered = fromQuery ?? fromHeader;
  if (offered === undefined) throw new HttpError(400, 'reason_required', 'State why you need this: ?reason= or the X-Access-Reason header (10–500 characters)');
  return parseInput(accessReason, offered);
}

/** The recording errors a client can be told about, as HTTP answers; anything else goes to the error handler. */
function asHttpError(error: unknown, id: string): unknown {
  if (!(error instanceof CallbridgeError)) return error;
  switch (error.code) {
    case ErrorCode.RecordingNotFound:
      // A row whose stored file is gone reads as gone too; its storage key is not the client's business.
      return new HttpError(404, 'not_found', error instanceof RecordingNotFoundError && error.recordingId === id ? error.message : `Recording ${id} not found`);
    case ErrorCode.RecordingTampered:
      return new HttpError(409, 'recording_tampered', `Recording ${id} failed its integrity check and cannot be played`);
    case ErrorCode.RecordingKeyUnknown:
      return new HttpError(500, 'recording_key_unavailable', `Recording ${id} is encrypted under a key this server does not hold`);
    case ErrorCode.AuditUnavailable:
      return new HttpError(503, 'audit_unavailable', error.message);
    default:
      return error;
  }
}

async function mapped<T>(id: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asHttpError(error, id);
  }
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

export const recordingsRoutes: FastifyPluginAsync<RecordingsRoutesOptions> = async (app, { recordings }) => {
  app.get('/recordings', { config: { permission: 'recordings:read' } }, async (request) => {
    const query = parseInput(listQuery, request.query);
    return { recordings: await recordings.list({ limit: query.limit, ...(query.callId === undefined ? {} : { callId: query.callId }) }) };
  });

  app.get('/recordings/:id', { config: { permission: 'recordings:read' } }, async (request) => {
    const { id } = parseInput(idParams, request.params);
    const recording = await recordings.get(id);
    if (recording === undefined) throw new HttpError(404, 'not_found', `Recording ${id} not found`);
    return recording;
  });

  // No automatic HEAD twin: it would audit (and decrypt) an access that sends nothing.
  app.get('/recordings/:id/audio', { exposeHeadRoute: false, config: { permission: 'recordings:play' } }, async (request, reply) => {
    const { id } = parseInput(idParams, request.params);
    const reason = statedReason(request.query, request.headers['x-access-reason']);
    const { bytes, stream } = await mapped(id, () => recordings.openAudio(id, { principal: request.principal as Principal, reason }));
    return noStore(reply)
      .type('audio/wav')
      .header('content-length', bytes)
      .header('content-disposition', `attachment; filename="recording-${id}.wav"`)
      .send(stream);
  });

  app.get('/recordings/:id/transcript', { exposeHeadRoute: false, config: { permission: 'recordings:play' } }, async (request, reply) => {
    const { id } = parseInput(idParams, request.params);
    const reason = statedReason(request.query, request.headers['x-access-reason']);
    const transcript = await mapped(id, () => recordings.readTranscript(id, { principal: request.principal as Principal, reason }));
    return noStore(reply).send({ recordingId: id, transcript });
  });

  app.put('/recordings/:id/legal-hold', { config: { permission: 'recordings:hold' } }, async (request) => {
    const { id } = parseInput(idParams, request.params);
    const body = parseInput(holdBody, request.body ?? {}, { withPaths: true });
    const recording = await mapped(id, () => recordings.setLegalHold(id, body.hold, { principal: request.principal as Principal, reason: body.reason }));
    if (recording === undefined) throw new HttpError(404, 'not_found', `Recording ${id} not found`);
    return recording;
  });
};
