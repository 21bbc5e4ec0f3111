/**
 * Role binding at confirmation (issue 9, item 1): the role certified and the keys wrapped follow
 * the invitation the key-admin signed with the org key, not the role the database holds.
 */
import { describe, expect, it } from 'vitest';
import { call } from '../support/admin-stack.ts';
import { signedInStack, stackAvailable } from '../support/signed-in-stack.ts';

const STRONG = 'violet-harbour-compass-7342-quietly';

describe.skipIf(!stackAvailable)('role binding at confirmation', () => {
  const t = signedInStack();

  const inviteAndAccept = async (email: string, role: string) => {
    const invite = await call(t.stack.app, t.admin, 'POST', '/api/users', { email, role });
    expect(invite.statusCode).toBe(201);
    expect(invite.json().role).toBe(role);
    const { id, inviteToken } = invite.json();
    const accepted = await call(t.stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: STRONG,
    });
    expect(accepted.statusCode).toBe(200);
    return { id: id as string, fingerprint: accepted.json().fingerprint as string };
  };
  const wrappedTo = async (id: string) =>
    t.stack.db.owner`SELECT key_kind FROM wrapped_keys WHERE recipient_kind = 'user' AND recipient_id = ${id}`;

  it('stores a signed invitation naming the user, email and role', async () => {
    const { id } = await inviteAndAccept('signed.viewer@example.com', 'viewer');
    const [row] = await t.stack.db.owner`SELECT invitation, invitation_signature FROM users WHERE id = ${id}`;
    expect(row?.invitation).toMatchObject({ v: 1, userId: id, email: 'signed.viewer@example.com', role: 'viewer' });
    expect(row?.invitation_signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it("a database writer who flips an invited auditor's role to key-admin gets nothing at confirmation", async () => {
    const auditor = await inviteAndAccept('flipped.auditor@example.com', 'auditor');
    await t.stack.db.owner`UPDATE users SET role = 'key-admin' WHERE id = ${auditor.id}`;
    const res = await call(t.stack.app, t.admin, 'POST', `/api/users/${auditor.id}/confirm`, {
      fingerprint: auditor.fingerprint,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().type).toMatch(/role-mismatch/);
    expect(await wrappedTo(auditor.id)).toHaveLength(0);
    const [row] = await t.stack.db.owner`SELECT status, certificate_signature FROM users WHERE id = ${auditor.id}`;
    expect(row).toMatchObject({ status: 'unconfirmed', certificate_signature: null });
    const [denied] = await t.stack.db.owner`SELECT details FROM audit_events
      WHERE action = 'user.confirm' AND outcome = 'denied' ORDER BY seq DESC LIMIT 1`;
    expect(denied?.details).toMatchObject({ reason: 'role binding' });
    // Flipped back, the signed role is confirmed and stated: no data key, no org key.
    await t.stack.db.owner`UPDATE users SET role = 'auditor' WHERE id = ${auditor.id}`;
    const ok = await call(t.stack.app, t.admin, 'POST', `/api/users/${auditor.id}/confirm`, {
      fingerprint: auditor.fingerprint,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ role: 'auditor', wrappedKeys: 0 });
    expect(await wrappedTo(auditor.id)).toHaveLength(0);
  });

  it('a database writer who moves a signed key-admin invitation onto another row gets nothing', async () => {
    const ka = await inviteAndAccept('real.key-admin@example.com', 'key-admin');
    const other = await inviteAndAccept('other.viewer@example.com', 'viewer');
    await t.stack.db.owner`UPDATE users u SET role = 'key-admin', invitation = s.invitation,
        invitation_signature = s.invitation_signature
      FROM users s WHERE s.id = ${ka.id} AND u.id = ${other.id}`;
    const res = await call(t.stack.app, t.admin, 'POST', `/api/users/${other.id}/confirm`, {
      fingerprint: other.fingerprint,
    });
    expect(res.statusCode).toBe(409);
    expect(await wrappedTo(other.id)).toHaveLength(0);
  });

  it('refuses a confirmation for a user with no signed invitation (invited before role binding)', async () => {
    const { id, fingerprint } = await inviteAndAccept('unsigned.viewer@example.com', 'viewer');
    await t.stack.db.owner`UPDATE users SET invitation = NULL, invitation_signature = NULL WHERE id = ${id}`;
    const res = await call(t.stack.app, t.admin, 'POST', `/api/users/${id}/confirm`, { fingerprint });
    expect(res.statusCode).toBe(409);
    expect(await wrappedTo(id)).toHaveLength(0);
  });
});
