/**
 * POST /api/invites/accept: the invitee sets a password; their key pair is made here, in the
 * org's suite, and only its public half and the private half wrapped under the password's KEK go
 * to the vault. The fingerprint is read out to the key-admin who confirms them.
 */
import { callVault } from '@coffer/bus';
import { type BundleSuite, sessionTokenHash } from '@coffer/crypto';
import { enrolUserKey, orgSuite, SuiteRefused } from '@coffer/keyring';
import { checkPassword } from '@coffer/policy';
import { type AdminResult, Password, Token } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { sendWeakPassword } from '../vault-errors.ts';
import type { AdminDeps, AdminRoute } from './deps.ts';
import { sendSuiteRefused } from './problems.ts';

const Accept = Type.Object({ token: Token, password: Password }, { additionalProperties: false });

export const acceptRoute: AdminRoute = (app, deps) => {
  app.post('/api/invites/accept', { schema: { body: Accept } }, async (req, reply) => {
    const { token, password } = req.body;
    const inviteHash = sessionTokenHash(token);
    const invite = await callVault(deps.bus, 'invites.lookup', { v: 1, inviteHash });
    const verdict = checkPassword(password, invite.email);
    if (!verdict.ok) {
      return sendWeakPassword(reply, verdict);
    }
    // issue 15: the key is made in the org's suite (X-Wing for an X-Wing org, a reset included),
    // as its signed configuration says under the pinned trust root; a tampered one makes nothing.
    const suite = inviteeSuite(deps, invite);
    if (suite instanceof SuiteRefused)
      return sendSuiteRefused(req, reply, suite, "The org's suite does not verify; no key was made");
    const made = await enrolUserKey(
      password,
      { id: invite.userId, keyVersion: invite.keyVersion },
      suite,
      deps.passwordParams,
    );
    await callVault(deps.bus, 'invites.accept', {
      v: 1,
      inviteHash,
      keyVersion: invite.keyVersion,
      verifier: made.verifier,
      publicKey: made.publicKey,
      wrappedPrivateKey: made.wrappedPrivateKey,
      origin: originOf(req),
    });
    // Read out to the key-admin, who types it into the confirmation: a swapped key shows here.
    return reply.header('cache-control', 'no-store').send({ userId: invite.userId, fingerprint: made.fingerprint });
  });
};

/** The suite of an invitee's new key: the org's, or the refusal when its configuration does not verify. */
function inviteeSuite(deps: AdminDeps, invite: AdminResult<'invites.lookup'>): BundleSuite | SuiteRefused {
  // A vault from before suites sends no org material: its org is X25519.
  if (invite.orgKeyId === undefined) return 'x25519';
  try {
    const { orgKeyId, config, newestKey, dataKeyBundles } = invite;
    return orgSuite(deps.trustRoot, { orgKeyId, config, newestKey, dataKeyBundles });
  } catch (err) {
    if (err instanceof SuiteRefused) return err;
    throw err;
  }
}
