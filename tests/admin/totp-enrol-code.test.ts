/**
 * First TOTP enrolment is not trust-on-first-use (issue 9 item 3): the password of a confirmed
 * account alone never enrols its first authenticator. Before confirmation the invitee enrols with
 * the password they just set; afterwards only with a one-time code another key-admin issues
 * (single use, 15 minutes, stored hashed, audited); the first key-admin enrols at init.
 */
import { callVault, type VaultRefused } from '@coffer/bus';
import { sessionTokenHash } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-compass-7342-quietly';
const STEP_MS = 30_000;

function code(stack: AdminStack, secret: string): string {
  const t = stack.now().getTime();
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30, timestamp: t });
}

describe.skipIf(!available)('first TOTP enrolment needs more than the password', () => {
  let stack: AdminStack;
  let admin: Signed;
  let viewerId: string;
  const VIEWER = 'grace.hopper@example.com';

  beforeAll(async () => {
    stack = await startAdminStack();
    admin = await signIn(stack.app);
    viewerId = (await enrolUser(stack.app, admin, VIEWER, 'viewer', STRONG)).id;
  });
  afterAll(() => stack?.close());

  const audit = (action: string) =>
    stack.db.owner`SELECT actor, target, outcome, details FROM audit_events WHERE action = ${action} ORDER BY seq`;
  const pending = async (id: string) =>
    (await stack.db.owner`SELECT totp_pending, totp_sealed FROM users WHERE id = ${id}`)[0];

  it("refuses a confirmed account's first enrolment on the password alone (403, nothing pending, audited)", async () => {
    // Whoever holds only the password signs in and tries to enrol their own authenticator.
    const thief = await signIn(stack.app, VIEWER, STRONG);
    const res = await call(stack.app, thief, 'POST', '/api/me/totp', {});
    expect(res.statusCode).toBe(403);
    expect(res.json().type).toBe('urn:coffer:problem:enrol-code-required');
    expect(res.json().title).toMatch(/enrolment code from a key-admin/);
    expect(await pending(viewerId)).toEqual({ totp_pending: null, totp_sealed: null });
    // Straight over the bus too: the vault decides, not the admin plane.
    const err = await callVault(stack.adminBus, 'totp.pending', {
      v: 1,
      session: sessionTokenHash(thief.token),
      sealed: Buffer.from('not even sealed').toString('base64'),
    }).catch((e: unknown) => e);
    expect((err as VaultRefused).code).toBe('enrol-code-required');
    expect(await audit('totp.enrol-code')).toEqual([
      expect.objectContaining({ actor: viewerId, outcome: 'denied', details: { error: 'enrol-code-required' } }),
      expect.objectContaining({ actor: viewerId, outcome: 'denied', details: { error: 'enrol-code-required' } }),
    ]);
  });

  it('lets a key-admin issue a one-time code for someone else (not themselves), stored only hashed, audited', async () => {
    const self = await call(stack.app, admin, 'POST', `/api/users/${stack.ceremony.request.admin.id}/enrol-code`, {});
    expect(self.statusCode).toBe(409);
    const issued = await call(stack.app, admin, 'POST', `/api/users/${viewerId}/enrol-code`, {});
    expect(issued.statusCode).toBe(201);
    expect(issued.headers['cache-control']).toBe('no-store');
    const { code: enrolCode, expiresAt } = issued.json() as { code: string; expiresAt: string };
    expect(enrolCode).toMatch(/^[A-Z2-9]{5}(-[A-Z2-9]{5}){3}$/);
    const ttl = Date.parse(expiresAt) - stack.now().getTime();
    expect(ttl).toBeGreaterThan(14 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(15 * 60 * 1000);
    const rows = await stack.db.owner`SELECT * FROM totp_enrol_codes`;
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(enrolCode.replaceAll('-', ''));
    const events = await audit('user.enrol-code');
    expect(events.map((e) => e.outcome)).toEqual(['denied', 'success']);
    expect(JSON.stringify(events)).not.toContain(enrolCode.replaceAll('-', ''));
    // A viewer cannot issue one.
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    expect((await call(stack.app, viewer, 'POST', `/api/users/${viewerId}/enrol-code`, {})).statusCode).toBe(403);

    // A wrong code is refused and leaves the right one usable; the right one works once.
    const wrong = await call(stack.app, viewer, 'POST', '/api/me/totp', { enrolCode: 'AAAAA-AAAAA-AAAAA-AAAAA' });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().type).toBe('urn:coffer:problem:enrol-code-invalid');
    const offered = await call(stack.app, viewer, 'POST', '/api/me/totp', { enrolCode: enrolCode.toLowerCase() });
    expect(offered.statusCode).toBe(200);
    expect(await stack.db.owner`SELECT 1 FROM totp_enrol_codes`).toHaveLength(0);
    const again = await call(stack.app, viewer, 'POST', '/api/me/totp', { enrolCode });
    expect(again.json().type).toBe('urn:coffer:problem:enrol-code-invalid');
    // The refused re-offer replaced nothing: the authorised pending secret still enrols.
    stack.advance(STEP_MS - (stack.now().getTime() % STEP_MS) + 50);
    const verify = await call(stack.app, viewer, 'POST', '/api/me/totp/verify', {
      code: code(stack, offered.json().secret),
    });
    expect(verify.statusCode).toBe(204);
    expect((await pending(viewerId))?.totp_sealed).toBeInstanceOf(Buffer);
    expect((await audit('totp.enrol')).at(-1)).toMatchObject({ outcome: 'success' });
  });

  it('refuses an expired code', async () => {
    const other = (await enrolUser(stack.app, admin, 'alan.turing@example.com', 'auditor', STRONG)).id;
    const { code: enrolCode } = (await call(stack.app, admin, 'POST', `/api/users/${other}/enrol-code`, {})).json();
    stack.advance(15 * 60 * 1000 + 1000);
    const auditor = await signIn(stack.app, 'alan.turing@example.com', STRONG);
    const late = await call(stack.app, auditor, 'POST', '/api/me/totp', { enrolCode });
    expect(late.statusCode).toBe(403);
    expect(late.json().type).toBe('urn:coffer:problem:enrol-code-invalid');
    expect(await pending(other)).toEqual({ totp_pending: null, totp_sealed: null });
  });

  it('lets an invitee enrol with their password before confirmation, so the key-admin confirms a second factor', async () => {
    admin = await signIn(stack.app); // the last test's clock jump ended the old session
    const invite = await call(stack.app, admin, 'POST', '/api/users', { email: 'edsger@example.com', role: 'viewer' });
    expect(invite.statusCode, invite.body).toBe(201);
    const { id, inviteToken } = invite.json();
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: STRONG,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const invitee = await signIn(stack.app, 'edsger@example.com', STRONG);
    const offered = await call(stack.app, invitee, 'POST', '/api/me/totp', {});
    expect(offered.statusCode).toBe(200);
    stack.advance(STEP_MS - (stack.now().getTime() % STEP_MS) + 50);
    const verify = await call(stack.app, invitee, 'POST', '/api/me/totp/verify', {
      code: code(stack, offered.json().secret),
    });
    expect(verify.statusCode).toBe(204);
    const people = (await call(stack.app, admin, 'GET', '/api/users')).json().items as { id: string; mfa: boolean }[];
    expect(people.find((p) => p.id === id)).toMatchObject({ status: 'unconfirmed', mfa: true });
    const confirmed = await call(stack.app, admin, 'POST', `/api/users/${id}/confirm`, {
      fingerprint: accepted.json().fingerprint,
    });
    expect(confirmed.statusCode).toBe(200);
  });
});
