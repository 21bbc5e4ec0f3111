/**
 * GET /api/users (key-admins: everyone, with role, status, MFA, last sign-in, key fingerprint)
 * and POST /api/users/:id/reinvite (a new one-time link for someone who has not accepted yet);
 * POST /api/invites/lookup {token}: whom an invite is for, so that the acceptance page can greet
 * them and apply the password policy's email rule as they type (the token stays out of URLs).
 */
import { callVault } from '@coffer/bus';
import { createSessionToken, recipientPublicKey, recipientSuiteOf, sessionTokenHash } from '@coffer/crypto';
import { Token, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';

const Params = Type.Object({ id: Uuid });
const Empty = Type.Object({}, { additionalProperties: false });
const Lookup = Type.Object({ token: Token }, { additionalProperties: false });

/** The fingerprint of the key stored for a user, computed here from the public key itself. */
function fingerprintOf(publicKey: string | null): string | null {
  if (!publicKey) return null;
  try {
    return recipientPublicKey(publicKey).fingerprint();
  } catch {
    return null;
  }
}

function suiteOf(publicKey: string | null): string | null {
  if (!publicKey) return null;
  try {
    return recipientSuiteOf(publicKey);
  } catch {
    return null;
  }
}

export const peopleListRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get('/api/users', { config: { action: 'users.list' } }, async (req, reply) => {
    const list = await callVault(deps.bus, 'users.list', { v: 1, session: req.session.hash });
    // keySuite: who still holds an X25519 key in an X-Wing org (a reset re-keys them; issue 15).
    const items = list.items.map(({ publicKey, ...u }) => ({
      ...u,
      fingerprint: fingerprintOf(publicKey),
      keySuite: suiteOf(publicKey),
    }));
    return reply.header('cache-control', 'no-store').send({ items });
  });

  app.post('/api/invites/lookup', { schema: { body: Lookup } }, async (req, reply) => {
    const invite = await callVault(deps.bus, 'invites.lookup', {
      v: 1,
      inviteHash: sessionTokenHash(req.body.token),
    });
    return reply.header('cache-control', 'no-store').send({ email: invite.email, role: invite.role });
  });

  app.post(
    '/api/users/:id/reinvite',
    { schema: { params: Params, body: Type.Optional(Empty) }, config: { action: 'user.reinvite', csrf: true } },
    async (req, reply) => {
      const inviteToken = createSessionToken();
      const made = await callVault(deps.bus, 'users.reinvite', {
        v: 1,
        session: req.session.hash,
        userId: req.params.id,
        inviteHash: sessionTokenHash(inviteToken),
        origin: originOf(req),
      });
      return reply.header('cache-control', 'no-store').send({ id: made.id, inviteToken, expiresAt: made.expiresAt });
    },
  );
};
