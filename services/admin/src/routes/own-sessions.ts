/**
 * GET /api/me/sessions (the caller's live sessions, this one marked) and
 * POST /api/me/sessions/end-others (sign out everywhere else); GET /api/session: a reloaded page
 * picks up its live session (who, and the CSRF value, which only a same-origin script can read);
 * GET /api/console: the settings the portal needs (reveal time on screen, the idle timeout).
 */
import { callVault } from '@coffer/bus';
import { deriveCsrfToken } from '@coffer/crypto';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';
import { sessionRead } from './session-read.ts';

export interface ConsoleSettings {
  /** Seconds a revealed value stays in the page before it is removed. */
  readonly revealSeconds: number;
}

const Empty = Type.Object({}, { additionalProperties: false });
/** The vault's idle timeout (policy.ts IDLE_MS): the portal warns a minute or two before it. */
const IDLE_SECONDS = 15 * 60;

export const ownSessionRoutes: FastifyPluginAsyncTypebox<AdminDeps & ConsoleSettings> = async (app, deps) => {
  app.get('/api/console', async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ revealSeconds: deps.revealSeconds, idleSeconds: IDLE_SECONDS }),
  );

  app.get('/api/session', { config: { action: 'whoami' } }, async (req, reply) => {
    const user = await callVault(deps.bus, 'whoami', { v: 1, session: req.session.hash });
    return reply.header('cache-control', 'no-store').send({ user, csrf: deriveCsrfToken(req.session.token) });
  });

  sessionRead(app, deps, '/api/me/sessions', 'me.sessions', 'me.sessions');

  app.post(
    '/api/me/sessions/end-others',
    { schema: { body: Type.Optional(Empty) }, config: { action: 'sessions.end-others', csrf: true } },
    async (req, reply) =>
      reply.send(
        await callVault(deps.bus, 'me.sessions.end-others', {
          v: 1,
          session: req.session.hash,
          origin: originOf(req),
        }),
      ),
  );
};
