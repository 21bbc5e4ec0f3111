/**
 * One's own passkeys (issue 16 item 1): GET /api/me/passkeys, POST /api/me/passkeys/options,
 * POST /api/me/passkeys (register, passkey-register.ts), DELETE /api/me/passkeys/:id.
 */
import { callVault } from '@coffer/bus';
import { CredentialId } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';
import { registerPasskeyRoute } from './passkey-register.ts';
import { sessionRead } from './session-read.ts';

export const passkeyRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  sessionRead(app, deps, '/api/me/passkeys', 'passkey.list', 'passkeys.list');

  app.post('/api/me/passkeys/options', { config: { action: 'passkey.add', csrf: true } }, async (req, reply) => {
    const got = await callVault(deps.bus, 'passkeys.register-options', { v: 1, session: req.session.hash });
    return reply.header('cache-control', 'no-store').send({
      creationChallengeId: got.creationChallengeId,
      options: JSON.parse(got.options),
      assertion: { challengeId: got.assertion.id, challenge: got.assertion.nonce, rpId: got.rpId },
    });
  });

  registerPasskeyRoute(app, deps);

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
