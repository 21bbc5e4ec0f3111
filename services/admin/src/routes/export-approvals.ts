/**
 * Two-person rules (issue 16, item 4), as the portal drives them:
 * - POST /api/export-requests: ask for an export; under the threshold the answer says none is
 *   needed, above it a pending request that a second key-admin approves or denies with
 *   POST /api/export-requests/:id/approve|deny; GET /api/export-requests lists them (all for
 *   key-admins, one's own for a viewer). The requester then runs POST /api/exports with approvalId.
 * - POST /api/users/:id/cosign: a second key-admin compares the fingerprint of a key-admin being
 *   confirmed; the vault then lets the first confirm them.
 * - GET /api/recovery-holds, POST /api/recovery-holds/:id/cancel: break-glass recoveries waiting
 *   out their delay, and cancelling one (which revokes the recovered account).
 */
import { callVault } from '@coffer/bus';
import { recipientPublicKey } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { Instant, Reason, RecordTypeSchema, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { refuseImpossibleInstants } from '../strict-input.ts';
import type { AdminDeps } from './deps.ts';

const Request = Type.Object(
  {
    reason: Reason,
    type: Type.Optional(RecordTypeSchema),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
  },
  { additionalProperties: false },
);
const Params = Type.Object({ id: Uuid });
const DecisionParams = Type.Object({ id: Uuid, decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]) });
const Cosign = Type.Object({ fingerprint: Type.String({ maxLength: 80 }) }, { additionalProperties: false });

export const exportApprovalRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const ask = { schema: { body: Request }, config: { action: 'export.request', csrf: true } };
  app.post('/api/export-requests', ask, async (req, reply) => {
    const { body } = req;
    if (refuseImpossibleInstants(reply, { from: body.from, to: body.to })) return reply;
    const result = await callVault(deps.bus, 'export.request', {
      v: 1,
      session: req.session.hash,
      reason: body.reason,
      ...(body.type ? { type: body.type } : {}),
      ...(body.from ? { from: body.from } : {}),
      ...(body.to ? { to: body.to } : {}),
      origin: originOf(req),
    });
    return reply.code(result.required ? 201 : 200).send(result);
  });

  app.get('/api/export-requests', { config: { action: 'export.approvals' } }, async (req) =>
    callVault(deps.bus, 'export.approvals', { v: 1, session: req.session.hash }),
  );

  const decide = { schema: { params: DecisionParams }, config: { action: 'export.decide', csrf: true } };
  app.post('/api/export-requests/:id/:decision', decide, async (req) =>
    callVault(deps.bus, 'export.decide', {
      v: 1,
      session: req.session.hash,
      approvalId: req.params.id,
      decision: req.params.decision,
      origin: originOf(req),
    }),
  );

  // issue 16 item 4c: break-glass recoveries waiting out their delay; any key-admin cancels one.
  app.get('/api/recovery-holds', { config: { action: 'recovery.holds' } }, async (req) =>
    callVault(deps.bus, 'recovery.holds', { v: 1, session: req.session.hash }),
  );
  const cancel = { schema: { params: Params }, config: { action: 'recovery.cancel', csrf: true } };
  app.post('/api/recovery-holds/:id/cancel', cancel, async (req) => {
    await callVault(deps.bus, 'recovery.cancel', {
      v: 1,
      session: req.session.hash,
      userId: req.params.id,
      origin: originOf(req),
    });
    return { cancelled: true };
  });

  const cosign = { schema: { body: Cosign, params: Params }, config: { action: 'user.cosign', csrf: true } };
  app.post('/api/users/:id/cosign', cosign, async (req, reply) => {
    const { session } = req;
    const origin = originOf(req);
    const m = await callVault(deps.bus, 'users.confirm-material', {
      v: 1,
      session: session.hash,
      userId: req.params.id,
    });
    const userPublic = recipientPublicKey(m.user.publicKey);
    if (req.body.fingerprint.replace(/\s+/g, '') !== userPublic.fingerprint().replace(/\s+/g, '')) {
      await callVault(deps.bus, 'denied', {
        v: 1,
        session: session.hash,
        action: 'user.cosign',
        reason: 'fingerprint mismatch',
        origin,
      });
      return sendProblem(reply, {
        status: 409,
        type: 'fingerprint-mismatch',
        title: 'The fingerprint does not match the key this user set up',
      });
    }
    await callVault(deps.bus, 'users.cosign', {
      v: 1,
      session: session.hash,
      userId: req.params.id,
      publicKey: m.user.publicKey,
      origin,
    });
    return { cosigned: true };
  });
};
