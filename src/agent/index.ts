// The agent adapter: the AI engine's HTTP client, the built-in scripted agent, and the resilient engine
// the call session talks to. src/app/ wires them (docs/ai-engine-contract.md).
export { CONTRACT_VERSIONS, agentReplySchema, contractJsonSchemas, type ContractVersion } from './contract.ts';
export {
  HttpConversationEngine,
  type HttpConversationEngineOptions,
  type RequestLimits,
  type StreamLimits,
} from './http-engine.ts';
export { ResilientConversationEngine, type ResilientConversationEngineOptions } from './resilient-engine.ts';
export { ScriptedAgent, type ScriptedAgentOptions } from './scripted-agent.ts';
export { loadAgentScript, parseAgentScript, type AgentScript } from './script.ts';
export type { BreakerState } from './circuit-breaker.ts';
export type { AgentLogger } from './logger.ts';
