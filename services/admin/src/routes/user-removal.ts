/**
 * DELETE /api/users/:id (revoke) and POST /api/users/:id/reset (forgotten password): the next
 * signed revocation list names the person (a reset: their key, if it held data keys), stored in
 * the vault's transaction; if they held data keys, a fresh current window starts at once with
 * keys wrapped only to those who remain. A reset invites them again.
 */
import { callVault } from '@coffer/bus';
import { createSessionToken, revocationEntry, sessionTokenHash } from '@coffer/crypto';
import { Uuid } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';
import { nextRevocations } from '../revocations.ts';
import { originOf } from '../session.ts';
import type { AdminRoute } from './deps.ts';
import { makeDataKeys } from './keys.ts';

const Params = Type.Object({ id: Uuid });

export const revokeRoute: AdminRoute = (app, deps) => {
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
};

export const resetRoute: AdminRoute = (app, deps) => {
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
