/**
 * POST /api/me/passkeys: register a passkey (issue 16 item 1).
 *
 * Registering takes the current password: it unwraps the user key here, the PRF output of the new
 * credential derives a second KEK, and the key wrapped under it goes to the vault with a password
 * proof over the whole request. The vault checks the WebAuthn registration and an assertion by
 * the new credential; the PRF output itself is never stored or sent on.
 */
import { callVault } from '@coffer/bus';
import { adminRequestDigest, isCryptoError, signPasswordProof, unlockWithPassword } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { openPasswordWrap, passkeyWrap } from '@coffer/keyring';
import { FREE_TEXT_PATTERN, Id, Password } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import type { AdminRoute } from './deps.ts';
import { PrfOutput, prfBytes, WebAuthnResponse } from './webauthn-input.ts';

const Register = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: FREE_TEXT_PATTERN }),
    password: Password,
    creationChallengeId: Id,
    assertionChallengeId: Id,
    registration: WebAuthnResponse,
    assertion: WebAuthnResponse,
    /** The PRF output of the new credential (base64url), or null when the authenticator has none. */
    prf: Type.Union([PrfOutput, Type.Null()]),
  },
  { additionalProperties: false },
);

export const registerPasskeyRoute: AdminRoute = (app, deps) => {
  app.post(
    '/api/me/passkeys',
    { schema: { body: Register }, config: { action: 'passkey.add', csrf: true } },
    async (req, reply) => {
      const { session } = req;
      const body = req.body;
      const origin = originOf(req);
      const me = await callVault(deps.bus, 'whoami', { v: 1, session: session.hash });
      // Counted like a sign-in attempt: a stolen session cannot guess the password without limit.
      const user = await callVault(deps.bus, 'signin.begin', { v: 1, email: me.email, origin });
      if (user.locked)
        return sendProblem(reply, { status: 423, type: 'locked', title: 'Too many failed attempts; try later' });
      if (
        !user.found ||
        !user.verifier ||
        !user.wrappedPrivateKey ||
        !user.keyVersion ||
        user.userId !== me.id ||
        !user.challenge
      ) {
        return sendProblem(reply, { status: 409, type: 'conflict', title: 'This account cannot add a passkey now' });
      }
      let unlocked: Awaited<ReturnType<typeof unlockWithPassword>>;
      try {
        unlocked = await unlockWithPassword(body.password, user.verifier, deps.passwordParams);
      } catch (err) {
        if (!isCryptoError(err, 'WrongPassword')) throw err;
        await callVault(deps.bus, 'signin.fail', { v: 1, email: me.email, userId: me.id, origin });
        return sendProblem(reply, { status: 403, type: 'wrong-password', title: 'The password is wrong' });
      }
      let wrappedKey: string | null = null;
      if (body.prf !== null) {
        const keyRef = { id: me.id, keyVersion: user.keyVersion };
        const userKey = openPasswordWrap(unlocked.kek, keyRef, user.wrappedPrivateKey);
        wrappedKey = passkeyWrap(userKey, prfBytes(body.prf), body.registration.id, keyRef);
        userKey.destroy();
      }
      unlocked.kek.destroy();
      const request = {
        v: 1 as const,
        session: session.hash,
        challengeId: user.challenge.id,
        creationChallengeId: body.creationChallengeId,
        assertionChallengeId: body.assertionChallengeId,
        registration: JSON.stringify(withoutExtensionResults(body.registration)),
        assertion: JSON.stringify(withoutExtensionResults(body.assertion)),
        name: body.name,
        wrappedKey,
        keyVersion: user.keyVersion,
        origin,
      };
      const digest = adminRequestDigest('passkeys.register', request);
      const proof = signPasswordProof(unlocked.authKey, user.challenge, [
        me.id,
        'passkey-register',
        session.hash,
        digest,
      ]);
      const stored = await callVault(deps.bus, 'passkeys.register', { ...request, proof });
      return reply.code(201).send({ id: stored.credentialId, unlock: wrappedKey !== null });
    },
  );
};

/** The PRF output never travels on: extension results are dropped before the vault sees them. */
export function withoutExtensionResults<T extends { clientExtensionResults?: unknown }>(response: T): T {
  return { ...response, clientExtensionResults: {} };
}
