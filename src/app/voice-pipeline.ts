// The voice pipeline's shared parts, built once per controller: the audio fork endpoint on our HTTP server,
// Speechmatics for speech-to-text, Google TTS behind the prompt cache, the conversation engine (the external
// AI engine with the built-in agent behind it, or the built-in agent alone), and the medical vocabulary.
// Conversations (src/call/conversation.ts) use only this.
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { ConversationEngine, SpeechRequest } from '../core/voice-ports.ts';
import type { RoutingConfig } from '../core/routing/schema.ts';
import { HttpConversationEngine, loadAgentScript, ResilientConversationEngine, ScriptedAgent } from '../agent/index.ts';
import type { Metrics } from '../http/metrics.ts';
import { AudioForkServer } from '../voice/audio-fork/index.ts';
import { loadVocabulary, SpeechmaticsStt } from '../voice/stt/index.ts';
import { CachedTts, GoogleTts, type PrewarmResult } from '../voice/tts/index.ts';
import { announcementTexts } from '../call/spoken-text.ts';
import type { ConversationVoice, VoicePhrases } from '../call/ports.ts';
import { reportingEngine, reportingStt, reportingSynthesizer, type HealthProbes, type HealthReport } from './service-health.ts';
import type { VoiceConfig } from './config.ts';

/** The voice pipeline: what a conversation uses, plus warming the cache, health probes and shutdown. */
export interface VoicePipeline extends ConversationVoice {
  metrics: Metrics;
  /** Resolves when every fixed prompt and the routing file's announcements are in the cache (or failed to be). */
  prewarmed: Promise<PrewarmResult>;
  /** Puts what a routing file has the controller say in the cache (after a reload): the first caller does not wait. */
  prewarmAnnouncements: (routing: RoutingConfig) => Promise<PrewarmResult>;
  /** Light checks of each service, for failover to see a failing one come back. */
  probes: HealthProbes;
  close(): Promise<void>;
}

export interface BuildVoicePipelineOptions {
  config: VoiceConfig;
  /** The controller's HTTP server: the fork endpoint shares it. */
  server: HttpServer;
  forkBaseUrl: () => string;
  routing: RoutingConfig;
  metrics: Metrics;
  logger: Logger;
  /** Where each real use of the engine, STT and TTS reports whether it worked (failover). */
  report?: HealthReport;
}

const PHRASES: Record<'en' | 'es', VoicePhrases> = {
  en: {
    cannotHear: "I'm sorry, I'm having trouble hearing you. Let me connect you with a member of our team.",
    connecting: 'Let me connect you with a member of our team.',
    // Short on purpose: FreeSWITCH starts the emergency bridge only once this has been said.
    emergency: 'Connecting you to our staff now.',
  },
  es: {
    cannotHear: 'Disculpe, tengo problemas para escucharle. Le comunico con un miembro de nuestro equipo.',
    connecting: 'Le comunico con un miembro de nuestro equipo.',
    emergency: 'Le comunico con nuestro personal ahora.',
  },
};

const primary = (language: string): 'en' | 'es' => (language.toLowerCase().startsWith('es') ? 'es' : 'en');

