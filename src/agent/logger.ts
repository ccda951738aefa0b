// The little of a logger the agent needs; a pino Logger fits it. Fields passed here never include the
// caller's number or what the caller said (transcripts are PHI): only call ids, operations, codes, timings.
export interface AgentLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: AgentLogger = {
  info: () => undefined,
  warn: () => undefined,
};
