/** GET /v1/keys/current — the signed data key bundle, for clients that seal in the browser. */

import { sendProblem } from '@coffer/http';
import type { FastifyPluginAsync } from 'fastify';
import type { IngestDeps } from './deps.ts';

export const currentKeyRoute: FastifyPluginAsync<IngestDeps> = async (app, deps) => {
  app.get('/v1/keys/current', async (_req, reply) => {
    const key = deps.keys.current();
    if (!key)
      return sendProblem(reply, { status: 503, type: 'no-verified-key', title: 'No verified data key is available' });
    return reply.header('cache-control', 'public, max-age=60').send(key.signed);
  });
};
