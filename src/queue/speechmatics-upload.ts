// Creating a Speechmatics batch job with the audio streamed. The batch client's createTranscriptionJob takes
// the audio as a Blob, which in Node means the whole decrypted recording in memory (about 115 MB for an hour
// of 8 kHz stereo, times the worker's concurrency); a file-backed Blob would put plaintext audio on disk,
// which the recording policy forbids. So this one request is ours: the same multipart/form-data POST
// /v2/jobs the client sends (`config` with type "transcription", then `data_file`), with the file part
// streamed from the decryptor. Everything else (status, transcript, delete) still goes through the client.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { SpeechmaticsResponseError, type BatchClient } from '@speechmatics/batch-client';

export type CreateJobConfig = Parameters<BatchClient['createTranscriptionJob']>[1];

export interface StreamedJobRequest {
  apiUrl: string;
  apiKey: string;
  config: CreateJobConfig;
  fileName: string;
  audio: AsyncIterable<Buffer>;
}

/** The service's job id; a refusal throws SpeechmaticsResponseError as the client would. */
export async function createJobStreamingAudio(request: StreamedJobRequest): Promise<{ id: string }> {
  const boundary = `callbridge-${randomBytes(16).toString('hex')}`;
  const config = JSON.stringify({ ...request.config, type: 'transcription' });
  // Our file names are recording ids; still, a quote or line break must never reach the part header.
  const fileName = request.fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  async function* body(): AsyncGenerator<Buffer> {
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="config"\r\n\r\n${config}\r\n`);
    yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="data_file"; filename="${fileName}"\r\nContent-Type: audio/wav\r\n\r\n`);
    for await (const chunk of request.audio) yield chunk;
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  const response = await fetch(new URL('/v2/jobs', request.apiUrl), {
    method: 'POST',
    headers: { Authorization: `Bearer ${request.apiKey}`, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.toWeb(Readable.from(body())) as ReadableStream<Uint8Array>,
    duplex: 'half',
  } as RequestInit);
  const text = await response.text();
  if (!response.ok) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const looksLikeError = typeof parsed === 'object' && parsed !== null && 'code' in parsed && 'error' in parsed;
    throw new SpeechmaticsResponseError(looksLikeError ? parsed : { code: response.status, error: 'Internal Server Error', detail: `HTTP ${response.status}` });
  }
  const created = JSON.parse(text) as { id?: unknown };
  if (typeof created.id !== 'string') throw new Error('Speechmatics created a job without an id');
  return { id: created.id };
}
