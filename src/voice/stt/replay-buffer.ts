// AddAudio messages sent to Speechmatics but not yet acknowledged by an AudioAdded seq_no. If the socket
// drops, exactly these messages are replayed into the next session, so the recogniser hears the caller
// without a gap. The service numbers binary messages per session from 1, whatever their length (a message is
// a batch of frames), so the buffer counts messages: it keeps the session seq of its first sent message and
// how many of its messages (a prefix) were sent in the current session. It is bounded in bytes of audio,
// because batches cut short by their timer are shorter than full ones.

export class ReplayBuffer {
  private messages: Buffer[] = [];
  private head = 0;
  /** Session seq_no of messages[head] when it has been sent in the current session. */
  private firstSeq = 1;
  /** How many buffered messages, from the head, were sent in the current session. */
  private sentInSession = 0;
  /** Messages sent in the current session (what EndOfStream's last_seq_no must say). */
  private sessionSeq = 0;
  private bufferedBytes = 0;
  /** Bytes the server has acknowledged, plus bytes dropped for the bound: the audio timeline behind us. */
  private consumedBytes = 0;
  private droppedCount = 0;

  constructor(private readonly maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  }

  /** Messages buffered (sent and unacknowledged, or waiting for a session). */
  get length(): number {
    return this.messages.length - this.head;
  }

  get bytes(): number {
    return this.bufferedBytes;
  }

  /** Acknowledged (or dropped) audio bytes since the stream began: the offset of the next session's clock. */
  get consumed(): number {
    return this.consumedBytes;
  }

  get lastSentSeq(): number {
    return this.sessionSeq;
  }

  /** Messages dropped, unacknowledged, to stay within the bound. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** True when every message sent in this session has been acknowledged. */
  get allAcknowledged(): boolean {
    return this.sentInSession === 0;
  }

  get full(): boolean {
    return this.bufferedBytes >= this.maxBytes;
  }

  /** Adds a message; the oldest are dropped (they can no longer be replayed) until it fits the bound. */
  push(message: Buffer): void {
    while (this.length > 0 && this.bufferedBytes + message.length > this.maxBytes) this.dropOldest();
    this.messages.push(message);
    this.bufferedBytes += message.length;
  }

  /** Marks the newest buffered message as sent in this session; returns its seq_no. */
  markSent(): number {
    this.sentInSession += 1;
    this.sessionSeq += 1;
    return this.sessionSeq;
  }

  /** A new session starts: nothing is sent in it yet; every buffered message must be sent again. */
  newSession(): Buffer[] {
    this.sentInSession = 0;
    this.sessionSeq = 0;
    this.firstSeq = 1;
    return this.messages.slice(this.head);
  }

  /** The server has every message up to seqNo (AudioAdded): those need no replay. */
  acknowledge(seqNo: number): void {
    const count = Math.min(this.sentInSession, seqNo - this.firstSeq + 1);
    for (let i = 0; i < count; i += 1) {
      const message = this.messages[this.head] as Buffer;
      this.head += 1;
      this.bufferedBytes -= message.length;
      this.consumedBytes += message.length;
    }
    if (count > 0) {
      this.firstSeq += count;
      this.sentInSession -= count;
      this.compact();
    }
  }

  clear(): void {
    this.messages = [];
    this.head = 0;
    this.bufferedBytes = 0;
    this.sentInSession = 0;
  }

  private dropOldest(): void {
    const message = this.messages[this.head] as Buffer;
    this.head += 1;
    this.bufferedBytes -= message.length;
    this.consumedBytes += message.length;
    this.droppedCount += 1;
    if (this.sentInSession > 0) {
      // It was sent in this session: a later AudioAdded still counts it, so the seq window moves on.
      this.sentInSession -= 1;
      this.firstSeq += 1;
    }
    this.compact();
  }

  // Shifting an array per acknowledged message is O(n); a head index with occasional compaction is O(1) amortised.
  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.head = 0;
    }
  }
}
