// What the controller may send to mod_audio_fork over the fork's WebSocket, and how FreeSWITCH answers
// each (../shared/freeswitch-traces/README.md, "mod_audio_fork findings"): every message is one JSON text
// frame `{type, data}`; FreeSWITCH turns it into a CUSTOM event `mod_audio_fork::<subclass>` on the
// channel. An unknown type or non-JSON text only gives a log line there, so we never send either.

/** `playAudio`: FreeSWITCH writes `audioContent` to a temp file and reports it (`::play_audio`). */
export interface PlayAudioData {
  /** `raw` = headerless 16-bit LE PCM at `sampleRate`; `wav`/`wave` = a WAV file. */
  audioContentType: 'raw' | 'wav' | 'wave';
  sampleRate: 8000 | 16000 | 24000 | 32000 | 48000 | 64000;
  /** The audio itself; a Buffer is base64-encoded for the wire. */
  audioContent: string | Buffer;
  textContent?: string;
}

export type JsonObject = { readonly [key: string]: unknown };

export type AudioForkMessage =
  | { type: 'playAudio'; data: PlayAudioData }
  /** Stops playback started by playAudio; also breaks the running dialplan application (CF_BREAK). */
  | { type: 'killAudio' }
  /** Body of `mod_audio_fork::transcription` is exactly `data`. */
  | { type: 'transcription'; data: JsonObject }
  /** Body of `mod_audio_fork::transfer` is `data` (FreeSWITCH only reports it; it transfers nothing). */
  | { type: 'transfer'; data: JsonObject }
  | { type: 'disconnect'; data: JsonObject }
  | { type: 'error'; data: JsonObject }
  /** Body of `mod_audio_fork::json` is the WHOLE message, not only `data`. */
  | { type: 'json'; data: JsonObject };

/** The exact text frame for a message (base64 for binary audio, no trailing newline). */
export function encodeMessage(message: AudioForkMessage): string {
  if (message.type === 'playAudio') {
    // Keep the caller's key order; only the audio itself changes form.
    const data = Object.fromEntries(
      Object.entries(message.data).map(([k, v]) => [k, k === 'audioContent' && Buffer.isBuffer(v) ? v.toString('base64') : v]),
    );
    return JSON.stringify({ type: 'playAudio', data });
  }
  return JSON.stringify(message);
}
