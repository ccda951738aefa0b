// Prometheus metrics: one registry per process (not prom-client's global one, so tests and several servers in
// one process never collide), typed handles for the code that records, and GET /metrics for the scraper.
import type { FastifyPluginAsync } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Calls this controller currently owns. */
  activeCalls: Gauge;
  /** Finished calls by outcome (completed, transferred, abandoned, failed, emergency …: a small fixed set). */
  callsTotal: Counter<'outcome'>;
  eslReconnectsTotal: Counter;
  /** ESL command round trip by command name only (`uuid_break`, never its arguments: label cardinality). */
  eslCommandDuration: Histogram<'command'>;
  /** Event-Date-Timestamp of a FreeSWITCH event → the moment the controller handled it. */
  eventLag: Histogram;
  /** Edits of the routing file that were rejected (the last good version stayed live). */
  routingReloadFailuresTotal: Counter;
  /** 1 while the routing file on disk is the live version, 0 while its last edit is rejected. */
  routingFileValid: Gauge;
  /** MOS of the caller's audio per call, and the calls under VOICE_QUALITY_THRESHOLD. */
  voiceMos: Histogram;
  poorQualityCallsTotal: Counter;
  /** Call journal writes given up after every retry (call history lost: alert on any). */
  journalWritesLostTotal: Counter;
  /** Answer → the caller starts hearing the agent's first prompt (PLAYBACK_START). */
  firstPromptSeconds: Histogram;
  /** Per conversation turn: end of caller speech → reply → speech ready → playback command (stage), and the total. */
  turnStageSeconds: Histogram<'stage'>;
  /** The caller talked over the agent and playback was stopped. */
  bargeInsTotal: Counter;
  /** mod_audio_fork trouble by kind: connect_failed, disconnect, buffer_overrun, restart, gave_up. */
  audioForkEventsTotal: Counter<'event'>;
  /** Speech-to-text sessions that could not start or were lost for good (the caller went to a person). */
  sttFailuresTotal: Counter;
  /** Hand-offs from the AI by resolved destination kind (ring_group, emergency, backup_number). */
  aiHandOffsTotal: Counter<'to'>;
  /** Emergencies by trigger (phrase, dtmf, agent, staff), and trigger → bridge command. */
  emergenciesTotal: Counter<'trigger'>;
  emergencyBridgeSeconds: Histogram;
  /** Transfers by outcome (bridged, failed) and request → bridged. */
  transfersTotal: Counter<'outcome'>;
  transferSeconds: Histogram;
  /** 1 for the system mode in force (normal, ai-down, 3cx-down), 0 for the others. */
  systemMode: Gauge<'mode'>;
  /** Text messages by purpose (appointment, emergency, failover) and outcome (sent, failed). */
  smsTotal: Counter<'purpose' | 'outcome'>;
}

export interface CreateMetricsOptions {
  /** Process metrics (memory, CPU, event-loop delay, GC). Default true. */
  defaultMetrics?: boolean;
}

export function createMetrics(options: CreateMetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'callbridge_' });
  return {
    registry,
    activeCalls: new Gauge({
      name: 'callbridge_active_calls',
      help: 'Calls currently owned by this controller',
      registers: [registry],
    }),
    callsTotal: new Counter({
      name: 'callbridge_calls_total',
      help: 'Finished calls by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    eslReconnectsTotal: new Counter({
      name: 'callbridge_esl_reconnects_total',
      help: 'Inbound ESL reconnections to FreeSWITCH',
      registers: [registry],
    }),
    eslCommandDuration: new Histogram({
      name: 'callbridge_esl_command_duration_seconds',
      help: 'Time from sending an ESL command to its reply',
      labelNames: ['command'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    routingReloadFailuresTotal: new Counter({
      name: 'callbridge_routing_reload_failures_total',
      help: 'Edits of the routing file that were rejected; the last good version stayed live',
      registers: [registry],
    }),
    routingFileValid: new Gauge({
      name: 'callbridge_routing_file_valid',
      help: '1 when the routing file on disk is the live version, 0 while its last edit is rejected',
      registers: [registry],
    }),
    voiceMos: new Histogram({
      name: 'callbridge_voice_mos',
      help: "Mean opinion score of the caller's audio per call (FreeSWITCH RTP statistics at hangup)",
      buckets: [1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.5],
      registers: [registry],
    }),
    journalWritesLostTotal: new Counter({
      name: 'callbridge_journal_writes_lost_total',
      help: 'Call journal writes given up after every retry (call history lost)',
      registers: [registry],
    }),
    poorQualityCallsTotal: new Counter({
      name: 'callbridge_poor_quality_calls_total',
      help: 'Calls whose audio scored under VOICE_QUALITY_THRESHOLD',
      registers: [registry],
    }),
    firstPromptSeconds: new Histogram({
      name: 'callbridge_first_prompt_seconds',
      help: "Time from answer to the caller hearing the agent's first prompt",
      buckets: [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5],
      registers: [registry],
    }),
    turnStageSeconds: new Histogram({
      name: 'callbridge_turn_stage_seconds',
      help: 'Conversation turn latency by stage: agent (end of speech → reply), tts (→ speech ready), playback (→ command sent), total',
      labelNames: ['stage'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 2, 3, 5],
      registers: [registry],
    }),
    bargeInsTotal: new Counter({
      name: 'callbridge_barge_ins_total',
      help: 'Times the caller talked over the agent and its playback was stopped',
      registers: [registry],
    }),
    audioForkEventsTotal: new Counter({
      name: 'callbridge_audio_fork_events_total',
      help: 'mod_audio_fork trouble: connect_failed, disconnect, buffer_overrun, restart, gave_up',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    sttFailuresTotal: new Counter({
      name: 'callbridge_stt_failures_total',
      help: 'Speech-to-text sessions that could not start or were lost for good (the caller went to a person)',
      registers: [registry],
    }),
    aiHandOffsTotal: new Counter({
      name: 'callbridge_ai_handoffs_total',
      help: 'Calls the AI handed to people, by destination kind',
      labelNames: ['to'] as const,
      registers: [registry],
    }),
    emergenciesTotal: new Counter({
      name: 'callbridge_emergencies_total',
      help: 'Emergency escalations by trigger (phrase, dtmf, agent, staff)',
      labelNames: ['trigger'] as const,
      registers: [registry],
    }),
    emergencyBridgeSeconds: new Histogram({
      name: 'callbridge_emergency_bridge_seconds',
      help: 'Time from an emergency trigger to the bridge command',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    transfersTotal: new Counter({
      name: 'callbridge_transfers_total',
      help: 'Transfers to people by outcome (bridged, failed after every target)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    transferSeconds: new Histogram({
      name: 'callbridge_transfer_seconds',
      help: 'Time from a transfer request to the caller being bridged',
      buckets: [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120],
      registers: [registry],
    }),
    systemMode: new Gauge({
      name: 'callbridge_system_mode',
      help: '1 for the failover mode in force (normal, ai-down, 3cx-down), 0 for the others',
      labelNames: ['mode'] as const,
      registers: [registry],
    }),
    smsTotal: new Counter({
      name: 'callbridge_sms_total',
      help: 'Text messages by purpose and outcome (after retries)',
      labelNames: ['purpose', 'outcome'] as const,
      registers: [registry],
    }),
    eventLag: new Histogram({
      name: 'callbridge_event_lag_seconds',
      help: 'Delay between FreeSWITCH emitting an event and the controller handling it',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
};
