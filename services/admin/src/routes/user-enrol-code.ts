/**
 * POST /api/users/:id/enrol-code {} → {code, expiresAt}: a key-admin issues a one-time code that
 * lets a confirmed user enrol an authenticator (issue 9 item 3). Only its hash reaches the vault.
 */
import { callVault } from '@coffer/bus';
import { Uuid } from '@coffer/protocol';
import { Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { enrolCodeHash, newEnrolCode } from '../totp.ts';
import type { AdminRoute } from './deps.ts';

const Params = Type.Object({ id: Uuid });
const Empty = Type.Object({}, { additionalProperties: false });

export const enrolCodeRoute: AdminRoute = (app, deps) => {
  app.post(
    '/api/users/:id/enrol-code',
    { schema: { params: Params, body: Type.Optional(Empty) }, config: { action: 'user.enrol-code', csrf: true } },
    async (req, reply) => {
      const code = newEnrolCode();
      const issued = await callVault(deps.bus, 'users.enrol-code', {
        v: 1,
        session: req.session.hash,
        userId: req.params.id,
        codeHash: enrolCodeHash(code),
        origin: originOf(req),
      });
      return reply.code(201).header('cache-control', 'no-store').send({ code, expiresAt: issued.expiresAt });
    },
  );
};
