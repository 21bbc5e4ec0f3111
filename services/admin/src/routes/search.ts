/**
 * GET /api/records/search (type, from, to, before, limit: newest first) and GET /api/audit/events
 * (newest first; before/after page both ways; actor, action, target, outcome, from, to).
 */
import { callVault } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import { AdminContract, Instant, RecordTypeSchema, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { LIMIT_DIGITS, pageLimit } from '../strict-input.ts';
import type { AdminDeps } from './deps.ts';

// Query strings are strings: no type coercion anywhere, so numbers are parsed here.
const Limit = Type.String({ pattern: LIMIT_DIGITS });
const Seq = Type.String({ pattern: '^[0-9]{1,15}$' });

const RecordsQuery = Type.Object(
  {
    type: Type.Optional(RecordTypeSchema),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    before: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
// The filters are the contract's own fields; only the numbers differ (strings in a query).
const { actor, action, target, outcome, from, to } = AdminContract['audit.search'].request.properties;
const AuditQuery = Type.Object(
  {
    before: Type.Optional(Seq),
    after: Type.Optional(Seq),
    actor,
    action,
    target,
    outcome,
    from,
    to,
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);

export const searchRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get(
    '/api/records/search',
    { schema: { querystring: RecordsQuery }, config: { action: 'records.list' } },
    async (req, reply) => {
      const { type, from, to, before } = req.query;
      const limit = pageLimit(reply, req.query.limit, 50);
      if (typeof limit !== 'number') return limit;
      const page = await callVault(deps.bus, 'records.search', {
        v: 1,
        session: req.session.hash,
        ...(type !== undefined ? { type } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(before !== undefined ? { before } : {}),
        limit,
      });
      return reply.header('cache-control', 'no-store').send(page);
    },
  );

  app.get(
    '/api/audit/events',
    { schema: { querystring: AuditQuery }, config: { action: 'audit.list' } },
    async (req, reply) => {
      const { before, after, actor, action, target, outcome, from, to } = req.query;
      const limit = pageLimit(reply, req.query.limit, 50);
      if (typeof limit !== 'number') return limit;
      if (before !== undefined && after !== undefined) {
        return sendProblem(reply, { status: 400, type: 'bad-request', title: 'Give before or after, not both' });
      }
      const page = await callVault(deps.bus, 'audit.search', {
        v: 1,
        session: req.session.hash,
        ...(actor !== undefined ? { actor } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(target !== undefined ? { target } : {}),
        ...(outcome !== undefined ? { outcome } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(before !== undefined ? { before: Number(before) } : {}),
        ...(after !== undefined ? { after: Number(after) } : {}),
        limit,
      });
      return reply.header('cache-control', 'no-store').send(page);
    },
  );
};
