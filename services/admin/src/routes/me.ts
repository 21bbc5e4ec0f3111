/**
 * POST /api/me/password {current, next}: the same private key, re-wrapped under the new
 * password's KEK; every other session of the user ends. A wrong current password counts toward
 * the lockout like a failed sign-in.
 */
import { callVault } from '@coffer/bus';
import {
  adminRequestDigest,
  enrollPassword,
  isCryptoError,
  signPasswordProof,
  unlockWithPassword,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { openPasswordWrap, passwordWrap } from '@coffer/keyring';
import { checkPassword } from '@coffer/policy';
import { Password } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { sendWeakPassword } from '../vault-errors.ts';
import type { AdminDeps } from './deps.ts';

const Change = Type.Object({ current: Password, next: Password }, { additionalProperties: false });

export const meRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const config = { action: 'password.change', csrf: true };
  app.post('/api/me/password', { schema: { body: Change }, config }, async (req, reply) => {
    const { session } = req;
    const { current, next } = req.body;
    const origin = originOf(req);
    const me = await callVault(deps.bus, 'whoami', { v: 1, session: session.hash });
    const verdict = checkPassword(next, me.email);
    if (!verdict.ok) {
      return sendWeakPassword(reply, verdict);
    }
    // Counted like a sign-in attempt: a stolen session cannot guess the password without limit.
    const user = await callVault(deps.bus, 'signin.begin', { v: 1, email: me.email, origin });
    if (user.locked) {
      return sendProblem(reply, { status: 423, type: 'locked', title: 'Too many failed attempts; try later' });
    }
    if (!user.found || !user.verifier || !user.wrappedPrivateKey || !user.keyVersion || user.userId !== me.id) {
      return sendProblem(reply, {
        status: 409,
        type: 'conflict',
        title: 'This account cannot change its password now',
      });
    }
    let unlocked: Awaited<ReturnType<typeof unlockWithPassword>>;
    try {
      unlocked = await unlockWithPassword(current, user.verifier, deps.passwordParams);
    } catch (err) {
      if (!isCryptoError(err, 'WrongPassword')) throw err;
      await callVault(deps.bus, 'signin.fail', { v: 1, email: me.email, userId: me.id, origin });
      return sendProblem(reply, { status: 403, type: 'wrong-password', title: 'The current password is wrong' });
    }
    const keyRef = { id: me.id, keyVersion: user.keyVersion };
    const userKey = openPasswordWrap(unlocked.kek, keyRef, user.wrappedPrivateKey);
    unlocked.kek.destroy();
    const fresh = await enrollPassword(next, deps.passwordParams);
    const wrappedPrivateKey = passwordWrap(userKey, fresh.kek, keyRef);
    fresh.kek.destroy();
    userKey.destroy(); // wrapped under the new password; this copy is done
    if (!user.challenge) throw new Error('the vault sent no challenge');
    const request = {
      v: 1 as const,
      session: session.hash,
      challengeId: user.challenge.id,
      verifier: fresh.verifier,
      wrappedPrivateKey,
      origin,
    };
    // The proof covers every field of the request (issue 9 item 2).
    const digest = adminRequestDigest('me.password', request);
    const proof = signPasswordProof(unlocked.authKey, user.challenge, [me.id, 'password-change', session.hash, digest]);
    await callVault(deps.bus, 'me.password', { ...request, proof });
    return reply.code(204).send();
  });
};
