/** POST /api/users: a key-admin invites a person; the role is bound to an invitation signed with the org key. */
import { callVault } from '@coffer/bus';
import { createSessionToken, sessionTokenHash } from '@coffer/crypto';
import { EmailAddress, RoleSchema } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';
import { signInvitationFor } from '../invitation.ts';
import { originOf } from '../session.ts';
import type { AdminRoute } from './deps.ts';

const Invite = Type.Object({ email: EmailAddress, role: RoleSchema }, { additionalProperties: false });

export const inviteRoute: AdminRoute = (app, deps) => {
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
};
