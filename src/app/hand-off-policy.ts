// Where this controller sends a call that leaves the agent, and what goes with it: the dial strings of the
// agent's hand-offs and of emergencies (from the routing live now and the system mode), the context headers
// the agent's phone shows, who is alerted in an emergency, the warm transfers that ring a group's people
// themselves, and the stored context of each transfer. Policy only: the adapters come in built.
import type { Logger } from 'pino';
import { pickAgents } from '../core/agent-selection.ts';
import { emergencyDial } from '../core/emergency.ts';
import type { Clock } from '../core/ports.ts';
import { withSipHeaders } from '../core/sip-headers.ts';
import type { RoutingDecision, SystemMode } from '../core/routing/types.ts';
import type { DrizzleTransferStore } from '../db/index.ts';
import type { EslConnection } from '../esl/index.ts';
import type { Metrics } from '../http/index.ts';
import type { EmergencyEscalation, HandOffDial, HandOffPolicy, TransferRecorder, WarmTransferRunner } from '../call/call-handoffs.ts';
import type { HandOffRequest } from '../call/conversation.ts';
import { runWarmTransfer } from '../call/warm-transfer.ts';
import { emergencyTargets, handOffDial, whisperText } from './call-wiring.ts';
import type { Config } from './config.ts';
import type { EmergencyAlerts } from './emergency-alerts.ts';
import type { RoutingService } from './routing-service.ts';
import type { VoicePipeline } from './voice-pipeline.ts';

export interface HandOffPolicyDeps {
  config: Config;
  routing: RoutingService;
  /** Undefined without a voice pipeline: the agent's hand-offs to ring groups are then blind bridges. */
  voice: VoicePipeline | undefined;
  /** The long-lived inbound connection, which warm transfers ring the agents on. */
  inbound: { current(): EslConnection | undefined };
  transferStore: Pick<DrizzleTransferStore, 'create' | 'complete'>;
  alerts: Pick<EmergencyAlerts, 'alert'>;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  mode: () => SystemMode;
}

/** Staff texted in emergencies and on mode changes: the environment's list, else routing.yaml's. */
export function staffNumbers(config: Config, routing: RoutingService): readonly string[] {
  return config.emergency.notifySms.length > 0 ? config.emergency.notifySms : routing.config.emergency.sms_alerts;
}

/** The hand-off parts of every CallSession this controller makes (one instance, shared by all calls). */
export class CallHandOffPolicy implements Omit<HandOffPolicy, 'onTransfer'> {
  readonly #d: HandOffPolicyDeps;
  /** Agents talking with one of our callers (call id → extension) ring last in the next warm transfer. */
  readonly #busyAgents = new Map<string, string>();
  readonly transfers: TransferRecorder;
  readonly emergency: EmergencyEscalation;
  readonly warmTransfer: WarmTransferRunner | undefined;

  constructor(deps: HandOffPolicyDeps) {
    this.#d = deps;
    const { transferStore, logger, config, routing, alerts } = deps;
    this.transfers = {
      begin: (transfer) => transferStore.create({ ...transfer, intent: null, summary: transfer.summary === '' ? null : transfer.summary }),
      end: (id, outcome, at) => {
        transferStore
          .complete(id, { outcome, completedAt: at, ...(outcome === 'bridged' ? { bridgedAt: at } : {}) })
          .catch((error: unknown) => logger.error({ err: error }, 'transfer outcome could not be stored'));
      },
    };
    this.emergency = {
      dial: ({ callId }) => {
        const chain = emergencyDial(emergencyTargets(config, routing.config), config.gateways, deps.mode());
        const headers = this.#contextHeaders(callId, 'emergency');
        return { dial: withSipHeaders(chain.dial, headers), fallbackDial: withSipHeaders(chain.fallbackDial, headers) };
      },
      escalated: (call, trigger, ms) => alerts.alert(call.callId, trigger, ms),
    };
    const voice = deps.voice;
    this.warmTransfer = voice && ((transfer) => this.#warmTransfer(voice, transfer));
  }

  /** Turns the agent's hand-off into dial strings from the routing and mode live now, with the call's context. */
  readonly resolveHandOff = (request: HandOffRequest, call: { callId: string; decision: RoutingDecision; toNumber: string }): HandOffDial => {
    const { routing, config, metrics, clock } = this.#d;
    const handOff = handOffDial(request, call, { routing, gateways: config.gateways, mode: this.#d.mode(), at: clock.now() });
    metrics.aiHandOffsTotal.inc({ to: handOff.resolvedAs.split(':')[0] ?? 'unknown' });
    const headers = this.#contextHeaders(call.callId, request.name);
    return {
      ...handOff,
      dial: withSipHeaders(handOff.dial, headers),
      fallbackDial: handOff.fallbackDial === null ? null : withSipHeaders(handOff.fallbackDial, headers),
    };
  };

  /** The call is over: the agent it was bridged to is free for the next warm transfer. */
  callEnded(callId: string): void {
    this.#busyAgents.delete(callId);
  }

  /** The agent's phone (3CX) shows these: which call, why, and where the whole context is. */
  #contextHeaders(callId: string, reason: string): Record<string, string> {
    const { publicBaseUrl } = this.#d.config;
    return {
      'X-Callbridge-Call-Id': callId,
      'X-Callbridge-Reason': reason,
      ...(publicBaseUrl === undefined ? {} : { 'X-Callbridge-Summary-Url': `${publicBaseUrl}/v1/calls/${callId}/context` }),
    };
  }

  async #warmTransfer(voice: VoicePipeline, { callId, fsUuid, request, plan, signal }: Parameters<WarmTransferRunner>[0]): ReturnType<WarmTransferRunner> {
    const connection = this.#d.inbound.current();
    if (connection === undefined) return 'no_answer';
    // Each transfer in flight listens on this one connection for its legs' events.
    connection.setMaxListeners(0);
    const whisper = await voice.tts
      .synthesize({ text: whisperText(request), voice: voice.voiceFor('en-US'), language: 'en-US', sampleRate: voice.sampleRate })
      .then((speech) => speech.path, () => undefined);
    const agents = pickAgents({ agents: plan.agents, skillsNeeded: [], busyExtensions: new Set(this.#busyAgents.values()) });
    const result = await runWarmTransfer({
      connection,
      callerUuid: fsUuid,
      agents,
      gateway: this.#d.config.gateways.threecx,
      ringSeconds: plan.ringSeconds,
      sipHeaders: this.#contextHeaders(callId, request.name),
      ...(whisper === undefined ? {} : { whisperFile: whisper }),
      deadlineMs: agents.length * (plan.ringSeconds + 10) * 1000 + 30_000,
      signal,
    });
    if (result.outcome === 'bridged') this.#busyAgents.set(callId, result.agent.extension);
    return result.outcome;
  }
}
