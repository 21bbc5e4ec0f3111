/**
 * People: POST /api/users (invite), POST /api/invites/accept, POST /api/users/:id/confirm,
 * DELETE /api/users/:id (revoke), POST /api/users/:id/reset (forgotten password).
 *
 * Keys are made here, in the admin plane, by @coffer/keyring: the invitee's key pair at acceptance
 * (the private half leaves only wrapped under their password's KEK), and at confirmation the
 * key-admin's session opens the org key to sign the certificate and hands each data key it holds
 * to the new user — O(data keys), never O(records).
 */
import { callVault } from '@coffer/bus';
import { type BundleSuite, createSessionToken, isRevoked, revocationEntry, sessionTokenHash } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { enrolUserKey, grantedRole, grantToUser, orgSuite, RoleBindingError, SuiteRefused } from '@coffer/keyring';
import { checkPassword } from '@coffer/policy';
import { type AdminResult, EmailAddress, Password, RoleSchema, Token, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { refuseOtherFingerprint, sendDenied } from '../denied.ts';
import { signInvitationFor } from '../invitation.ts';
import { checkedRevocations, nextRevocations } from '../revocations.ts';
import { originOf } from '../session.ts';
import { sessionHolder } from '../unwrap.ts';
import { sendWeakPassword } from '../vault-errors.ts';
import type { AdminDeps } from './deps.ts';
import { makeDataKeys } from './keys.ts';

const Invite = Type.Object({ email: EmailAddress, role: RoleSchema }, { additionalProperties: false });
const Accept = Type.Object({ token: Token, password: Password }, { additionalProperties: false });
const Confirm = Type.Object({ fingerprint: Type.String({ maxLength: 80 }) }, { additionalProperties: false });
const Params = Type.Object({ id: Uuid });

export const userRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.post(
    '/api/users',
    { schema: { body: Invite }, config: { action: 'user.invite', csrf: true } },
    async (req, reply) => {
      const { email, role } = req.body;
      const inviteToken = createSessionToken();
      const made = await callVault(deps.bus, 'users.invite', {
        v: 1,
        session: req.session.hash,
        email,
        role,
        inviteHash: sessionTokenHash(inviteToken),
        origin: originOf(req),
      });
      // issue 9 item 1: the role is bound to the invitation, signed with the org key.
      await signInvitationFor(deps, req.session, made, { email, role }, originOf(req));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ id: made.id, inviteToken, expiresAt: made.expiresAt, role });
    },
  );

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
    if (suite instanceof SuiteRefused) {
      req.log.warn({ alert: 'org-config' }, suite.message);
      return sendProblem(reply, {
        status: 409,
        type: 'suite-refused',
        title: "The org's suite does not verify; no key was made",
        detail: suite.message,
      });
    }
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

  const confirm = { schema: { body: Confirm, params: Params }, config: { action: 'user.confirm', csrf: true } };
  app.post('/api/users/:id/confirm', confirm, async (req, reply) => {
    const { session } = req;
    const { id } = req.params;
    const { fingerprint } = req.body;
    const origin = originOf(req);
    const m = await callVault(deps.bus, 'users.confirm-material', {
      v: 1,
      session: session.hash,
      userId: id,
    });
    if (await refuseOtherFingerprint(deps.bus, req, reply, m.user.publicKey, fingerprint)) return reply;
    // issue 9 item 1: certify and wrap only for the role the key-admin signed when inviting.
    let role: ReturnType<typeof grantedRole>;
    try {
      role = grantedRole(deps.trustRoot, m.user);
    } catch (err) {
      if (!(err instanceof RoleBindingError)) throw err;
      req.log.error({ alert: 'role-binding', userId: id }, err.reason);
      await sendDenied(deps.bus, req, reply, 'role binding', {
        type: 'role-mismatch',
        title: 'The role does not match the signed invitation; nothing was wrapped',
        detail: err.reason,
      });
      return reply;
    }
    // issue 15 item 2: the signed revocation list, checked, before anything is wrapped to them.
    const checked = await checkedRevocations(deps, req, reply, 'user.confirm', m.revocations);
    if (!checked.ok) return checked.sent;
    if (isRevoked(checked.list, m.user.id, m.user.publicKey)) {
      req.log.error({ alert: 'revoked-row', userId: id }, 'confirming a person or key on the revocation list');
      await sendDenied(deps.bus, req, reply, 'revoked', {
        type: 'revoked',
        title: 'This person or key is on the signed revocation list; nothing was wrapped',
      });
      return reply;
    }
    let grant: ReturnType<typeof grantToUser>;
    try {
      grant = grantToUser(sessionHolder(session.token, m.session), m, { ...m.user, role }, checked.list);
    } catch (err) {
      if (!(err instanceof SuiteRefused)) throw err;
      req.log.error({ alert: 'suite-downgrade', userId: id }, err.message);
      await sendDenied(deps.bus, req, reply, 'suite-refused', {
        type: 'suite-refused',
        title: 'An X25519 key is not given X-Wing data keys; nothing was wrapped',
        detail: err.message,
      });
      return reply;
    }
    const result = await callVault(deps.bus, 'users.confirm', {
      v: 1,
      session: session.hash,
      userId: m.user.id,
      ...grant,
      origin,
    });
    // The role confirmed is stated back, as the key-admin should see it.
    return reply.send({ ...result, userId: m.user.id, email: m.user.email, role });
  });

  // issue 15: a revocation is signed into the revocation list in the vault's revoke transaction,
  // which also destroys the data keys of windows not yet begun; then, if the person held data
  // keys, a fresh current window starts at once with keys wrapped only to those who remain.
  const revoke = { schema: { params: Params }, config: { action: 'user.revoke', csrf: true } };
  app.delete('/api/users/:id', revoke, async (req, reply) => {
    const { id } = req.params;
    const next = await nextRevocations(deps, req, reply, 'user.revoke', () => revocationEntry(id, null));
    if (!next?.signed) return reply;
    await callVault(deps.bus, 'users.revoke', {
      v: 1,
      session: req.session.hash,
      userId: id,
      origin: originOf(req),
      revocations: next.signed,
    });
    await deps.revocationPin.remember(next.signed.list.counter, next.signed);
    if (next.held && !(await makeDataKeys(deps, req, reply, { rotateUntil: next.lastNotAfter }))) return reply;
    return reply.code(204).send();
  });

  const reset = { schema: { params: Params }, config: { action: 'user.reset', csrf: true } };
  app.post('/api/users/:id/reset', reset, async (req, reply) => {
    const { id } = req.params;
    const next = await nextRevocations(deps, req, reply, 'user.reset', (m) => {
      const held = m.recipients.find((r) => r.id === id);
      return held ? revocationEntry(id, held.publicKey) : null;
    });
    if (!next) return reply;
    const inviteToken = createSessionToken();
    const made = await callVault(deps.bus, 'users.reset', {
      v: 1,
      session: req.session.hash,
      userId: id,
      inviteHash: sessionTokenHash(inviteToken),
      origin: originOf(req),
      ...(next.signed ? { revocations: next.signed } : {}),
    });
    if (next.signed) await deps.revocationPin.remember(next.signed.list.counter, next.signed);
    if (next.held && !(await makeDataKeys(deps, req, reply, { rotateUntil: next.lastNotAfter }))) return reply;
    return reply.header('cache-control', 'no-store').send({ id: made.id, inviteToken, expiresAt: made.expiresAt });
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
