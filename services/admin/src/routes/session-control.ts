/**
 * Session control (issue 16 item 2): GET /api/sessions lists every live session for key-admins;
 * DELETE /api/sessions/:id ends any of them (key-admins) and DELETE /api/me/sessions/:id ends one
 * of the caller's own other sessions. The vault deletes the session's wrapped key in the same
 * transaction as it audits the ending; the ended cookie then gets 401.
 */
import { callVault } from '@coffer/bus';
import { Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';

const Params = Type.Object({ id: Uuid });

export const sessionControlRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get('/api/sessions', { config: { action: 'sessions.list' } }, async (req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send(await callVault(deps.bus, 'sessions.list', { v: 1, session: req.session.hash })),
  );

  app.delete(
    '/api/sessions/:id',
    { schema: { params: Params }, config: { action: 'session.end', csrf: true } },
    async (req, reply) =>
      reply.send(
        await callVault(deps.bus, 'sessions.end', {
          v: 1,
          session: req.session.hash,
          sessionId: req.params.id,
          origin: originOf(req),
        }),
      ),
  );

  app.delete(
    '/api/me/sessions/:id',
    { schema: { params: Params }, config: { action: 'session.end', csrf: true } },
    async (req, reply) =>
      reply.send(
        await callVault(deps.bus, 'me.sessions.end', {
          v: 1,
          session: req.session.hash,
          sessionId: req.params.id,
          origin: originOf(req),
        }),
      ),
  );
};
