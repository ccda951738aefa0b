// The mod_audio_fork WebSocket server (issue 5): FreeSWITCH forks each call's audio to us here.
export { AudioForkServer, AUDIO_FORK_SUBPROTOCOL, type AudioForkRefusal, type AudioForkServerEvents, type AudioForkServerOptions, type AudioForkStats } from './server.ts';
export { AudioFork, type AudioForkEvents, type AudioForkState } from './fork.ts';
export { encodeMessage, type AudioForkMessage, type JsonObject, type PlayAudioData } from './messages.ts';
export { FrameQueue } from './frame-queue.ts';
export { silentAudioForkLogger, type AudioForkLogger } from './logger.ts';
export { frameRms, VoiceActivityDetector, type VoiceActivityOptions } from './voice-activity.ts';
