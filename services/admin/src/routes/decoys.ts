/**
 * POST /api/decoys — a key-admin plants decoy records (issue 16, item 3). The vault makes, seals
 * and tags them itself, so neither this request nor its answer names a record or a value: the
 * answer says how many were planted, and nothing the portal shows later marks a decoy.
 */
import { callVault } from '@coffer/bus';
import { RecordTypeSchema } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';

const Body = Type.Object(
  {
    type: RecordTypeSchema,
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** How far back decoys are dated, at most (within the current data key's window). Default 30. */
    spreadDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  },
  { additionalProperties: false },
);

export const decoyRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const options = { schema: { body: Body }, config: { action: 'decoy.plant', csrf: true } };
  app.post('/api/decoys', options, async (req, reply) => {
    const planted = await callVault(deps.bus, 'decoys.plant', {
      v: 1,
      session: req.session.hash,
      type: req.body.type,
      count: req.body.count ?? 1,
      spreadDays: req.body.spreadDays ?? 30,
      origin: originOf(req),
    });
    return reply.code(201).header('cache-control', 'no-store').send(planted);
  });
};
