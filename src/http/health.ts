// Liveness: answers as long as the event loop does. Deliberately checks nothing else, so an orchestrator
// does not restart a controller (dropping its live calls) just because the database blinked.
import type { FastifyPluginAsync } from 'fastify';

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/health', async () => ({ status: 'ok' }));
};
