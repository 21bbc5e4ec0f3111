/**
 * GET /api/me/sessions (the caller's live sessions, this one marked) and
 * POST /api/me/sessions/end-others (sign out everywhere else); GET /api/session: a reloaded page
 * picks up its live session (who, and the CSRF value, which only a same-origin script can read);
 * GET /api/console: the settings the portal needs (reveal time on screen, the idle timeout).
 */
import { callVault } from '@coffer/bus';
import { deriveCsrfToken } from '@coffer/crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { originOf } from '../session.ts';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

export interface ConsoleSettings {
  /** Seconds a revealed value stays in the page before it is removed. */
  readonly revealSeconds: number;
}

const Empty = Type.Object({}, { additionalProperties: false });
/** The vault's idle timeout (sessions.ts IDLE_MS): the portal warns a minute or two before it. */
const IDLE_SECONDS = 15 * 60;

export const ownSessionRoutes: FastifyPluginAsync<AdminDeps & ConsoleSettings> = async (app, deps) => {
  app.get('/api/console', async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ revealSeconds: deps.revealSeconds, idleSeconds: IDLE_SECONDS }),
  );

  app.get('/api/session', async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'whoami', { csrf: false });
    if (!session) return reply;
    try {
      const user = await callVault(deps.bus, 'whoami', { v: 1, session: session.hash });
      return reply.header('cache-control', 'no-store').send({ user, csrf: deriveCsrfToken(session.token) });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.get('/api/me/sessions', async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'me.sessions', { csrf: false });
    if (!session) return reply;
    try {
      return reply
        .header('cache-control', 'no-store')
        .send(await callVault(deps.bus, 'me.sessions', { v: 1, session: session.hash }));
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post('/api/me/sessions/end-others', { schema: { body: Type.Optional(Empty) } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'sessions.end-others', { csrf: true });
    if (!session) return reply;
    try {
      return reply.send(
        await callVault(deps.bus, 'me.sessions.end-others', { v: 1, session: session.hash, origin: originOf(req) }),
      );
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
