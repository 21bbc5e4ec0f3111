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
import { sessionRead } from './session-read.ts';

const Params = Type.Object({ id: Uuid });

export const sessionControlRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  sessionRead(app, deps, '/api/sessions', 'sessions.list', 'sessions.list');

  // Any session (key-admins), or one of the caller's own: the same request, the vault checks whose.
  for (const [url, op] of [
    ['/api/sessions/:id', 'sessions.end'],
    ['/api/me/sessions/:id', 'me.sessions.end'],
  ] as const) {
    app.delete(url, { schema: { params: Params }, config: { action: 'session.end', csrf: true } }, async (req, reply) =>
      reply.send(
        await callVault(deps.bus, op, {
          v: 1,
          session: req.session.hash,
          sessionId: req.params.id,
          origin: originOf(req),
        }),
      ),
    );
  }
};
