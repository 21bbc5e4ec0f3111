/** GET /api/audit (pages of events) and GET /api/audit/verify (walk the hash chain). */
import { callVault } from '@coffer/bus';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { LIMIT_DIGITS, pageLimit } from '../strict-input.ts';
import type { AdminDeps } from './deps.ts';
import { sessionRead } from './session-read.ts';

const Query = Type.Object(
  {
    // Query strings are strings: no type coercion anywhere, so parse the numbers here.
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Type.String({ pattern: LIMIT_DIGITS })),
  },
  { additionalProperties: false },
);

export const auditRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get('/api/audit', { schema: { querystring: Query }, config: { action: 'audit.list' } }, async (req, reply) => {
    const limit = pageLimit(reply, req.query.limit, 100);
    if (typeof limit !== 'number') return limit;
    const page = await callVault(deps.bus, 'audit.list', {
      v: 1,
      session: req.session.hash,
      ...(req.query.after !== undefined ? { after: Number(req.query.after) } : {}),
      limit,
    });
    return reply.header('cache-control', 'no-store').send(page);
  });

  sessionRead(app, deps, '/api/audit/verify', 'audit.verify', 'audit.verify');
};
