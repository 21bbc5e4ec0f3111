/**
 * POST /api/session (sign in), DELETE /api/session (sign out), GET /api/me.
 *
 * Sign-in verifies the password (one argon2id call, which also yields the KEK), unwraps the
 * user's key, re-wraps it under a key derived from a fresh session token, and hands the vault only
 * the token's hash and that wrapped copy. Unknown email and wrong password give the same 401
 * after the same argon2id work. A user with TOTP enrolled also needs a code: its secret is opened
 * with the key just unwrapped, and a missing, wrong or reused code is that same 401.
 */
import { callVault, VaultRefused } from '@coffer/bus';
import {
  adminRequestDigest,
  createSessionToken,
  deriveCsrfToken,
  enrollPassword,
  isCryptoError,
  sessionTokenHash,
  signPasswordProof,
  unlockWithPassword,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { openPasswordWrap, passwordWrap } from '@coffer/keyring';
import { Email, newRecordId, TotpCode } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { clearSessionCookie, originOf, setSessionCookie } from '../session.ts';
import { acceptedStep, openTotpSecret } from '../totp.ts';
import { wrapForSession } from '../unwrap.ts';
import type { AdminDeps } from './deps.ts';

const SignIn = Type.Object(
  {
    email: Email,
    // Any password a person may have set is accepted here; the policy applies when one is set.
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    totp: Type.Optional(TotpCode),
  },
  { additionalProperties: false },
);

export const sessionRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const unauthorized = { status: 401, type: 'signin-failed', title: 'Wrong email or password' } as const;

  app.post(
    '/api/session',
    { schema: { body: SignIn }, config: { rateLimit: { max: deps.signinPerMinute, timeWindow: 60_000 } } },
    async (req, reply) => {
      const { email, password, totp } = req.body;
      const origin = originOf(req);
      const user = await callVault(deps.bus, 'signin.begin', { v: 1, email, origin });
      if (user.locked) {
        // The wait is the lock's own end: it says nothing about whether the email exists.
        const wait = Math.max(1, Math.ceil((Date.parse(user.locked) - deps.now().getTime()) / 1000));
        reply.header('retry-after', String(wait));
        return sendProblem(reply, {
          status: 423,
          type: 'locked',
          title: 'Too many failed sign-ins; try later',
          detail: `Try again in ${Math.ceil(wait / 60)} minutes`,
          retryAfter: wait,
        });
      }
      if (!user.found || !user.userId || !user.verifier || !user.wrappedPrivateKey || !user.keyVersion) {
        // Same argon2id work as a real account, so timing does not tell which emails exist.
        await unlockWithPassword(password, deps.dummyVerifier, deps.passwordParams).catch(() => {});
        await callVault(deps.bus, 'signin.fail', { v: 1, email, userId: null, origin });
        return sendProblem(reply, unauthorized);
      }
      let unlocked: Awaited<ReturnType<typeof unlockWithPassword>>;
      try {
        unlocked = await unlockWithPassword(password, user.verifier, deps.passwordParams);
      } catch (err) {
        if (!isCryptoError(err, 'WrongPassword')) throw err;
        await callVault(deps.bus, 'signin.fail', { v: 1, email, userId: user.userId, origin });
        return sendProblem(reply, unauthorized);
      }
      const userId = user.userId;
      const keyRef = { id: userId, keyVersion: user.keyVersion };
      const userKey = openPasswordWrap(unlocked.kek, keyRef, user.wrappedPrivateKey);
      unlocked.kek.destroy();
      try {
        const totpFailed = async () => {
          await callVault(deps.bus, 'signin.fail', { v: 1, email, userId, origin, reason: 'totp' });
          return sendProblem(reply, unauthorized);
        };
        let totpStep: number | undefined;
        if (user.totp) {
          try {
            totpStep = acceptedStep(openTotpSecret(userKey, user.userId, user.totp), totp, deps.now());
          } catch (err) {
            // A sealed secret that is not this user's (moved, tampered) opens nothing and signs in no one.
            if (!isCryptoError(err)) throw err;
          }
          // The password was right: say a code is needed (only someone who knows it learns this).
          if (totp === undefined) {
            await callVault(deps.bus, 'signin.fail', { v: 1, email, userId, origin, reason: 'totp' });
            return sendProblem(reply, {
              status: 401,
              type: 'totp-required',
              title: 'Enter the code from your authenticator',
            });
          }
          if (totpStep === undefined) return totpFailed();
        }
        let rehash: { verifier: string; wrappedPrivateKey: string } | undefined;
        if (unlocked.stale) {
          // The parameters were raised since this password was set: enrol it again now.
          const fresh = await enrollPassword(password, deps.passwordParams);
          rehash = { verifier: fresh.verifier, wrappedPrivateKey: passwordWrap(userKey, fresh.kek, keyRef) };
          fresh.kek.destroy();
        }
        const token = createSessionToken();
        const sessionId = newRecordId();
        const wrappedKey = wrapForSession(userKey, token, sessionId, userId);
        const sessionHash = sessionTokenHash(token);
        if (!user.challenge) throw new Error('the vault sent no challenge');
        try {
          const request = {
            v: 1 as const,
            userId: user.userId,
            challengeId: user.challenge.id,
            session: sessionHash,
            sessionId,
            wrappedKey,
            origin,
            ...(totpStep === undefined ? {} : { totpStep }),
            ...(rehash ? { rehash } : {}),
          };
          // Bound to this challenge, this session and every field of this request (issue 9 item 2):
          // seen on the bus, it cannot be used again, nor a field added, dropped or changed.
          const digest = adminRequestDigest('signin.complete', request);
          const proof = signPasswordProof(unlocked.authKey, user.challenge, [user.userId, sessionHash, digest]);
          await callVault(deps.bus, 'signin.complete', { ...request, proof });
        } catch (err) {
          // The vault refuses a step it accepted before: the code was used already.
          if (err instanceof VaultRefused && err.code === 'totp-rejected') return totpFailed();
          throw err;
        }
        setSessionCookie(reply, token, deps.secureCookie);
        return reply
          .header('cache-control', 'no-store')
          .send({ user: { id: user.userId, email: user.email, role: user.role }, csrf: deriveCsrfToken(token) });
      } finally {
        userKey.destroy(); // the session holds its own wrap of it; this copy is done
      }
    },
  );

  app.delete('/api/session', { config: { action: 'signout', csrf: true } }, async (req, reply) => {
    await callVault(deps.bus, 'signout', { v: 1, session: req.session.hash, origin: originOf(req) });
    clearSessionCookie(reply, deps.secureCookie);
    return reply.code(204).send();
  });

  app.get('/api/me', { config: { action: 'whoami' } }, async (req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send(await callVault(deps.bus, 'whoami', { v: 1, session: req.session.hash })),
  );
};
