/**
 * The admin plane's cross-cutting rules, declared per route and applied in one place:
 * - a route whose `config` names an `action` needs a session: one preHandler sets
 *   `request.session` or answers 401; with `csrf: true` it also needs the X-Coffer-CSRF header
 *   (else 403, audited against the session through the vault's `denied`);
 * - one error handler turns the vault's refusals and an unreachable bus into problem details.
 * Roles and MFA are not checked here: the vault applies them (the contract's policy column).
 */
import { type Bus, BusUnavailableError, callVault, VaultRefused, VaultReplyUnauthenticated } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import { MalformedReply } from '@coffer/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { csrfPresent, originOf, presentedSession, type SessionAuth } from './session.ts';
import { sendVaultError } from './vault-errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The action this route performs, for an audited refusal; naming one requires a session. */
    action?: string;
    /** Whether the route changes state and so needs the CSRF header. */
    csrf?: boolean;
  }
  interface FastifyRequest {
    /** The session of a route with an `action` (set by the guard before the handler runs). */
    session: SessionAuth;
  }
}

export function installGuards(app: FastifyInstance, bus: Bus): void {
  app.decorateRequest('session', null as unknown as SessionAuth);
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const { action, csrf } = req.routeOptions.config;
    if (action === undefined) return;
    const session = presentedSession(req);
    if (!session) return sendProblem(reply, { status: 401, type: 'unauthenticated', title: 'Sign in first' });
    if (csrf && !csrfPresent(req, session)) {
      await callVault(bus, 'denied', {
        v: 1,
        session: session.hash,
        action,
        reason: 'missing or wrong X-Coffer-CSRF header',
        origin: originOf(req),
      }).catch(() => {});
      return sendProblem(reply, { status: 403, type: 'csrf', title: 'Missing or wrong X-Coffer-CSRF header' });
    }
    req.session = session;
  });
  app.setErrorHandler(async (err, req, reply) => {
    if (err instanceof MalformedReply || err instanceof VaultReplyUnauthenticated)
      req.log.error({ alert: 'vault-reply', error: err.message }, 'vault reply refused');
    if (
      err instanceof VaultRefused ||
      err instanceof BusUnavailableError ||
      err instanceof MalformedReply ||
      err instanceof VaultReplyUnauthenticated
    ) {
      return sendVaultError(reply, err);
    }
    // Everything else (schema, body size, media type, …) is the parent's problem handler's.
    throw err;
  });
}
