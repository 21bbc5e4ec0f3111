/**
 * POST /api/session: sign in.
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
  type PrivateKey,
  type RecipientKind,
  sessionTokenHash,
  signPasswordProof,
  unlockWithPassword,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { openPasswordWrap, passwordWrap } from '@coffer/keyring';
import { type AdminResult, Email, newRecordId, TotpCode } from '@coffer/protocol';
import { type Static, Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { originOf, setSessionCookie } from '../session.ts';
import { acceptedStep, openTotpSecret } from '../totp.ts';
import { wrapForSession } from '../unwrap.ts';
import type { AdminDeps, AdminRoute } from './deps.ts';

const SignIn = Type.Object(
  {
    email: Email,
    // Any password a person may have set is accepted here; the policy applies when one is set.
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    totp: Type.Optional(TotpCode),
  },
  { additionalProperties: false },
);

const unauthorized = { status: 401, type: 'signin-failed', title: 'Wrong email or password' } as const;

export const signinRoute: AdminRoute = (app, deps) => {
  app.post(
    '/api/session',
    { schema: { body: SignIn }, config: { rateLimit: { max: deps.signinPerMinute, timeWindow: 60_000 } } },
    async (req, reply) => signIn(deps, req, reply, req.body),
  );
};

type Unlocked = Awaited<ReturnType<typeof unlockWithPassword>>;

/** Step 1: the password, checked with the same work whether or not the email has an account. */
async function signIn(deps: AdminDeps, req: FastifyRequest, reply: FastifyReply, body: Static<typeof SignIn>) {
  const { email, password } = body;
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
  let unlocked: Unlocked;
  try {
    unlocked = await unlockWithPassword(password, user.verifier, deps.passwordParams);
  } catch (err) {
    if (!isCryptoError(err, 'WrongPassword')) throw err;
    await callVault(deps.bus, 'signin.fail', { v: 1, email, userId: user.userId, origin });
    return sendProblem(reply, unauthorized);
  }
  const keyRef = { id: user.userId, keyVersion: user.keyVersion };
  const userKey = openPasswordWrap(unlocked.kek, keyRef, user.wrappedPrivateKey);
  unlocked.kek.destroy();
  try {
    return await openSession(deps, reply, { ...body, origin, user, keyRef, unlocked, userKey });
  } finally {
    userKey.destroy(); // the session holds its own wrap of it; this copy is done
  }
}

interface Opening extends Static<typeof SignIn> {
  readonly origin: string;
  readonly user: AdminResult<'signin.begin'>;
  readonly keyRef: { readonly id: string; readonly keyVersion: number };
  readonly unlocked: Unlocked;
  readonly userKey: PrivateKey<RecipientKind>;
}

/** Step 2, the password right: the TOTP code if one is enrolled, then the session. */
async function openSession(deps: AdminDeps, reply: FastifyReply, o: Opening) {
  const { user, keyRef, origin } = o;
  const userId = keyRef.id;
  const totpFailed = async () => {
    await callVault(deps.bus, 'signin.fail', { v: 1, email: o.email, userId, origin, reason: 'totp' });
    return sendProblem(reply, unauthorized);
  };
  let totpStep: number | undefined;
  if (user.totp) {
    totpStep = acceptedTotpStep(deps, o.userKey, userId, user.totp, o.totp);
    // The password was right: say a code is needed (only someone who knows it learns this).
    if (o.totp === undefined) {
      await callVault(deps.bus, 'signin.fail', { v: 1, email: o.email, userId, origin, reason: 'totp' });
      return sendProblem(reply, {
        status: 401,
        type: 'totp-required',
        title: 'Enter the code from your authenticator',
      });
    }
    if (totpStep === undefined) return totpFailed();
  }
  let rehash: { verifier: string; wrappedPrivateKey: string } | undefined;
  if (o.unlocked.stale) {
    // The parameters were raised since this password was set: enrol it again now.
    const fresh = await enrollPassword(o.password, deps.passwordParams);
    rehash = { verifier: fresh.verifier, wrappedPrivateKey: passwordWrap(o.userKey, fresh.kek, keyRef) };
    fresh.kek.destroy();
  }
  const token = createSessionToken();
  const sessionId = newRecordId();
  const sessionHash = sessionTokenHash(token);
  if (!user.challenge) throw new Error('the vault sent no challenge');
  try {
    const request = {
      v: 1 as const,
      userId,
      challengeId: user.challenge.id,
      session: sessionHash,
      sessionId,
      wrappedKey: wrapForSession(o.userKey, token, sessionId, userId),
      origin,
      ...(totpStep === undefined ? {} : { totpStep }),
      ...(rehash ? { rehash } : {}),
    };
    // Bound to this challenge, this session and every field of this request (issue 9 item 2):
    // seen on the bus, it cannot be used again, nor a field added, dropped or changed.
    const digest = adminRequestDigest('signin.complete', request);
    const proof = signPasswordProof(o.unlocked.authKey, user.challenge, [userId, sessionHash, digest]);
    await callVault(deps.bus, 'signin.complete', { ...request, proof });
  } catch (err) {
    // The vault refuses a step it accepted before: the code was used already.
    if (err instanceof VaultRefused && err.code === 'totp-rejected') return totpFailed();
    throw err;
  }
  setSessionCookie(reply, token, deps.secureCookie);
  return reply
    .header('cache-control', 'no-store')
    .send({ user: { id: userId, email: user.email, role: user.role }, csrf: deriveCsrfToken(token) });
}

/** The step a code was accepted at, or undefined (no code, a wrong one, or a secret that is not this user's). */
function acceptedTotpStep(
  deps: AdminDeps,
  userKey: PrivateKey<RecipientKind>,
  userId: string,
  sealed: string,
  code: string | undefined,
): number | undefined {
  try {
    return acceptedStep(openTotpSecret(userKey, userId, sealed), code, deps.now());
  } catch (err) {
    // A sealed secret that is not this user's (moved, tampered) opens nothing and signs in no one.
    if (!isCryptoError(err)) throw err;
    return undefined;
  }
}
