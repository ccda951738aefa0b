// A streamed v2 turn over HTTP: the request up to its first chunk, and the response body read as it
// arrives: bytes are counted against the size limit, decoded, framed (NDJSON or SSE), and each chunk is
// validated and checked for order before anyone sees it. Retries, gaps and limits in time are the engine's
// business (it aborts the request); this only sends and reads.
import { AiEngineBadReplyError, AiEngineUnavailableError, type CallbridgeError } from '../core/errors.ts';
import type { AgentReplyChunk } from '../core/voice-ports.ts';
import { ChunkOrder, framerFor, parseChunk, streamFormatOf, type Framer, type StreamFormat } from './reply-stream.ts';

/** A v2 turn whose first chunk has arrived; `abort` ends the request (and with it the body). */
export interface OpenStream {
  reader: ChunkReader;
  first: AgentReplyChunk;
  abort: AbortController;
}

/**
 * One attempt of a v2 turn, up to its first chunk. The attempt's timeouts (`attempt`) govern only this far;
 * after it the request lives on under its own controller, which the caller's gap limit aborts, and under
 * `cancelled` (the client closing).
 */
export async function openReplyStream(
  request: { url: string; headers: Record<string, string>; body: string },
  options: { attempt: AbortSignal; cancelled: AbortSignal; maxBytes: number },
): Promise<OpenStream> {
  const { attempt, cancelled, maxBytes } = options;
  const abort = new AbortController();
  const relay = (): void => abort.abort(attempt.reason);
  if (attempt.aborted) relay();
  else attempt.addEventListener('abort', relay, { once: true });
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.any([abort.signal, cancelled]),
    });
    const status = response.status;
    if (status < 200 || status >= 300) {
      await response.body?.cancel();
      throw statusError(status);
    }
    if (response.body === null) throw new AiEngineUnavailableError('AI engine stream ended before its first chunk', { status });
    const format = streamFormatOf(response.headers.get('content-type'));
    if (format === undefined) {
      await response.body.cancel();
      throw new AiEngineBadReplyError('AI engine answered a v2 turn with neither NDJSON nor an event stream', { status });
    }
    const reader = new ChunkReader(response.body, { format, maxBytes, status });
    const first = await reader.next();
    if (first === undefined) throw new AiEngineUnavailableError('AI engine stream ended before its first chunk', { status });
    return { reader, first, abort };
  } catch (error) {
    abort.abort();
    throw error;
  } finally {
    attempt.removeEventListener('abort', relay);
  }
}

/** A non-2xx answer: the engine is unavailable (retried) or refused the request (a bug, not retried). */
export function statusError(status: number): CallbridgeError {
  if (status >= 500 || status === 429 || status === 408) {
    return new AiEngineUnavailableError(`AI engine answered HTTP ${status}`, { status });
  }
  return new AiEngineBadReplyError(`AI engine refused the request with HTTP ${status}`, { status });
}

export class ChunkReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private readonly framer: Framer;
  private readonly order = new ChunkOrder();
  private readonly pending: string[] = [];
  private readonly maxBytes: number;
  /** The response's HTTP status, carried by the errors (a malformed stream still came with a 2xx). */
  private readonly status: number;
  private bytes = 0;
  private ended = false;

  constructor(body: ReadableStream<Uint8Array>, options: { format: StreamFormat; maxBytes: number; status: number }) {
    this.reader = body.getReader();
    this.framer = framerFor(options.format);
    this.maxBytes = options.maxBytes;
    this.status = options.status;
  }

  /** Whether the stream reached `done` (a stream that ends before it failed). */
  get complete(): boolean {
    return this.order.done;
  }

  /**
   * The next chunk, or undefined once the stream is over (at `done`, or when the body ended without it).
   * Rejects with AiEngineBadReplyError for a malformed or out-of-order chunk or an oversized body, and with
   * the transport's error when the body breaks.
   */
  async next(): Promise<AgentReplyChunk | undefined> {
    while (this.pending.length === 0) {
      // Whatever follows done is not read: the reply is complete, the caller should not wait on the engine.
      if (this.ended || this.order.done) return undefined;
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        this.pending.push(...this.framer.push(this.decoder.decode()), ...this.framer.end());
        continue;
      }
      this.bytes += value.byteLength;
      if (this.bytes > this.maxBytes) throw this.malformed(`stream exceeds ${this.maxBytes} bytes`);
      this.pending.push(...this.framer.push(this.decoder.decode(value, { stream: true })));
    }
    if (this.order.done) return undefined;
    const parsed = parseChunk(this.pending.shift() ?? '');
    if ('problem' in parsed) throw this.malformed(parsed.problem);
    const outOfOrder = this.order.accept(parsed.chunk);
    if (outOfOrder !== undefined) throw this.malformed(`stream out of order: ${outOfOrder}`);
    return parsed.chunk;
  }

  private malformed(problem: string): AiEngineBadReplyError {
    return new AiEngineBadReplyError(`AI engine reply: ${problem}`, { status: this.status });
  }

  /** Reads the body to its end, discarding it, so the connection can carry the next request. */
  async drain(): Promise<void> {
    for (;;) {
      const { done } = await this.reader.read();
      if (done) return;
    }
  }
}
