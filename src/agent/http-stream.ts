// Reading a streamed v2 reply from an HTTP response body as it arrives: bytes are counted against the size
// limit, decoded, framed (NDJSON or SSE), and each chunk is validated and checked for order before anyone
// sees it. Timing is the engine's business (it aborts the request); this only reads.
import { AiEngineBadReplyError } from '../core/errors.ts';
import type { AgentReplyChunk } from '../core/voice-ports.ts';
import { ChunkOrder, framerFor, parseChunk, type Framer, type StreamFormat } from './reply-stream.ts';

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
