/**
 * POST /api/users/:id/confirm: the key-admin's session opens the org key to certify the person's
 * key — for the role of the signed invitation only, never for someone on the signed revocation
 * list — and hands each data key it holds to them: O(data keys), never O(records).
 */
import { callVault } from '@coffer/bus';
import { isRevoked } from '@coffer/crypto';
import { grantedRole, grantToUser, RoleBindingError, SuiteRefused } from '@coffer/keyring';
import { Uuid } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';
import { refuseOtherFingerprint, sendDenied } from '../denied.ts';
import { checkedRevocations } from '../revocations.ts';
import { originOf } from '../session.ts';
import { withSessionHolder } from '../session-holder.ts';
import type { AdminRoute } from './deps.ts';

const Confirm = Type.Object({ fingerprint: Type.String({ maxLength: 80 }) }, { additionalProperties: false });
const Params = Type.Object({ id: Uuid });

export const confirmRoute: AdminRoute = (app, deps) => {
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
      grant = withSessionHolder(session.token, m.session, (holder) =>
        grantToUser(holder, m, { ...m.user, role }, checked.list),
      );
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
};
