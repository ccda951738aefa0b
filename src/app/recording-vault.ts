// Everything that turns a spooled plaintext recording into protected storage and back: finishing a
// recording (encrypt → verify → row + post-call job in one transaction → delete the plaintext), opening a
// recording or transcript for someone allowed to (decrypted as a stream, never written to disk), storing
// transcripts, deleting (retention) and re-wrapping keys (rotation). Access checks and the audit trail sit
// with the callers (HTTP, CLI, worker); this module only guards the bytes.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { pipeline as pipelineCallback, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { RecordingInvalidError, RecordingNotFoundError } from '../core/errors.ts';
import type { DrizzleRecordingStore, OutboxJob, RecordingRow, TranscriptRow } from '../db/index.ts';
import {
  HEADER_SIZE,
  decryptStream,
  encryptStream,
  inspectHeader,
  readHeadOf,
  rewrapHeader,
  type MasterKeys,
  type RecordingStorage,
} from '../recording/index.ts';
import { parseWav } from '../voice/tts/index.ts';

export const POST_CALL_QUEUE = 'post-call';
export const TRANSCRIBE_JOB = 'transcribe';

export interface TranscribeJobData {
  recordingId: string;
  callId: string;
}

export interface TranscriptMeta {
  language: string;
  wordCount: number;
  stats: Record<string, unknown>;
  providerJobId: string | null;
}

/** A file rotation could not re-wrap: the recording's id (for a transcript, its recording's). */
export interface RotationFailure {
  id: string;
  kind: 'recording' | 'transcript';
  error: string;
}

export interface RecordingVaultOptions {
  storage: RecordingStorage;
  store: DrizzleRecordingStore;
  keys: MasterKeys;
  retentionYears: number;
  logger: Logger;
  now?: () => Date;
}

// What FreeSWITCH names spool files (we choose the names: `<call id>.wav`).
const SPOOL_NAME = /^[A-Za-z0-9_.-]{1,200}\.wav$/;
const WAV_HEAD_BYTES = 4096;

export class RecordingVault {
  readonly #storage: RecordingStorage;
  readonly #store: DrizzleRecordingStore;
  readonly #keys: MasterKeys;
  readonly #retentionYears: number;
  readonly #logger: Logger;
  readonly #now: () => Date;

  constructor(options: RecordingVaultOptions) {
    this.#storage = options.storage;
    this.#store = options.store;
    this.#keys = options.keys;
    this.#retentionYears = options.retentionYears;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => new Date());
  }

  get currentKeyId(): string {
    return this.#keys.current.id;
  }

