// The caller's audio path as diagnostics channels (node:diagnostics_channel): where a frame arrives on the
// fork WebSocket, where it is handed to the STT stream, and each AddAudio message written to the STT socket.
// Nothing here measures anything: a subscriber (the benchmark, a test) takes its own clock readings when a
// message is published. With no subscriber, publishing is skipped behind `hasSubscribers`: one property read
// per frame on the hot path.
import { channel } from 'node:diagnostics_channel';

/** A binary frame from mod_audio_fork, published as ws hands it over, before any listener sees it. */
export interface ForkFrameMessage {
  callId: string;
  /** The frame the fork's listeners get (the same Buffer object, so a subscriber can key on it). */
  frame: Buffer;
}

/** A frame the STT stream accepted: queued in its batch (or, with batching off, about to be written). */
export interface SttFrameMessage {
  frame: Buffer;
}

/** Why an AddAudio message was written now. */
export type SttMessageCause =
  /** The batch reached its length. */
  | 'full'
  /** The batch's oldest frame had waited the batch's length (audio stopped coming, or came slowly). */
  | 'timer'
  /** The stream is closing: what is left goes before EndOfStream. */
  | 'close'
  /** A new session after a drop: unacknowledged audio sent again. */
  | 'replay';

/** One AddAudio message handed to the Speechmatics client (written to its socket, or buffered for a reconnect). */
export interface SttMessageMessage {
  /** The frames it carries, oldest first (their Buffers as they were handed to the stream); empty for a replay. */
  frames: readonly Buffer[];
  bytes: number;
  cause: SttMessageCause;
  /** False when no session was open: the message waits in the replay buffer for the next one. */
  written: boolean;
}

export const forkFrameChannel = channel('callbridge:audio-fork:frame');
export const sttFrameChannel = channel('callbridge:stt:frame');
export const sttMessageChannel = channel('callbridge:stt:message');
