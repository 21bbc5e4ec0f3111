/** GET /api/records — metadata only (id, type, hint, key id, submitted at), newest first. */
import { callVault } from '@coffer/bus';
import { RECORD_TYPES } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const Query = Type.Object(
  {
    type: Type.Optional(Type.Union(RECORD_TYPES.map((t) => Type.Literal(t)))),
    before: Type.Optional(Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' })),
    // Query strings are strings: no type coercion anywhere, so parse the number here.
    limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,2}$' })),
  },
  { additionalProperties: false },
);

export const recordsRoute: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get('/api/records', { schema: { querystring: Query } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'records.list', { csrf: false });
    if (!session) return reply;
    const q = req.query as { type?: string; before?: string; limit?: string };
    try {
      const page = await callVault(deps.bus, 'records.list', {
        v: 1,
        session: session.hash,
        ...(q.type ? { type: q.type } : {}),
        ...(q.before ? { before: q.before } : {}),
        limit: Math.min(Number(q.limit ?? 50), 500),
      });
      return reply.header('cache-control', 'no-store').send(page);
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
