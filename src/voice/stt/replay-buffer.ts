// Audio sent to Speechmatics but not yet acknowledged by an AudioAdded seq_no. If the socket drops, exactly
// these frames are replayed into the next session, so the recogniser hears the caller without a gap.
// Sequence numbers are per session (the server counts binary frames from 1), so the buffer keeps the session
// seq of its first sent frame and how many of its frames (a prefix) were sent in the current session.

export class ReplayBuffer {
  private frames: Buffer[] = [];
  private head = 0;
  /** Session seq_no of frames[head] when it has been sent in the current session. */
  private firstSeq = 1;
  /** How many buffered frames, from the head, were sent in the current session. */
  private sentInSession = 0;
  /** Frames sent in the current session (what EndOfStream's last_seq_no must say). */
  private sessionSeq = 0;
  private bufferedBytes = 0;
  /** Bytes the server has acknowledged, plus bytes dropped for the bound: the audio timeline behind us. */
  private consumedBytes = 0;
  private droppedFrameCount = 0;

  constructor(private readonly maxFrames: number) {
    if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError('maxFrames must be a positive integer');
  }

  get length(): number {
    return this.frames.length - this.head;
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

  get dropped(): number {
    return this.droppedFrameCount;
  }

  /** True when every frame sent in this session has been acknowledged. */
  get allAcknowledged(): boolean {
    return this.sentInSession === 0;
  }

  get full(): boolean {
    return this.length >= this.maxFrames;
  }

  /** Adds a frame; when the bound is reached the oldest frame is dropped (it can no longer be replayed). */
  push(frame: Buffer): void {
    if (this.full) this.dropOldest();
    this.frames.push(frame);
    this.bufferedBytes += frame.length;
  }

  /** Marks the newest buffered frame as sent in this session; returns its seq_no. */
  markSent(): number {
    this.sentInSession += 1;
    this.sessionSeq += 1;
    return this.sessionSeq;
  }

  /** A new session starts: nothing is sent in it yet; every buffered frame must be sent again. */
  newSession(): Buffer[] {
    this.sentInSession = 0;
    this.sessionSeq = 0;
    this.firstSeq = 1;
    return this.frames.slice(this.head);
  }

  /** The server has every frame up to seqNo (AudioAdded): those frames need no replay. */
  acknowledge(seqNo: number): void {
    const count = Math.min(this.sentInSession, seqNo - this.firstSeq + 1);
    for (let i = 0; i < count; i += 1) {
      const frame = this.frames[this.head] as Buffer;
      this.head += 1;
      this.bufferedBytes -= frame.length;
      this.consumedBytes += frame.length;
    }
    if (count > 0) {
      this.firstSeq += count;
      this.sentInSession -= count;
      this.compact();
    }
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.bufferedBytes = 0;
    this.sentInSession = 0;
  }

  private dropOldest(): void {
    const frame = this.frames[this.head] as Buffer;
    this.head += 1;
    this.bufferedBytes -= frame.length;
    this.consumedBytes += frame.length;
    this.droppedFrameCount += 1;
    if (this.sentInSession > 0) {
      // It was sent in this session: a later AudioAdded still counts it, so the seq window moves on.
      this.sentInSession -= 1;
      this.firstSeq += 1;
    }
    this.compact();
  }

  // Shifting an array per acknowledged frame is O(n); a head index with occasional compaction is O(1) amortised.
  private compact(): void {
    if (this.head > 256 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
