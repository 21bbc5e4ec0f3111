/**
 * GET /api/records/search (type, from, to, before, limit: newest first) and GET /api/audit/events
 * (newest first; before/after page both ways; actor, action, target, outcome, from, to).
 */
import { callVault } from '@coffer/bus';
import { RECORD_TYPES } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$' });
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
// Query strings are strings: no type coercion anywhere, so numbers are parsed here.
const Limit = Type.String({ pattern: '^[1-9][0-9]{0,2}$' });
const Seq = Type.String({ pattern: '^[0-9]{1,15}$' });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '^[^\\u0000]*$' });

const RecordsQuery = Type.Object(
  {
    type: Type.Optional(Type.Union(RECORD_TYPES.map((t) => Type.Literal(t)))),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    before: Type.Optional(Uuid),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
const AuditQuery = Type.Object(
  {
    before: Type.Optional(Seq),
    after: Type.Optional(Seq),
    actor: Type.Optional(Text(254)),
    action: Type.Optional(Text(64)),
    target: Type.Optional(Text(128)),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);

const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export const searchRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get('/api/records/search', { schema: { querystring: RecordsQuery } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'records.list', { csrf: false });
    if (!session) return reply;
    const { limit, ...q } = req.query as Record<string, string | undefined>;
    try {
      const page = await callVault(deps.bus, 'records.search', {
        v: 1,
        session: session.hash,
        ...defined(q),
        limit: Math.min(Number(limit ?? 50), 500),
      });
      return reply.header('cache-control', 'no-store').send(page);
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.get('/api/audit/events', { schema: { querystring: AuditQuery } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'audit.list', { csrf: false });
    if (!session) return reply;
    const { limit, before, after, ...q } = req.query as Record<string, string | undefined>;
    if (before !== undefined && after !== undefined) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send({ type: 'bad-request', title: 'Give before or after, not both', status: 400 });
    }
    try {
      const page = await callVault(deps.bus, 'audit.search', {
        v: 1,
        session: session.hash,
        ...defined(q),
        ...(before !== undefined ? { before: Number(before) } : {}),
        ...(after !== undefined ? { after: Number(after) } : {}),
        limit: Math.min(Number(limit ?? 50), 500),
      });
      return reply.header('cache-control', 'no-store').send(page);
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
