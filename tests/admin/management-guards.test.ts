/** Guards around people and keys found by review: authority needs confirmation, the last key-admin stays, horizons are bounded. */
import { PrivateKey } from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { call, signIn } from '../support/admin-stack.ts';
import { signedInStack, stackAvailable } from '../support/signed-in-stack.ts';

const STRONG = 'violet-harbour-compass-7342-quietly';

describe.skipIf(!stackAvailable)('management guards', () => {
  const t = signedInStack();

  it('gives an accepted but unconfirmed key-admin no authority', async () => {
    const invite = await call(t.stack.app, t.admin, 'POST', '/api/users', {
      email: 'mallory@example.com',
      role: 'key-admin',
    });
    await call(t.stack.app, undefined, 'POST', '/api/invites/accept', {
      token: invite.json().inviteToken,
      password: STRONG,
    });
    const mallory = await signIn(t.stack.app, 'mallory@example.com', STRONG);
    expect(
      (await call(t.stack.app, mallory, 'POST', '/api/users', { email: 'x@example.com', role: 'viewer' })).statusCode,
    ).toBe(403);
    expect((await call(t.stack.app, mallory, 'GET', '/api/keys')).statusCode).toBe(403);
    expect((await call(t.stack.app, mallory, 'GET', '/api/audit')).statusCode).toBe(403);
    expect((await call(t.stack.app, mallory, 'GET', '/api/records')).statusCode).toBe(403);
    const adminId = t.stack.ceremony.request.admin.id;
    expect((await call(t.stack.app, mallory, 'POST', `/api/users/${adminId}/reset`)).statusCode).toBe(403);
    expect((await call(t.stack.app, t.admin, 'GET', '/api/me')).statusCode).toBe(200);
  });

  it('never removes the last active key-admin, and a key-admin cannot reset themselves', async () => {
    const adminId = t.stack.ceremony.request.admin.id;
    expect((await call(t.stack.app, t.admin, 'POST', `/api/users/${adminId}/reset`)).statusCode).toBe(409);
    expect((await call(t.stack.app, t.admin, 'DELETE', `/api/users/${adminId}`)).statusCode).toBe(409);
  });

  it('clears a revoked user’s certificate, so a row flipped back to active receives no key', async () => {
    const invite = await call(t.stack.app, t.admin, 'POST', '/api/users', { email: 'ada@example.com', role: 'viewer' });
    const { id, inviteToken } = invite.json();
    const accepted = await call(t.stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: STRONG,
    });
    await call(t.stack.app, t.admin, 'POST', `/api/users/${id}/confirm`, { fingerprint: accepted.json().fingerprint });
    expect((await call(t.stack.app, t.admin, 'DELETE', `/api/users/${id}`)).statusCode).toBe(204);
    const [row] = await t.stack.db.owner`SELECT certificate_signature, public_key FROM users WHERE id = ${id}`;
    expect(row).toEqual({ certificate_signature: null, public_key: null });
    await t.stack.db.owner`UPDATE users SET status = 'active' WHERE id = ${id}`;
    const made = await call(t.stack.app, t.admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode).toBe(201);
    expect(await t.stack.db.owner`SELECT 1 FROM wrapped_keys WHERE recipient_id = ${id}`).toHaveLength(0);
  });

  it('wraps no data key to a recovery key the org key did not certify', async () => {
    const [org] = await t.stack.db.owner`SELECT recovery_public_key FROM org`;
    const planted = PrivateKey.generate('x25519').publicKey.toBase64url();
    await t.stack.db.owner`UPDATE org SET recovery_public_key = ${planted}`;
    try {
      const res = await call(t.stack.app, t.admin, 'POST', '/api/keys/pregenerate', { count: 1 });
      expect(res.statusCode).toBe(409);
      expect(res.json().type).toBe('urn:coffer:problem:recovery-key-uncertified');
    } finally {
      await t.stack.db.owner`UPDATE org SET recovery_public_key = ${org?.recovery_public_key}`;
    }
  });

  it('refuses data keys reaching more than two years ahead', async () => {
    const res = await call(t.stack.app, t.admin, 'POST', '/api/keys/pregenerate', { count: 16 });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(/two years/);
  });
});
