/** GET /api/records — metadata only (id, type, hint, key id, submitted at), newest first. */
import { callVault } from '@coffer/bus';
import { RecordTypeSchema, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { LIMIT_DIGITS, pageLimit } from '../strict-input.ts';
import type { AdminDeps } from './deps.ts';

const Query = Type.Object(
  {
    type: Type.Optional(RecordTypeSchema),
    before: Type.Optional(Uuid),
    // Query strings are strings: no type coercion anywhere, so parse the number here.
    limit: Type.Optional(Type.String({ pattern: LIMIT_DIGITS })),
  },
  { additionalProperties: false },
);

export const recordsRoute: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get(
    '/api/records',
    { schema: { querystring: Query }, config: { action: 'records.list' } },
    async (req, reply) => {
      const { type, before } = req.query;
      const limit = pageLimit(reply, req.query.limit, 50);
      if (typeof limit !== 'number') return limit;
      const page = await callVault(deps.bus, 'records.list', {
        v: 1,
        session: req.session.hash,
        ...(type ? { type } : {}),
        ...(before ? { before } : {}),
        limit,
      });
      return reply.header('cache-control', 'no-store').send(page);
    },
  );
};
