/**
 * Sign-in with a passkey alone (issue 16 item 1): POST /api/session/passkey/options, then
 * POST /api/session/passkey with the assertion and the credential's PRF output.
 *
 * The session token is made at the first step and held only in a short-lived HttpOnly cookie;
 * the WebAuthn challenge is SHA-256 of the vault's nonce and that token's hash, so the
 * authenticator's signature covers the very session it opens. The PRF output derives the KEK of
 * the user key's passkey wrap; the key is re-wrapped under the session key as at password sign-in.
 */
import { callVault } from '@coffer/bus';
import {
  createSessionToken,
  deriveCsrfToken,
  isCryptoError,
  passkeySigninChallenge,
  sessionTokenHash,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { openPasskeyWrap } from '@coffer/keyring';
import { Id, newRecordId } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf, sessionAuthOf, setSessionCookie } from '../session.ts';
import { wrapForSession } from '../unwrap.ts';
import type { AdminDeps } from './deps.ts';
import { withoutExtensionResults } from './passkey-register.ts';
import { PrfOutput, prfBytes, WebAuthnResponse } from './webauthn-input.ts';

/** Holds the token of the session a passkey sign-in will open, for the few minutes it may take. */
const PENDING = '__Host-coffer-passkey';
const PENDING_SECONDS = 300;

const Complete = Type.Object(
  { challengeId: Id, assertion: WebAuthnResponse, prf: PrfOutput },
  { additionalProperties: false },
);

export const passkeySigninRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const rateLimit = { max: deps.signinPerMinute, timeWindow: 60_000 };
  const unauthorized = { status: 401, type: 'signin-failed', title: 'This passkey does not sign in here' } as const;

  app.post('/api/session/passkey/options', { config: { rateLimit } }, async (_req, reply) => {
    const { challenge, rpId } = await callVault(deps.bus, 'passkey.signin-options', { v: 1 });
    const token = createSessionToken();
    reply.setCookie(PENDING, token, {
      httpOnly: true,
      secure: deps.secureCookie,
      sameSite: 'strict',
      path: '/',
      maxAge: PENDING_SECONDS,
    });
    return reply.header('cache-control', 'no-store').send({
      challengeId: challenge.id,
      options: {
        challenge: passkeySigninChallenge(challenge.nonce, sessionTokenHash(token)),
        rpId,
        userVerification: 'required',
        timeout: 120_000,
        allowCredentials: [],
      },
    });
  });

  app.post('/api/session/passkey', { schema: { body: Complete }, config: { rateLimit } }, async (req, reply) => {
    // A cookie this plane did not set (not a token) is the same as none: never a 5xx.
    const pending = sessionAuthOf(req.cookies[PENDING]);
    if (!pending)
      return sendProblem(reply, { status: 400, type: 'passkey-not-started', title: 'Ask for passkey options first' });
    reply.clearCookie(PENDING, { httpOnly: true, secure: deps.secureCookie, sameSite: 'strict', path: '/' });
    const { assertion, challengeId } = req.body;
    const credentialId = assertion.id;
    const origin = originOf(req);
    const user = await callVault(deps.bus, 'passkey.signin-begin', { v: 1, credentialId });
    if (!user.found || !user.userId || !user.wrappedKey || !user.keyVersion) return sendProblem(reply, unauthorized);
    let userKey: ReturnType<typeof openPasskeyWrap>;
    try {
      const keyRef = { id: user.userId, keyVersion: user.keyVersion };
      userKey = openPasskeyWrap(prfBytes(req.body.prf), credentialId, keyRef, user.wrappedKey);
    } catch (err) {
      if (!isCryptoError(err)) throw err;
      // Not this credential's PRF output: nothing opens. The vault audits the failed attempt.
      await callVault(deps.bus, 'signin.fail', { v: 1, email: user.email ?? 'unknown', userId: user.userId, origin });
      return sendProblem(reply, unauthorized);
    }
    const sessionId = newRecordId();
    const wrappedKey = wrapForSession(userKey, pending.token, sessionId, user.userId);
    userKey.destroy();
    await callVault(deps.bus, 'passkey.signin-complete', {
      v: 1,
      credentialId,
      challengeId,
      assertion: JSON.stringify(withoutExtensionResults(assertion)),
      session: pending.hash,
      sessionId,
      wrappedKey,
      origin,
    });
    setSessionCookie(reply, pending.token, deps.secureCookie);
    return reply
      .header('cache-control', 'no-store')
      .send({ user: { id: user.userId, email: user.email, role: user.role }, csrf: deriveCsrfToken(pending.token) });
  });
};
