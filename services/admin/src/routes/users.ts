/**
 * People: POST /api/users (invite), POST /api/invites/accept, POST /api/users/:id/confirm,
 * DELETE /api/users/:id (revoke), POST /api/users/:id/reset (forgotten password).
 *
 * Keys are made here, in the admin plane: the invitee's key pair at acceptance (the private half
 * leaves only wrapped under their password's KEK), and at confirmation the key-admin's session
 * unwraps the org key to sign the certificate and each live data key to wrap it to the new user —
 * O(data keys), never O(records).
 */
import { callVault } from '@coffer/bus';
import {
  createSessionToken,
  dataKeyWrapBinding,
  enrollPassword,
  orgKeyWrapBinding,
  PrivateKey,
  PublicKey,
  sessionTokenHash,
  signUserCertificate,
  unwrapPrivateKey,
  userKeyAad,
  wrapPrivateKey,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { checkPassword } from '@coffer/policy';
import type { ConfirmMaterial, InviteMade } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { grantedRole, type InvitedRole, RoleBindingError, signInvitationFor } from '../invitation.ts';
import { originOf } from '../session.ts';
import { unwrapOrgKey } from '../unwrap.ts';
import { sendVaultError, sendWeakPassword } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const NO_NUL = '^[^\\u0000]*$';
const Invite = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@\\u0000]+@[^\\s@\\u0000]+$' }),
    role: Type.Union([Type.Literal('viewer'), Type.Literal('key-admin'), Type.Literal('auditor')]),
  },
  { additionalProperties: false },
);
const Accept = Type.Object(
  {
    token: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    password: Type.String({ minLength: 1, maxLength: 1024, pattern: NO_NUL }),
  },
  { additionalProperties: false },
);
const Confirm = Type.Object({ fingerprint: Type.String({ maxLength: 80 }) }, { additionalProperties: false });
const Params = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
});

