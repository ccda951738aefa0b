// The post-call job: transcribe one finished recording with Speechmatics batch and store the transcript.
// Steps (and the progress each reports): decrypt the recording as a stream (10) and upload it, measuring
// talk/silence on the way (30); wait for the transcript (30–90, estimated: the service reports no progress);
// store it encrypted together with the CALL_TRANSCRIBED webhook rows in one transaction (100).
// Idempotent: a recording that already has a transcript is skipped, and the provider's job id is saved on
// the job as soon as it exists, so an attempt after a crash waits for that job instead of uploading again.
// Audio the service refuses (HTTP 4xx on the upload, or a 'rejected' job) fails the job for good with the
// reason; anything else (network, 5xx, a restart) is thrown for BullMQ to retry with backoff.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BatchClient, SpeechmaticsResponseError, type RetrieveTranscriptResponse } from '@speechmatics/batch-client';
import { UnrecoverableError } from 'bullmq';
import { createJobStreamingAudio, type CreateJobConfig } from './speechmatics-upload.ts';
import { z } from 'zod';
import { CallbridgeError, TranscriptionFailedError } from '../core/errors.ts';
import type { JobContext, Processor, RelayJob } from './jobs.ts';
import { TalkStatsMeter } from './talk-stats.ts';

export interface TranscriptMeta {
  language: string;
  wordCount: number;
  stats: Record<string, unknown>;
  providerJobId: string | null;
}

export interface CallTranscribedEvent {
  /** The same id for the same recording, so a retried job announces the same event. */
  eventId: string;
  recordingId: string;
  callId: string;
  language: string;
  wordCount: number;
  durationMs: number;
  talkMs: number;
  silenceMs: number;
  occurredAt: Date;
}

/** What the processor needs from the rest of the system (the recording vault and the webhook outbox). */
export interface TranscribePorts {
  hasTranscript(recordingId: string): Promise<boolean>;
  /** The decrypted WAV; the stream errors mid-way if the stored file was tampered with. */
  openAudio(recordingId: string): Promise<Readable>;
  /** Encrypts and stores the transcript with `jobs` in one transaction; a second save is a no-op. */
  saveTranscript(recordingId: string, transcript: unknown, meta: TranscriptMeta, jobs: readonly RelayJob[]): Promise<{ inserted: boolean }>;
  /** The outbox rows announcing CALL_TRANSCRIBED (one per webhook URL; none without URLs). */
  transcribedJobs(event: CallTranscribedEvent): RelayJob[];
  /** Called after a transcript was stored (the relay can send its webhook rows at once). */
  onStored?(): void;
  /** The language the call was held in (its conversation's, e.g. 'es-US'), if known. */
  callLanguage?(callId: string): Promise<string | undefined>;
}

export interface TranscribeLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
}

export interface TranscribeProcessorOptions {
  ports: TranscribePorts;
  speechmatics: { apiKey: string; apiUrl: string };
  /** Speechmatics language code (e.g. 'en') for calls whose own language is not known. */
  language: string;
  /** The same medical vocabulary the real-time recogniser gets (dialplan/vocabulary.yaml). */
  vocabulary: readonly { content: string; soundsLike?: readonly string[] }[];
  /** Names of the recording's channels: FreeSWITCH records the caller left, the agent right. */
  channelLabels?: readonly string[];
  /** How often the provider's job is looked at (default 3000 ms). */
  pollIntervalMs?: number;
  /** Longest wait for a transcript per attempt (default 30 min); the next attempt resumes the same job. */
  timeoutMs?: number;
  logger?: TranscribeLogger;
}

const jobData = z.object({
  recordingId: z.uuid(),
  callId: z.uuid(),
  providerJobId: z.string().min(1).max(200).optional(),
});
type JobData = z.infer<typeof jobData>;

/** HTTP statuses with which the service refuses the job itself (bad audio, bad request): retrying cannot help. */
const REFUSED = new Set([400, 413, 415, 422]);


