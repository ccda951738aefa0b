// The system mode for operators (docs/failover.md): what it is and why, and forcing or clearing it. Behind
// the bearer token; every change is also published as a SYSTEM_MODE_CHANGED event.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { SystemMode } from '../core/routing/types.ts';
import { parseInput } from './validation.ts';

export interface SystemModeApi {
  status(): { mode: SystemMode; detected: SystemMode; override: { mode: SystemMode; by: string; at: string } | null; history: unknown[] };
  /** Forces a mode (null clears the override and detection decides again). */
  override(mode: SystemMode | null, by: string): void;
}

const overrideBody = z.strictObject({
  mode: z.enum(['normal', 'ai-down', '3cx-down']).nullable(),
  /** Who forces it, as people call them (a name, not a secret); the token's name by default. */
  by: z.string().trim().min(1).max(64).regex(/^[\w .@-]+$/, { error: 'letters, digits, spaces and . @ - _ only' }).optional(),
});

export const systemRoutes: FastifyPluginAsync<{ system: SystemModeApi }> = async (app, { system }) => {
  app.get('/system/mode', { config: { permission: 'system:read' } }, async () => system.status());

  app.post('/system/mode', { config: { permission: 'system:write' } }, async (request) => {
    const body = parseInput(overrideBody, request.body ?? {}, { withPaths: true });
    system.override(body.mode, body.by ?? request.principal?.name ?? 'api');
    return system.status();
  });
};
