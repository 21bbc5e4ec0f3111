/**
 * People: POST /api/users (invite, user-invite.ts), POST /api/invites/accept (user-accept.ts),
 * POST /api/users/:id/confirm (user-confirm.ts), DELETE /api/users/:id (revoke) and
 * POST /api/users/:id/reset (forgotten password, both user-removal.ts). One file per route.
 *
 * Keys are made here, in the admin plane, by @coffer/keyring: the invitee's key pair at acceptance
 * (the private half leaves only wrapped under their password's KEK), and at confirmation the
 * key-admin's session opens the org key to sign the certificate and hands each data key it holds
 * to the new user — O(data keys), never O(records).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AdminDeps } from './deps.ts';
import { acceptRoute } from './user-accept.ts';
import { confirmRoute } from './user-confirm.ts';
import { inviteRoute } from './user-invite.ts';
import { resetRoute, revokeRoute } from './user-removal.ts';

export const userRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  for (const route of [inviteRoute, acceptRoute, confirmRoute, revokeRoute, resetRoute]) route(app, deps);
};