  /**
   * Encrypts a finished spool file into storage, checks the stored copy decrypts to the same bytes, then
   * records it and queues its transcription in one transaction, and only then deletes the plaintext. Safe to
   * repeat at any point (a crash, the recovery scan racing RECORD_STOP): the spool file name is unique.
   */
  async finishSpooled(spoolPath: string, meta: { callId: string; recordedAt: Date }): Promise<RecordingRow> {
    const spoolFile = basename(spoolPath);
    if (!SPOOL_NAME.test(spoolFile)) throw new RecordingInvalidError(`unexpected spool file name ${JSON.stringify(spoolFile)}`);
    const existing = await this.#store.findBySpoolFile(spoolFile);
    if (existing !== undefined) {
      // Stored before (a crash between the row and the delete): the copy here is the same file. A file of
      // another size under a stored name is another recording: never delete it unstored.
      const size = (await stat(spoolPath).catch(() => undefined))?.size;
      if (size !== undefined && size !== existing.plaintextBytes) {
        throw new RecordingInvalidError(`${spoolFile} is already stored as recording ${existing.id} with other content; left in the spool`);
      }
      await rm(spoolPath, { force: true });
      return existing;
    }
    const info = parseWav(await readHeadOf(await open(spoolPath, 'r'), WAV_HEAD_BYTES), (await stat(spoolPath)).size);
    if (info === null) throw new RecordingInvalidError(`${spoolFile} is not a WAV file (no RIFF/WAVE header with format and data)`);

    const id = randomUUID();
    const storageKey = `recordings/${id}.cbrec`;
    const plain = digestTap();
    const { bytes: encryptedBytes } = await this.#storage.write(storageKey, chain(createReadStream(spoolPath), plain.tap, encryptStream(this.#keys)));
    const { fileId, keyId } = inspectHeader(await this.#storage.readHead(storageKey, HEADER_SIZE));
    try {
      await this.#verify(storageKey, fileId, plain.result());
    } catch (error) {
      await this.#storage.delete(storageKey);
      throw error;
    }

    const recordedAt = meta.recordedAt;
    const row = await this.#store
      .insertWithJobs(
        {
          id,
          callId: meta.callId,
          spoolFile,
          storageKey,
          keyId,
          fileId,
          plaintextBytes: plain.result().bytes,
          plaintextSha256: plain.result().sha256,
          encryptedBytes,
          durationMs: info.durationMs,
          channels: info.channels,
          sampleRate: info.sampleRate,
          recordedAt,
          retainUntil: addYears(recordedAt, this.#retentionYears),
        },
        [transcribeJob({ recordingId: id, callId: meta.callId })],
      )
      .catch(async (error: unknown) => {
        await this.#storage.delete(storageKey);
        throw error;
      });
    if (row.id !== id) {
      // Someone else finished this spool file first: theirs is the copy on record.
      await this.#storage.delete(storageKey);
    }
    await rm(spoolPath, { force: true });
    this.#logger.info({ recordingId: row.id, callId: meta.callId, durationMs: info.durationMs, bytes: encryptedBytes }, 'recording encrypted and stored');
    return row;
  }

  /** The recording's row and its decrypted audio (WAV) as a stream; errors mid-stream on tampering. */
  async openAudio(recordingId: string): Promise<{ row: RecordingRow; stream: Readable }> {
    const row = await this.#store.get(recordingId);
    if (row === undefined) throw new RecordingNotFoundError(recordingId);
    return { row, stream: await this.#openDecrypted(row.storageKey, row.fileId) };
  }

  /** Encrypts and stores a transcript with the jobs that follow it; a second save for the recording is a no-op. */
  async saveTranscript(recordingId: string, transcript: unknown, meta: TranscriptMeta, jobs: readonly OutboxJob[]): Promise<{ inserted: boolean }> {
    const recording = await this.#store.get(recordingId);
    if (recording === undefined) throw new RecordingNotFoundError(recordingId);
    if ((await this.#store.getTranscript(recordingId)) !== undefined) return { inserted: false };
    const storageKey = `transcripts/${recordingId}-${randomUUID()}.json.cbrec`;
    const json = Buffer.from(JSON.stringify(transcript), 'utf8');
    await this.#storage.write(storageKey, chain(Readable.from([json]), encryptStream(this.#keys)));
    const { fileId, keyId } = inspectHeader(await this.#storage.readHead(storageKey, HEADER_SIZE));
    const result = await this.#store
      .insertTranscriptWithJobs(
        { recordingId, callId: recording.callId, storageKey, keyId, fileId, language: meta.language, wordCount: meta.wordCount, stats: meta.stats, providerJobId: meta.providerJobId },
        jobs,
      )
      .catch(async (error: unknown) => {
        await this.#storage.delete(storageKey);
        throw error;
      });
    if (!result.inserted) await this.#storage.delete(storageKey);
    return result;
  }

  /** The transcript's row and its decrypted content. */
  async openTranscript(recordingId: string): Promise<{ row: TranscriptRow; transcript: unknown }> {
    const row = await this.#store.getTranscript(recordingId);
    if (row === undefined) throw new RecordingNotFoundError(recordingId, 'Transcript of recording');
    const chunks: Buffer[] = [];
    await pipeline(await this.#openDecrypted(row.storageKey, row.fileId), new Writable({ write: (c: Buffer, _e, cb) => { chunks.push(c); cb(); } }));
    return { row, transcript: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  }

  /** Deletes a recording's files, then its rows (transcript included). Files first: never a row-less file left. */
  async deleteRecording(recordingId: string): Promise<boolean> {
    const row = await this.#store.get(recordingId);
    if (row === undefined) return false;
    const transcript = await this.#store.getTranscript(recordingId);
    if (transcript !== undefined) await this.#storage.delete(transcript.storageKey);
    await this.#storage.delete(row.storageKey);
    return this.#store.delete(recordingId);
  }

  /** Removes half-written objects a crash left in storage (older than `olderThanMs`); returns how many. */
  sweepIncomplete(olderThanMs: number): Promise<number> {
    return this.#storage.sweepIncomplete({ olderThanMs });
  }

  /**
   * Deletes stored objects no row refers to: the ciphertext of a recording or transcript whose row was never
   * written (a crash between storing and recording it, or a save that lost a race). Only objects older than
   * `olderThanMs` are considered, so a store in progress is never touched. Returns how many went.
   */
  async sweepOrphans(olderThanMs: number, now: Date = this.#now()): Promise<number> {
    const cutoff = now.getTime() - olderThanMs;
    let removed = 0;
    for (const prefix of ['recordings/', 'transcripts/']) {
      for await (const { key, modifiedAt } of this.#storage.list(prefix)) {
        if (modifiedAt.getTime() > cutoff || (await this.#referenced(key))) continue;
        await this.#storage.delete(key);
        removed += 1;
      }
    }
    if (removed > 0) this.#logger.warn({ removed }, 'removed encrypted objects no recording or transcript refers to');
    return removed;
  }

  /** Whether a row names this storage key (keys carry the recording id, so this is a primary-key lookup). */
  async #referenced(key: string): Promise<boolean> {
    const id = /^(?:recordings|transcripts)\/([0-9a-f-]{36})/.exec(key)?.[1];
    if (id === undefined) return true; // not a key we wrote: never delete what we do not understand
    if (key.startsWith('recordings/')) return (await this.#store.get(id))?.storageKey === key;
    return (await this.#store.getTranscript(id))?.storageKey === key;
  }

  /**
   * Re-wraps every data key not under the current master key (recordings and transcripts), rewriting only
   * each file's 512-byte header. Files that fail (missing, unknown key) are reported and skipped.
   */
  async rotate(onProgress: (done: number) => void = () => undefined): Promise<{ rewrapped: number; failed: RotationFailure[] }> {
    const current = this.#keys.current;
    let rewrapped = 0;
    const failed: RotationFailure[] = [];
    const rewrap = async (id: string, kind: RotationFailure['kind'], storageKey: string, save: () => Promise<void>): Promise<void> => {
      try {
        const head = await this.#storage.readHead(storageKey, HEADER_SIZE);
        await this.#storage.rewriteHead(storageKey, rewrapHeader(head, this.#keys, current));
        await save();
        rewrapped += 1;
        onProgress(rewrapped);
      } catch (error) {
        failed.push({ id, kind, error: (error as Error).message });
      }
    };
    for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
      const page = await this.#store.recordingsUnderOtherKeys(current.id, after, 100);
      for (const row of page) await rewrap(row.id, 'recording', row.storageKey, () => this.#store.setRecordingKeyId(row.id, current.id));
      if (page.length < 100) break;
      after = page[page.length - 1]!.id;
    }
    for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
      const page = await this.#store.transcriptsUnderOtherKeys(current.id, after, 100);
      for (const row of page) await rewrap(row.recordingId, 'transcript', row.storageKey, () => this.#store.setTranscriptKeyId(row.recordingId, current.id));
      if (page.length < 100) break;
      after = page[page.length - 1]!.recordingId;
    }
    return { rewrapped, failed };
  }

  async #openDecrypted(storageKey: string, fileId: string): Promise<Readable> {
    const source = await this.#storage.read(storageKey);
    const decrypt = decryptStream(this.#keys, { expectedFileId: fileId });
    return chain(source, decrypt);
  }

  async #verify(storageKey: string, fileId: string, expected: { sha256: string; bytes: number }): Promise<void> {
    const check = digestTap();
    await pipeline(await this.#openDecrypted(storageKey, fileId), check.tap, new Writable({ write: (_c, _e, cb) => cb() }));
    const got = check.result();
    if (got.sha256 !== expected.sha256 || got.bytes !== expected.bytes) {
      throw new RecordingInvalidError('stored recording does not decrypt to the spooled audio');
    }
  }
}

export function transcribeJob(data: TranscribeJobData): OutboxJob {
  return { queue: POST_CALL_QUEUE, jobName: TRANSCRIBE_JOB, jobId: data.recordingId, payload: { ...data } };
}

/** Streams piped together; the last one is returned, and an error anywhere destroys it with that error. */
function chain(first: Readable, ...rest: Transform[]): Readable {
  const streams = [first, ...rest] as const;
  const last = streams[streams.length - 1] as Readable;
  pipelineCallback(streams as unknown as [Readable, ...Transform[]], (error) => {
    if (error) last.destroy(error);
  });
  return last;
}

/** A pass-through that hashes what flows through it. */
function digestTap(): { tap: Transform; result(): { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  let digest: string | undefined;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return {
    tap,
    result: () => {
      digest ??= hash.digest('hex');
      return { sha256: digest, bytes };
    },
  };
}

function addYears(at: Date, years: number): Date {
  const result = new Date(at);
  result.setUTCFullYear(result.getUTCFullYear() + years);
  return result;
}