export function transcribeProcessor(options: TranscribeProcessorOptions): Processor {
  const client = new BatchClient({ apiKey: options.speechmatics.apiKey, apiUrl: options.speechmatics.apiUrl, appId: 'callbridge' });
  const labels = options.channelLabels ?? ['Caller', 'Agent'];
  return async (job) => {
    const parsed = jobData.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`malformed transcribe job: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    try {
      return await transcribe(job, parsed.data);
    } catch (error) {
      throw classify(error);
    }
  };

  async function transcribe(job: JobContext, data: JobData): Promise<{ skipped: boolean; providerJobId?: string }> {
    const { ports } = options;
    if (await ports.hasTranscript(data.recordingId)) {
      // An earlier attempt stored it but may have died before telling the service to forget the audio.
      if (data.providerJobId !== undefined) await forget(data.recordingId, data.providerJobId);
      await job.updateProgress(100);
      return { skipped: true };
    }
    // An earlier attempt's provider job is waited for if the service still has it.
    let providerJobId = data.providerJobId;
    if (providerJobId !== undefined && !(await stillThere(providerJobId))) providerJobId = undefined;

    // One pass over the decrypted audio, never held in memory: the talk/silence meter sees every chunk on its
    // way to the upload. The job's channel labels come from the WAV header, read before the upload starts.
    // An attempt resuming an existing provider job only measures.
    const language = await callLanguage(data.callId);
    const meter = new TalkStatsMeter({ labels });
    const audio = (await ports.openAudio(data.recordingId))[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    try {
      const head: Buffer[] = [];
      while (meter.channelLabels === undefined) {
        const next = await audio.next();
        if (next.done === true) break;
        meter.push(next.value);
        head.push(next.value);
      }
      await job.updateProgress(10);
      async function* measured(): AsyncGenerator<Buffer> {
        yield* head;
        for (let next = await audio.next(); next.done !== true; next = await audio.next()) {
          meter.push(next.value);
          yield next.value;
        }
      }
      if (providerJobId === undefined) {
        const created = await createJobStreamingAudio({
          apiUrl: options.speechmatics.apiUrl,
          apiKey: options.speechmatics.apiKey,
          config: jobConfig(meter.channelLabels ?? [], language),
          fileName: `${data.recordingId}.wav`,
          audio: measured(),
        });
        providerJobId = created.id;
        await job.updateData({ ...data, providerJobId });
      } else {
        for await (const _chunk of measured()) {
          // measuring only: the provider already has the audio
        }
      }
    } finally {
      await audio.return?.();
    }
    const stats = meter.result();
    await job.updateProgress(30);
    await waitUntilDone(job, providerJobId, stats.durationMs);

    const transcript = await client.getJobResult(providerJobId, 'json-v2');
    await job.updateProgress(90);
    const wordCount = countWords(transcript);
    const meta: TranscriptMeta = { language, wordCount, stats: { ...stats }, providerJobId };
    const event: CallTranscribedEvent = {
      eventId: nameUuid(`CALL_TRANSCRIBED:${data.recordingId}`),
      recordingId: data.recordingId,
      callId: data.callId,
      language,
      wordCount,
      durationMs: stats.durationMs,
      talkMs: stats.talkMs,
      silenceMs: stats.silenceMs,
      occurredAt: new Date(),
    };
    const { inserted } = await ports.saveTranscript(data.recordingId, transcript, meta, ports.transcribedJobs(event));
    await job.updateProgress(100);
    if (inserted) ports.onStored?.();
    await forget(data.recordingId, providerJobId);
    options.logger?.info({ recordingId: data.recordingId, providerJobId, wordCount, inserted }, 'transcript stored');
    return { skipped: false, providerJobId };
  }

  /** The provider keeps audio and transcript until told otherwise: neither should outlive our need of them. */
  async function forget(recordingId: string, providerJobId: string): Promise<void> {
    await client.deleteJob(providerJobId).catch((error: unknown) => {
      if (error instanceof SpeechmaticsResponseError && error.response.code === 404) return;
      options.logger?.warn({ err: error, recordingId, providerJobId }, 'Speechmatics job not deleted');
    });
  }

  /** Speechmatics names languages without a region ('es', not 'es-US'); unknown → the configured default. */
  async function callLanguage(callId: string): Promise<string> {
    const tag = await options.ports.callLanguage?.(callId);
    const code = tag?.split('-')[0]?.toLowerCase();
    return code !== undefined && /^[a-z]{2,3}$/.test(code) ? code : options.language;
  }

  function jobConfig(channelLabels: readonly string[], language: string): CreateJobConfig {
    const channels = channelLabels.length;
    return {
      transcription_config: {
        language,
        operating_point: 'enhanced',
        ...(options.vocabulary.length === 0
          ? {}
          : { additional_vocab: options.vocabulary.map((t) => (t.soundsLike === undefined ? { content: t.content } : { content: t.content, sounds_like: [...t.soundsLike] })) }),
        ...(channels > 1 ? { diarization: 'channel', channel_diarization_labels: [...channelLabels] } : {}),
      },
    };
  }

  async function stillThere(providerJobId: string): Promise<boolean> {
    try {
      const { job } = await client.getJob(providerJobId);
      return job.status === 'running' || job.status === 'done';
    } catch (error) {
      if (error instanceof SpeechmaticsResponseError && error.response.code === 404) return false;
      throw error;
    }
  }

  async function waitUntilDone(job: JobContext, providerJobId: string, durationMs: number): Promise<void> {
    const pollMs = options.pollIntervalMs ?? 3000;
    const started = Date.now();
    const deadline = started + (options.timeoutMs ?? 30 * 60_000);
    // A rough expectation of how long the service takes, only to move the progress bar.
    const expectedMs = Math.max(30_000, durationMs / 2);
    let reported = 30;
    for (;;) {
      const { job: details } = await client.getJob(providerJobId);
      if (details.status === 'done') return;
      if (details.status === 'rejected') {
        const why = (details.errors ?? []).map((e) => e.message).join('; ') || 'no reason given';
        throw new UnrecoverableError(`Speechmatics rejected the job: ${why}`);
      }
      if (details.status !== 'running') throw new TranscriptionFailedError(`Speechmatics job ${details.status}`, { retryable: true });
      if (Date.now() > deadline) throw new TranscriptionFailedError('no transcript in time; the next attempt waits for the same job', { retryable: true });
      const progress = 30 + Math.min(59, Math.floor((60 * (Date.now() - started)) / expectedMs));
      if (progress > reported) {
        reported = progress;
        await job.updateProgress(progress);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}

/** Whether BullMQ should try again: refused audio and our own non-retryable errors end the job with their reason. */
function classify(error: unknown): Error {
  if (error instanceof UnrecoverableError) return error;
  if (error instanceof SpeechmaticsResponseError) {
    const { code, detail } = error.response;
    const message = `Speechmatics answered HTTP ${code} ${error.response.error}${detail === undefined ? '' : `: ${detail}`}`;
    if (REFUSED.has(code)) return new UnrecoverableError(message);
    return new TranscriptionFailedError(message, { retryable: true, cause: error });
  }
  if (error instanceof CallbridgeError && !error.retryable) return new UnrecoverableError(`${error.code}: ${error.message}`);
  return error instanceof Error ? error : new Error(String(error));
}

function countWords(transcript: RetrieveTranscriptResponse): number {
  return transcript.results.filter((r) => r.type === 'word').length;
}

/** A stable UUID-shaped id derived from a name (same name, same id). */
function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
