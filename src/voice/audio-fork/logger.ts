// The slice of a pino logger the audio-fork server uses (pino's Logger satisfies it). Objects first, then
// the message, as pino expects; callers never put phone numbers or tokens in either.
export interface AudioForkLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentAudioForkLogger: AudioForkLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
