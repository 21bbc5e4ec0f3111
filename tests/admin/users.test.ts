import { unwrapUserKey } from '@coffer/admin/testing';
import { dataKeyWrapBinding, PrivateKey, signUserCertificate, unwrapPrivateKey } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-compass-7342-quietly';

describe.skipIf(!available)('people: invite, accept, confirm, roles, password, reset, revoke, rotation', () => {
  let stack: AdminStack;
  let admin: Signed;
  let recordId: string;
  const enrol = (email: string, role: string) => enrolUser(stack.app, admin, email, role, STRONG);

  beforeAll(async () => {
    stack = await startAdminStack();
    recordId = await stack.addRecord('pan', '4111111111111111');
    admin = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  it('enrols a viewer: single-use 24 h invite, policy on the password, confirmation by fingerprint', async () => {
    const invite = await call(stack.app, admin, 'POST', '/api/users', {
      email: 'ada.lovelace@example.com',
      role: 'viewer',
    });
    expect(invite.statusCode).toBe(201);
    const { id, inviteToken, expiresAt } = invite.json();
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    const weak = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: 'short',
    });
    expect(weak.json()).toMatchObject({ status: 400, rule: 'length' });
    const local = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: 'ada.lovelace-engine-notes-1843',
    });
    expect(local.json()).toMatchObject({ status: 400, rule: 'email' });
    const ok = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: STRONG,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ userId: id, fingerprint: expect.stringMatching(/^\d{5}( \d{5}){5}$/) });
    const again = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: STRONG,
    });
    expect(again.statusCode).toBe(404);

    // Unconfirmed: signs in, reveals nothing.
    const viewer = await signIn(stack.app, 'ada.lovelace@example.com', STRONG);
    expect(
      (await call(stack.app, viewer, 'POST', `/api/records/${recordId}/reveal`, { reason: 'before confirmation' }))
        .statusCode,
    ).toBe(403);

    const wrongFp = await call(stack.app, admin, 'POST', `/api/users/${id}/confirm`, {
      fingerprint: '00000 00000 00000 00000 00000 00000',
    });
    expect(wrongFp.statusCode).toBe(409);
    const confirmed = await call(stack.app, admin, 'POST', `/api/users/${id}/confirm`, {
      fingerprint: ok.json().fingerprint,
    });
    expect(confirmed.statusCode).toBe(200);
    // The ceremony made one data key; the viewer receives a copy of it, nothing more.
    expect(confirmed.json()).toEqual({
      wrappedKeys: stack.ceremony.request.dataKeys.length,
      userId: id,
      email: 'ada.lovelace@example.com',
      role: 'viewer',
    });
    const revealed = await call(stack.app, viewer, 'POST', `/api/records/${recordId}/reveal`, {
      reason: 'after confirmation',
    });
    expect(revealed.json()).toMatchObject({ value: '4111111111111111' });
  });

  it('keeps viewers out of the audit log and user management', async () => {
    const viewer = await signIn(stack.app, 'ada.lovelace@example.com', STRONG);
    expect((await call(stack.app, viewer, 'GET', '/api/audit')).statusCode).toBe(403);
    expect(
      (await call(stack.app, viewer, 'POST', '/api/users', { email: 'x@example.com', role: 'viewer' })).statusCode,
    ).toBe(403);
    expect((await call(stack.app, viewer, 'POST', '/api/keys/pregenerate', { count: 1 })).statusCode).toBe(403);
  });

  it('gives an auditor no data key: even with every check bypassed, its key opens nothing', async () => {
    const auditor = await enrol('grace.hopper@example.com', 'auditor');
    expect(auditor.confirmed).toMatchObject({ wrappedKeys: 0, role: 'auditor' });
    const session = await signIn(stack.app, 'grace.hopper@example.com', STRONG);
    expect((await call(stack.app, session, 'GET', '/api/audit')).statusCode).toBe(200);
    expect(
      (await call(stack.app, session, 'POST', `/api/records/${recordId}/reveal`, { reason: 'curious' })).statusCode,
    ).toBe(403);
    // Bypass every authorization check: take the auditor's own private key from its session and
    // try it on every wrapped data key copy in the database.
    const [row] = await stack.db.owner`SELECT id, wrapped_key FROM sessions WHERE user_id = ${auditor.id} LIMIT 1`;
    const auditorKey = unwrapUserKey(session.token, {
      sessionId: row?.id,
      userId: auditor.id,
      wrappedKey: row?.wrapped_key.toString('base64'),
    });
    const copies = await stack.db.owner`SELECT key_id, recipient_id, wrapped FROM wrapped_keys WHERE key_kind = 'data'`;
    expect(copies.filter((c) => c.recipient_id === auditor.id)).toHaveLength(0);
    for (const c of copies) {
      for (const recipient of [auditor.id, c.recipient_id as string]) {
        expect(() =>
          unwrapPrivateKey('x25519', auditorKey, c.wrapped, dataKeyWrapBinding(c.key_id, recipient)),
        ).toThrow();
      }
    }
  });

  it('changes a password: same key, the old password stops working, other sessions end', async () => {
    const first = await signIn(stack.app, 'ada.lovelace@example.com', STRONG);
    const second = await signIn(stack.app, 'ada.lovelace@example.com', STRONG);
    const next = 'indigo-lighthouse-anchor-5519-gently';
    const wrong = await call(stack.app, first, 'POST', '/api/me/password', { current: 'not-it-at-all-really', next });
    expect(wrong.statusCode).toBe(403);
    const weak = await call(stack.app, first, 'POST', '/api/me/password', { current: STRONG, next: 'password' });
    expect(weak.statusCode).toBe(400);
    expect((await call(stack.app, first, 'POST', '/api/me/password', { current: STRONG, next })).statusCode).toBe(204);
    expect((await call(stack.app, second, 'GET', '/api/me')).statusCode).toBe(401);
    expect(
      (await call(stack.app, first, 'POST', `/api/records/${recordId}/reveal`, { reason: 'same session still works' }))
        .statusCode,
    ).toBe(200);
    await expect(signIn(stack.app, 'ada.lovelace@example.com', STRONG)).rejects.toThrow(/401/);
    const fresh = await signIn(stack.app, 'ada.lovelace@example.com', next);
    expect(
      (await call(stack.app, fresh, 'POST', `/api/records/${recordId}/reveal`, { reason: 'new password' })).json()
        .value,
    ).toBe('4111111111111111');
  });

  it('pre-generates data keys for confirmed viewers, key-admins and the recovery key, never for a planted user', async () => {
    // A user row written straight into the database, with no certificate from the org key.
    const planted = PrivateKey.generate('x25519');
    const forger = PrivateKey.generate('ed25519');
    const plantedId = '01a2282e-0000-7000-8000-00000000beef';
    const forged = signUserCertificate(forger, {
      id: plantedId,
      role: 'viewer',
      publicKey: planted.publicKey.toBase64url(),
    });
    await stack.db.owner`INSERT INTO users (id, email, role, status, public_key, certificate_signature)
      VALUES (${plantedId}, 'mallory@example.com', 'viewer', 'active', ${planted.publicKey.toBase64url()}, ${forged})`;
    const res = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 2 });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.items).toHaveLength(2);
    expect(body.skippedRecipients).toBe(1);
    // key-admin + viewer + recovery; not the auditor, not the planted row.
    expect(body.items.map((k: { wrappedCopies: number }) => k.wrappedCopies)).toEqual([3, 3]);
    const planted_copies = await stack.db.owner`SELECT 1 FROM wrapped_keys WHERE recipient_id = ${plantedId}`;
    expect(planted_copies).toHaveLength(0);
    const keys = await call(stack.app, admin, 'GET', '/api/keys');
    expect(keys.json().items).toHaveLength(stack.ceremony.request.dataKeys.length + 2);
    const [a, b] = body.items;
    expect(Date.parse(b.notBefore)).toBe(Date.parse(a.notAfter));
  });

  it('resets a forgotten password: new keys, old copies gone, confirmation needed again', async () => {
    const viewerId = (await stack.db.owner`SELECT id FROM users WHERE email = 'ada.lovelace@example.com'`)[0]
      ?.id as string;
    const res = await call(stack.app, admin, 'POST', `/api/users/${viewerId}/reset`);
    expect(res.statusCode).toBe(200);
    expect(await stack.db.owner`SELECT 1 FROM wrapped_keys WHERE recipient_id = ${viewerId}`).toHaveLength(0);
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: res.json().inviteToken,
      password: STRONG,
    });
    expect(accepted.statusCode).toBe(200);
    const viewer = await signIn(stack.app, 'ada.lovelace@example.com', STRONG);
    expect(
      (await call(stack.app, viewer, 'POST', `/api/records/${recordId}/reveal`, { reason: 'reset, unconfirmed' }))
        .statusCode,
    ).toBe(403);
    expect(
      (
        await call(stack.app, admin, 'POST', `/api/users/${viewerId}/confirm`, {
          fingerprint: accepted.json().fingerprint,
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (await call(stack.app, viewer, 'POST', `/api/records/${recordId}/reveal`, { reason: 'reset, confirmed' }))
        .statusCode,
    ).toBe(200);
  });

  it('revokes: sessions and wrapped keys gone, nothing readable, and later keys leave the user out', async () => {
    const viewerId = (await stack.db.owner`SELECT id FROM users WHERE email = 'ada.lovelace@example.com'`)[0]
      ?.id as string;
    const viewer = await signIn(stack.app, 'ada.lovelace@example.com', STRONG);
    expect((await call(stack.app, admin, 'DELETE', `/api/users/${viewerId}`)).statusCode).toBe(204);
    expect(
      (await call(stack.app, viewer, 'POST', `/api/records/${recordId}/reveal`, { reason: 'after revocation' }))
        .statusCode,
    ).toBe(401);
    await expect(signIn(stack.app, 'ada.lovelace@example.com', STRONG)).rejects.toThrow(/401/);
    expect(await stack.db.owner`SELECT 1 FROM wrapped_keys WHERE recipient_id = ${viewerId}`).toHaveLength(0);
    expect(await stack.db.owner`SELECT 1 FROM sessions WHERE user_id = ${viewerId}`).toHaveLength(0);
    const later = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(later.json().items[0].wrappedCopies).toBe(2); // the key-admin and the recovery key
    const actions = (await stack.db.owner`SELECT action FROM audit_events`).map((r) => r.action);
    for (const a of [
      'user.invite',
      'invite.accept',
      'user.confirm',
      'password.change',
      'keys.pregenerate',
      'user.reset',
      'user.revoke',
    ]) {
      expect(actions).toContain(a);
    }
  });
});
