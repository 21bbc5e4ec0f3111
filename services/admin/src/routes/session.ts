/**
 * POST /api/session (sign in, signin.ts), DELETE /api/session (sign out), GET /api/me.
 */
import { callVault } from '@coffer/bus';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { clearSessionCookie, originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';
import { sessionRead } from './session-read.ts';
import { signinRoute } from './signin.ts';

export const sessionRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  signinRoute(app, deps);

  app.delete('/api/session', { config: { action: 'signout', csrf: true } }, async (req, reply) => {
    await callVault(deps.bus, 'signout', { v: 1, session: req.session.hash, origin: originOf(req) });
    clearSessionCookie(reply, deps.secureCookie);
    return reply.code(204).send();
  });

  sessionRead(app, deps, '/api/me', 'whoami', 'whoami');
};