export const userRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.post('/api/users', { schema: { body: Invite } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'user.invite', { csrf: true });
    if (!session) return reply;
    const { email, role } = req.body as { email: string; role: InvitedRole };
    const inviteToken = createSessionToken();
    try {
      const made = await callVault<InviteMade>(deps.bus, 'users.invite', {
        v: 1,
        session: session.hash,
        email,
        role,
        inviteHash: sessionTokenHash(inviteToken),
        origin: originOf(req),
      });
      // issue 9 item 1: the role is bound to the invitation, signed with the org key.
      await signInvitationFor(deps, session, made, { email, role }, originOf(req));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ id: made.id, inviteToken, expiresAt: made.expiresAt, role });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post('/api/invites/accept', { schema: { body: Accept } }, async (req, reply) => {
    const { token, password } = req.body as { token: string; password: string };
    const inviteHash = sessionTokenHash(token);
    try {
      const invite = await callVault<{ userId: string; email: string; keyVersion: number }>(
        deps.bus,
        'invites.lookup',
        {
          v: 1,
          inviteHash,
        },
      );
      const verdict = checkPassword(password, invite.email);
      if (!verdict.ok) {
        return sendWeakPassword(reply, verdict);
      }
      const userKey = PrivateKey.generate('x25519');
      const { verifier, kek } = await enrollPassword(password, deps.passwordParams);
      const wrapped = wrapWithSymmetricKey(userKey, kek, userKeyAad(invite.userId, invite.keyVersion));
      kek.destroy();
      await callVault(deps.bus, 'invites.accept', {
        v: 1,
        inviteHash,
        keyVersion: invite.keyVersion,
        verifier,
        publicKey: userKey.publicKey.toBase64url(),
        wrappedPrivateKey: wrapped.toString('base64'),
        origin: originOf(req),
      });
      // Read out to the key-admin, who types it into the confirmation: a swapped key shows here.
      return reply
        .header('cache-control', 'no-store')
        .send({ userId: invite.userId, fingerprint: userKey.publicKey.fingerprint() });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post('/api/users/:id/confirm', { schema: { body: Confirm, params: Params } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'user.confirm', { csrf: true });
    if (!session) return reply;
    const { id } = req.params as { id: string };
    const { fingerprint } = req.body as { fingerprint: string };
    const origin = originOf(req);
    try {
      const m = await callVault<ConfirmMaterial>(deps.bus, 'users.confirm-material', {
        v: 1,
        session: session.hash,
        userId: id,
      });
      const userPublic = PublicKey.fromBase64url('x25519', m.user.publicKey);
      if (fingerprint.replace(/\s+/g, '') !== userPublic.fingerprint().replace(/\s+/g, '')) {
        await callVault(deps.bus, 'denied', {
          v: 1,
          session: session.hash,
          action: 'user.confirm',
          reason: 'fingerprint mismatch',
          origin,
        });
        return sendProblem(reply, {
          status: 409,
          type: 'fingerprint-mismatch',
          title: 'The fingerprint does not match the key this user set up',
        });
      }
      // issue 9 item 1: certify and wrap only for the role the key-admin signed when inviting.
      let role: InvitedRole;
      try {
        role = grantedRole(deps.trustRoot, m.user);
      } catch (err) {
        if (!(err instanceof RoleBindingError)) throw err;
        req.log.error({ alert: 'role-binding', userId: id }, err.reason);
        await callVault(deps.bus, 'denied', {
          v: 1,
          session: session.hash,
          action: 'user.confirm',
          reason: 'role binding',
          origin,
        });
        return sendProblem(reply, {
          status: 409,
          type: 'role-mismatch',
          title: 'The role does not match the signed invitation; nothing was wrapped',
          detail: err.reason,
        });
      }
      const callerId = m.session.userId;
      const { callerKey, orgKey } = unwrapOrgKey(session.token, m);
      const certificateSignature = signUserCertificate(orgKey, { id: m.user.id, role, publicKey: m.user.publicKey });
      const dataKeys =
        role === 'auditor'
          ? []
          : m.dataKeys.map(({ keyId, wrapped }) => {
              const dataKey = unwrapPrivateKey(
                'x25519',
                callerKey,
                Buffer.from(wrapped, 'base64'),
                dataKeyWrapBinding(keyId, callerId),
              );
              const copy = wrapPrivateKey(dataKey, userPublic, dataKeyWrapBinding(keyId, m.user.id));
              return { keyId, wrapped: copy.toString('base64') };
            });
      const orgCopy =
        role === 'key-admin' ? wrapPrivateKey(orgKey, userPublic, orgKeyWrapBinding(m.orgKeyId, m.user.id)) : undefined;
      const result = await callVault<{ wrappedKeys: number }>(deps.bus, 'users.confirm', {
        v: 1,
        session: session.hash,
        userId: m.user.id,
        certificateSignature,
        dataKeys,
        ...(orgCopy ? { orgKey: orgCopy.toString('base64') } : {}),
        origin,
      });
      // The role confirmed is stated back, as the key-admin should see it.
      return reply.send({ ...result, userId: m.user.id, email: m.user.email, role });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.delete('/api/users/:id', { schema: { params: Params } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'user.revoke', { csrf: true });
    if (!session) return reply;
    try {
      await callVault(deps.bus, 'users.revoke', {
        v: 1,
        session: session.hash,
        userId: (req.params as { id: string }).id,
        origin: originOf(req),
      });
      return reply.code(204).send();
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post('/api/users/:id/reset', { schema: { params: Params } }, async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'user.reset', { csrf: true });
    if (!session) return reply;
    const inviteToken = createSessionToken();
    try {
      const made = await callVault<{ id: string; expiresAt: string }>(deps.bus, 'users.reset', {
        v: 1,
        session: session.hash,
        userId: (req.params as { id: string }).id,
        inviteHash: sessionTokenHash(inviteToken),
        origin: originOf(req),
      });
      return reply.header('cache-control', 'no-store').send({ id: made.id, inviteToken, expiresAt: made.expiresAt });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });
};
