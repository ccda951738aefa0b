// Opening recordings and transcripts for people allowed to, over the vault, the recording rows and the audit
// trail: the RecordingsApi the HTTP routes use, and what the CLI uses too. Permissions are checked by the
// caller (route config, CLI token); this module enforces what follows: no audit entry, no access. The entry
// (who, which recording, the stated reason) is written and awaited before a single decrypted byte leaves,
// and a file that then fails to open is audited as a failure too.
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { AuditUnavailableError, CallbridgeError, RecordingNotFoundError } from '../core/errors.ts';
import type { DrizzleRecordingStore, RecordingRow } from '../db/index.ts';
import type { RecordingAccess, RecordingsApi, RecordingView } from '../http/recordings.ts';
import type { AuditRecord, AuditTrail } from './audit.ts';
import type { RecordingVault } from './recording-vault.ts';

export const RecordingActions = {
  play: 'recording.play',
  playFailed: 'recording.play_failed',
  transcript: 'recording.transcript',
  transcriptFailed: 'recording.transcript_failed',
  legalHold: 'recording.legal_hold',
  legalHoldReleased: 'recording.legal_hold_released',
} as const;

export interface RecordingsServiceOptions {
  vault: Pick<RecordingVault, 'openAudio' | 'openTranscript'>;
  store: Pick<DrizzleRecordingStore, 'get' | 'list' | 'getTranscript' | 'setLegalHold' | 'withTranscripts'>;
  audit: Pick<AuditTrail, 'record' | 'recordInBackground'>;
  logger: Logger;
}

export class RecordingsService implements RecordingsApi {
  readonly #o: RecordingsServiceOptions;

  constructor(options: RecordingsServiceOptions) {
    this.#o = options;
  }

  async list(query: { callId?: string; limit: number }): Promise<RecordingView[]> {
    const rows = await this.#o.store.list(query);
    const transcribed = await this.#o.store.withTranscripts(rows.map((row) => row.id));
    return rows.map((row) => view(row, transcribed.has(row.id)));
  }

  async get(id: string): Promise<RecordingView | undefined> {
    const row = await this.#o.store.get(id);
    return row === undefined ? undefined : this.#view(row);
  }

  async openAudio(id: string, access: RecordingAccess): Promise<{ bytes: number; stream: Readable }> {
    const row = await this.#o.store.get(id);
    if (row === undefined) throw new RecordingNotFoundError(id);
    const base = { ...actorOf(access), targetType: 'recording', targetId: id };
    await this.#audit({ ...base, action: RecordingActions.play, reason: access.reason, details: { principalId: access.principal.id } });
    try {
      const { stream } = await this.#o.vault.openAudio(id);
      const started = await startedStream(stream);
      // Past this point the response is under way; a failure aborts it, and is on the record as well.
      started.once('error', (error: Error) => {
        this.#o.logger.error({ recordingId: id, error: errorCode(error) }, 'recording failed while streaming: response aborted');
        this.#o.audit.recordInBackground({ ...base, action: RecordingActions.playFailed, details: failureDetails(error, true) });
      });
      return { bytes: row.plaintextBytes, stream: started };
    } catch (error) {
      await this.#openFailed(id, error, { ...base, action: RecordingActions.playFailed, details: failureDetails(error, false) });
      throw error;
    }
  }

  async readTranscript(id: string, access: RecordingAccess): Promise<unknown> {
    if ((await this.#o.store.getTranscript(id)) === undefined) throw new RecordingNotFoundError(id, 'Transcript of recording');
    const base = { ...actorOf(access), targetType: 'recording', targetId: id };
    await this.#audit({ ...base, action: RecordingActions.transcript, reason: access.reason, details: { principalId: access.principal.id } });
    try {
      return (await this.#o.vault.openTranscript(id)).transcript;
    } catch (error) {
      await this.#openFailed(id, error, { ...base, action: RecordingActions.transcriptFailed, details: failureDetails(error, false) });
      throw error;
    }
  }

  async setLegalHold(id: string, hold: boolean, access: RecordingAccess): Promise<RecordingView | undefined> {
    if ((await this.#o.store.get(id)) === undefined) return undefined;
    // Audited first: a hold placed or lifted without its entry would be an unexplained change to retention.
    await this.#audit({
      ...actorOf(access),
      action: hold ? RecordingActions.legalHold : RecordingActions.legalHoldReleased,
      targetType: 'recording',
      targetId: id,
      reason: access.reason,
      details: { principalId: access.principal.id, hold },
    });
    const row = await this.#o.store.setLegalHold(id, hold, access.reason);
    this.#o.logger.info({ recordingId: id, legalHold: hold, actor: access.principal.name }, 'legal hold changed');
    return row === undefined ? undefined : this.#view(row);
  }

  async #audit(entry: AuditRecord): Promise<void> {
    try {
      await this.#o.audit.record(entry);
    } catch (error) {
      throw new AuditUnavailableError({ cause: error });
    }
  }

  /**
   * A stored file that would not open: logged for operators (a tampered file is a security event, a missing
   * key a configuration fault) and audited. The caller still hears of the failure itself; a failure entry
   * that cannot be written is logged by the trail.
   */
  async #openFailed(id: string, error: unknown, entry: AuditRecord): Promise<void> {
    this.#o.logger.error({ recordingId: id, action: entry.action, error: errorCode(error) }, 'stored recording could not be opened');
    await this.#o.audit.record(entry).catch(() => undefined);
  }

  async #view(row: RecordingRow): Promise<RecordingView> {
    return view(row, (await this.#o.store.withTranscripts([row.id])).has(row.id));
  }
}

function view(row: RecordingRow, hasTranscript: boolean): RecordingView {
  return {
    id: row.id,
    callId: row.callId,
    recordedAt: row.recordedAt,
    durationMs: row.durationMs,
    channels: row.channels,
    legalHold: row.legalHold,
    retainUntil: row.retainUntil,
    hasTranscript,
  };
}

function actorOf(access: RecordingAccess): { actor: string } {
  return { actor: access.principal.name };
}

/** PHI-free: the error's stable code, never its message (which could carry a path). */
function errorCode(error: unknown): string {
  return error instanceof CallbridgeError ? error.code : 'UNEXPECTED';
}

function failureDetails(error: unknown, midStream: boolean): Record<string, unknown> {
  return { error: errorCode(error), midStream };
}

/**
 * Waits for the stream's first chunk (or its end), so errors in the header or the first chunk (tampering,
 * unknown key) reject here rather than after a caller has committed to a response; the chunk is put back.
 */
async function startedStream(stream: Readable): Promise<Readable> {
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', done);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReadable = (): void => done();
    const onEnd = (): void => done();
    stream.once('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', done);
  });
  if (stream.errored) throw stream.errored;
  return stream;
}
