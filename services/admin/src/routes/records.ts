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
    before: Type.Optional(Type.String({ pattern: '^[0-9a-f-]{36}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  },
  { additionalProperties: false },
);

export const recordsRoute: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get('/api/records', { schema: { querystring: Query } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'records.list', { csrf: false });
    if (!session) return reply;
    const q = req.query as { type?: string; before?: string; limit?: number };
    try {
      const page = await callVault(deps.bus, 'records.list', {
        v: 1,
        session: session.hash,
        ...(q.type ? { type: q.type } : {}),
        ...(q.before ? { before: q.before } : {}),
        limit: q.limit ?? 50,
      });
      return reply.header('cache-control', 'no-store').send(page);
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
