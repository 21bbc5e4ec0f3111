/**
 * One's own passkeys (issue 16 item 1): GET /api/me/passkeys, POST /api/me/passkeys/options,
 * POST /api/me/passkeys (register), DELETE /api/me/passkeys/:id.
 *
 * Registering takes the current password: it unwraps the user key here, the PRF output of the new
 * credential derives a second KEK, and the key wrapped under it goes to the vault with a password
 * proof over the whole request. The vault checks the WebAuthn registration and an assertion by
 * the new credential; the PRF output itself is never stored or sent on.
 */
import { callVault } from '@coffer/bus';
import {
  adminRequestDigest,
  derivePasskeyKek,
  isCryptoError,
  passkeyKeyAad,
  signPasswordProof,
  unlockWithPassword,
  unwrapWithSymmetricKey,
  userKeyAad,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { CredentialId, FREE_TEXT_PATTERN, Id, Password } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { USER_KEY_KINDS } from '../unwrap.ts';
import type { AdminDeps } from './deps.ts';
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

export const passkeyRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get('/api/me/passkeys', { config: { action: 'passkey.list' } }, async (req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send(await callVault(deps.bus, 'passkeys.list', { v: 1, session: req.session.hash })),
  );

  app.post('/api/me/passkeys/options', { config: { action: 'passkey.add', csrf: true } }, async (req, reply) => {
    const got = await callVault(deps.bus, 'passkeys.register-options', { v: 1, session: req.session.hash });
    return reply.header('cache-control', 'no-store').send({
      creationChallengeId: got.creationChallengeId,
      options: JSON.parse(got.options),
      assertion: { challengeId: got.assertion.id, challenge: got.assertion.nonce, rpId: got.rpId },
    });
  });

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
        const userKey = unwrapWithSymmetricKey(
          USER_KEY_KINDS,
          unlocked.kek,
          Buffer.from(user.wrappedPrivateKey, 'base64'),
          userKeyAad(me.id, user.keyVersion),
        );
        const prf = prfBytes(body.prf);
        const kek = derivePasskeyKek(prf, body.registration.id);
        prf.fill(0);
        wrappedKey = wrapWithSymmetricKey(
          userKey,
          kek,
          passkeyKeyAad(me.id, user.keyVersion, body.registration.id),
        ).toString('base64');
        kek.destroy();
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

  app.delete(
    '/api/me/passkeys/:id',
    {
      schema: { params: Type.Object({ id: CredentialId }, { additionalProperties: false }) },
      config: { action: 'passkey.remove', csrf: true },
    },
    async (req, reply) => {
      await callVault(deps.bus, 'passkeys.remove', {
        v: 1,
        session: req.session.hash,
        credentialId: req.params.id,
        origin: originOf(req),
      });
      return reply.code(204).send();
    },
  );
};

/** The PRF output never travels on: extension results are dropped before the vault sees them. */
export function withoutExtensionResults<T extends { clientExtensionResults?: unknown }>(response: T): T {
  return { ...response, clientExtensionResults: {} };
}
