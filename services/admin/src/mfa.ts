/**
 * COFFER_REQUIRE_MFA: viewers and key-admins reveal and export only from a session opened with a
 * TOTP code. Without one they can still sign in, enrol TOTP and browse metadata; reveal and export
 * answer 403 `mfa-required` (audited as a denial) before the vault is asked for anything. The
 * vault, given the same flag, refuses such sessions too.
 */
import { callVault } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminDeps } from './routes/deps.ts';
import { csrfPresent, originOf, presentedSession } from './session.ts';

/** The routes that hand out values, with the action their denial is audited as. */
const GUARDED: ReadonlyMap<string, string> = new Map([
  ['POST /api/records/:id/reveal', 'record.reveal'],
  ['POST /api/exports', 'export'],
]);
const MFA_ROLES: readonly string[] = ['viewer', 'key-admin'];

interface Me {
  readonly role: string;
  /** This session was opened with a TOTP code. */
  readonly mfa: boolean;
  /** The user has TOTP enrolled. */
  readonly totp: boolean;
}

/** A preHandler hook: on a guarded route, refuse a session that needs MFA and has none. */
export function mfaGuard(deps: AdminDeps) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!deps.requireMfa) return;
    const action = GUARDED.get(`${req.method} ${req.routeOptions.url ?? ''}`);
    if (!action) return;
    const session = presentedSession(req);
    // No session or no CSRF header: the route answers that itself, as it always does.
    if (!session || !csrfPresent(req, session)) return;
    let me: Me;
    try {
      me = await callVault<Me>(deps.bus, 'whoami', { v: 1, session: session.hash });
    } catch {
      // An expired session or an unreachable vault: the route answers that itself too.
      return;
    }
    if (!MFA_ROLES.includes(me.role) || me.mfa) return;
    await callVault(deps.bus, 'denied', {
      v: 1,
      session: session.hash,
      action,
      reason: 'mfa-required',
      origin: originOf(req),
    }).catch(() => {});
    return sendProblem(reply, {
      status: 403,
      type: 'mfa-required',
      title: 'Sign in with a TOTP code first',
      detail: me.totp
        ? 'this session was opened without a TOTP code: sign in again with one'
        : 'enrol TOTP (POST /api/me/totp), then sign in again with a code',
    });
  };
}