export async function buildVoicePipeline(options: BuildVoicePipelineOptions): Promise<VoicePipeline> {
  const { config, logger, routing } = options;
  const report: HealthReport = options.report ?? (() => undefined);
  const [vocabulary, script] = await Promise.all([loadVocabulary(config.vocabularyFile), loadAgentScript({ path: config.agentScriptFile })]);
  const builtIn = new ScriptedAgent({ script, emergencyPhrases: [...routing.emergency.phrases.en, ...routing.emergency.phrases.es] });
  const agentLogger = logger.child({ component: 'agent' });
  const external =
    config.aiEngine.url === undefined
      ? undefined
      : new HttpConversationEngine({ baseUrl: config.aiEngine.url, ...(config.aiEngine.token ? { token: config.aiEngine.token } : {}), contract: config.aiEngine.contract, logger: agentLogger });
  const watchedEngine = external === undefined ? undefined : reportingEngine(external, report);
  const engine: ConversationEngine =
    watchedEngine === undefined
      ? builtIn
      : new ResilientConversationEngine({
          primary: watchedEngine,
          fallback: builtIn,
          deadlineMs: config.aiEngine.deadlineMs,
          holdingPhrase: (language) => builtIn.holdingPhrase(language),
          logger: agentLogger,
        });
  const stt = reportingStt(new SpeechmaticsStt({
    url: config.speechmatics.realtimeUrl,
    ...(config.speechmatics.apiKey === undefined ? {} : { apiKey: config.speechmatics.apiKey }),
    managementPlatformUrl: config.speechmatics.managementUrl,
    maxDelaySec: config.speechmatics.maxDelaySec,
    endOfUtteranceSilenceSec: config.speechmatics.endOfUtteranceSilenceSec,
    audioBatchMs: config.speechmatics.audioBatchMs,
    logger: logger.child({ component: 'stt' }),
  }), report);
  const synthesizer = new GoogleTts({ baseUrl: config.tts.url, ...(config.tts.apiKey === undefined ? {} : { apiKey: config.tts.apiKey }) });
  const watchedSynthesizer = reportingSynthesizer(synthesizer, report);
  const tts = new CachedTts({
    synthesizer: watchedSynthesizer,
    cacheDir: config.tts.cacheDir,
    encoding: config.tts.encoding,
    ...(config.tts.fallbackPrompt === undefined ? {} : { fallbackPrompt: config.tts.fallbackPrompt }),
    logger: logger.child({ component: 'tts' }),
  });
  const forks = new AudioForkServer({ server: options.server, logger: logger.child({ component: 'audio-fork' }), tokenTtlMs: config.audioFork.tokenTtlMs });
  const voiceFor = (language: string): string => config.tts.voices[primary(language)];
  const sampleRate = config.tts.sampleRate;

  // Everything the agent can say word for word, in every language, and everything the routing file has the
  // controller say is synthesized before the first call. A call asks in its number's language tag (es-US),
  // and the tag is part of the cache key: each sentence is warmed under every tag the routing file uses.
  const request = (language: string, text: string): SpeechRequest => ({ text, voice: voiceFor(language), language, sampleRate });
  const routingSentences = (config: RoutingConfig): SpeechRequest[] => {
    const tags = [...new Set(['en-US', ...Object.values(config.numbers).map((n) => n.language)])];
    return [
      ...builtIn.fixedPrompts().flatMap((p) => tags.filter((tag) => builtIn.languageFor(tag) === p.language).map((tag) => request(tag, p.text))),
      ...tags.flatMap((tag) => {
        const p = PHRASES[primary(tag)];
        return [request(tag, p.cannotHear), request(tag, p.connecting), request(tag, p.emergency)];
      }),
      ...announcementTexts(config).map((a) => request(a.language, a.text)),
    ];
  };
  const fixed = routingSentences(routing);
  const started = performance.now();
  const prewarmed = tts.prewarm(fixed).then((result) => {
    logger.info({ ...result, ms: Math.round(performance.now() - started) }, 'prompt cache warmed');
    return result;
  });

  const probes: HealthProbes = {
    // A conversation that starts and ends at once; its id says what it is.
    ...(watchedEngine === undefined
      ? {}
      : {
          ai_engine: async () => {
            const callId = `healthcheck-${randomUUID()}`;
            await watchedEngine.start({ callId, caller: '', did: '', location: null, language: 'en-US', routing: { rule: 'healthcheck', reason: 'health check', messageOnly: true } });
            await watchedEngine.end(callId, 'health check');
          },
        }),
    stt: async () => {
      const stream = await stt.start({ language: 'en-US', sampleRate: 16000, vocabulary: [] });
      await stream.close();
    },
    // Straight to Google, past the cache: a cached prompt says nothing about the service.
    tts: async () => {
      await watchedSynthesizer.synthesize({ text: 'Health check.', ssml: false, voice: voiceFor('en-US'), language: 'en-US', sampleRate, encoding: config.tts.encoding });
    },
  };

  return {
    forks,
    probes,
    forkBaseUrl: options.forkBaseUrl,
    stt,
    tts,
    engine,
    engineStreams: external !== undefined && config.aiEngine.contract === 'v2',
    vocabulary,
    voiceFor,
    sampleRate,
    fallbackPrompt: () => (config.tts.fallbackPrompt === undefined ? undefined : { app: 'playback', arg: config.tts.fallbackPrompt }),
    holdingPhrase: (language) => builtIn.holdingPhrase(language),
    phrases: (language) => PHRASES[primary(language)],
    maxForkRestarts: config.audioFork.maxRestarts,
    bargeInMinSpeechMs: config.bargeInMinSpeechMs,
    metrics: options.metrics,
    prewarmed,
    // Sentences already cached are only looked up again (a file read each).
    prewarmAnnouncements: (config) => tts.prewarm(routingSentences(config)),
    close: async () => {
      await forks.close();
      await external?.close();
      await synthesizer.close();
    },
  };
}
