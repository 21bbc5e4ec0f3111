/**
 * GET /api/users (key-admins: everyone, with role, status, MFA, last sign-in, key fingerprint)
 * and POST /api/users/:id/reinvite (a new one-time link for someone who has not accepted yet);
 * POST /api/invites/lookup {token}: whom an invite is for, so that the acceptance page can greet
 * them and apply the password policy's email rule as they type (the token stays out of URLs).
 */
import { callVault } from '@coffer/bus';
import { createSessionToken, PublicKey, sessionTokenHash } from '@coffer/crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { originOf } from '../session.ts';
import { sendVaultError } from '../vault-errors.ts';
import { type AdminDeps, requireSession } from './deps.ts';

const Params = Type.Object({
  id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' }),
});
const Empty = Type.Object({}, { additionalProperties: false });

interface ListedUser {
  id: string;
  email: string;
  role: string;
  status: string;
  mfa: boolean;
  publicKey: string | null;
  createdAt: string;
  confirmedAt: string | null;
  lastSigninAt: string | null;
  inviteExpiresAt: string | null;
}

/** The fingerprint of the key stored for a user, computed here from the public key itself. */
function fingerprintOf(publicKey: string | null): string | null {
  if (!publicKey) return null;
  try {
    return PublicKey.fromBase64url('x25519', publicKey).fingerprint();
  } catch {
    return null;
  }
}

const Lookup = Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }) }, { additionalProperties: false });

export const peopleListRoutes: FastifyPluginAsync<AdminDeps> = async (app, deps) => {
  app.get('/api/users', async (req, reply) => {
    const session = await requireSession(deps, req, reply, 'users.list', { csrf: false });
    if (!session) return reply;
    try {
      const list = await callVault<{ items: ListedUser[] }>(deps.bus, 'users.list', { v: 1, session: session.hash });
      const items = list.items.map(({ publicKey, ...u }) => ({ ...u, fingerprint: fingerprintOf(publicKey) }));
      return reply.header('cache-control', 'no-store').send({ items });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post('/api/invites/lookup', { schema: { body: Lookup } }, async (req, reply) => {
    try {
      const invite = await callVault<{ email: string; role: string }>(deps.bus, 'invites.lookup', {
        v: 1,
        inviteHash: sessionTokenHash((req.body as { token: string }).token),
      });
      return reply.header('cache-control', 'no-store').send({ email: invite.email, role: invite.role });
    } catch (err) {
      return sendVaultError(reply, err);
    }
  });

  app.post(
    '/api/users/:id/reinvite',
    { schema: { params: Params, body: Type.Optional(Empty) } },
    async (req, reply) => {
      const session = await requireSession(deps, req, reply, 'user.reinvite', { csrf: true });
      if (!session) return reply;
      const inviteToken = createSessionToken();
      try {
        const made = await callVault<{ id: string; expiresAt: string }>(deps.bus, 'users.reinvite', {
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
    },
  );
};
