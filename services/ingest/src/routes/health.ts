/** GET /healthz (the process is up) and GET /readyz (bus connected and a verified key in hand). */
import type { FastifyPluginAsync } from 'fastify';
import type { IngestDeps } from './deps.ts';

export const healthRoutes: FastifyPluginAsync<IngestDeps> = async (app, deps) => {
  app.get('/healthz', async () => ({ status: 'live' }));
  app.get('/readyz', async (_req, reply) => {
    const bus = deps.bus.isConnected();
    const key = deps.keys.current();
    const ready = bus && key !== undefined;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', bus, keyId: key?.id ?? null });
  });
};
