import type { Bus } from '@coffer/bus';
import { callVault } from '@coffer/bus';
import type { PasswordParams, PublicKey } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfPresent, originOf, presentedSession, type SessionAuth } from '../session.ts';

/** What the admin routes need, passed as plugin options rather than globals. */
export interface AdminDeps {
  readonly bus: Bus;
  readonly now: () => Date;
  /** Secure cookies; off only for plain-HTTP dev mode on 127.0.0.1. */
  readonly secureCookie: boolean;
  /** A verifier for a password nobody knows: unknown emails cost one argon2id call too. */
  readonly dummyVerifier: string;
  readonly signinPerMinute: number;
  /** Today's argon2id parameters: a stored hash made with less is redone at sign-in. */
  readonly passwordParams: PasswordParams;
  /** The org public key: certificates of key recipients are checked against it. */
  readonly trustRoot: PublicKey<'ed25519'>;
  /** Cryptoperiod of a pre-generated data key. */
  readonly dataKeyDays: number;
}

/**
 * The session of a request that needs one, or a problem sent: 401 without a session, 403 (and
 * an audited denial) when a state-changing request lacks the CSRF header.
 */
export async function requireSession(
  deps: AdminDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  action: string,
  options: { csrf: boolean },
): Promise<SessionAuth | undefined> {
  const session = presentedSession(req);
  if (!session) {
    sendProblem(reply, { status: 401, type: 'unauthenticated', title: 'Sign in first' });
    return undefined;
  }
  if (options.csrf && !csrfPresent(req, session)) {
    await callVault(deps.bus, 'denied', {
      v: 1,
      session: session.hash,
      action,
      reason: 'missing or wrong X-Coffer-CSRF header',
      origin: originOf(req),
    }).catch(() => {});
    sendProblem(reply, { status: 403, type: 'csrf', title: 'Missing or wrong X-Coffer-CSRF header' });
    return undefined;
  }
  return session;
}
