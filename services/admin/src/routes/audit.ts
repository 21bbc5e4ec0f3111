/** GET /api/audit (pages of events) and GET /api/audit/verify (walk the hash chain). */
import { callVault } from '@coffer/bus';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const Query = Type.Object(
  {
    // Query strings are strings: no type coercion anywhere, so parse the numbers here.
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);

export const auditRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get('/api/audit', { schema: { querystring: Query } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'audit.list', { csrf: false });
    if (!session) return reply;
    const q = req.query as { after?: string; limit?: string };
    try {
      const page = await callVault(deps.bus, 'audit.list', {
        v: 1,
        session: session.hash,
        ...(q.after !== undefined ? { after: Number(q.after) } : {}),
        limit: Math.min(Number(q.limit ?? 100), 500),
      });
      return reply.header('cache-control', 'no-store').send(page);
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.get('/api/audit/verify', async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'audit.verify', { csrf: false });
    if (!session) return reply;
    try {
      return reply
        .header('cache-control', 'no-store')
        .send(await callVault(deps.bus, 'audit.verify', { v: 1, session: session.hash }));
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
