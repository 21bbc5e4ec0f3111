/**
 * The console's API beyond the core contract: people list and re-invite, records and audit search
 * (newest first, filters, paging both ways), own sessions, the sign-in answers the portal reads
 * (a code needed, locked with the time to wait) — on a real vault, PostgreSQL and NATS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type AdminStack,
  call,
  enrolUser,
  type Signed,
  signIn,
} from '../support/admin-stack.ts';
import { signedInStack, stackAvailable } from '../support/signed-in-stack.ts';

const STRONG = 'violet-harbour-compass-7342-quietly';
const DAY = 24 * 3600_000;

describe.skipIf(!stackAvailable)('console API', () => {
  const t = signedInStack();
  let stack: AdminStack;
  let admin: Signed;
  let auditor: Signed;

  beforeAll(async () => {
    ({ stack, admin } = t);
    await enrolUser(stack.app, admin, 'audra.auditor@example.com', 'auditor', STRONG);
    auditor = await signIn(stack.app, 'audra.auditor@example.com', STRONG);
  });

  it('lists people for key-admins only, with role, status, MFA, last sign-in and key fingerprint', async () => {
    const invited = await call(stack.app, admin, 'POST', '/api/users', { email: 'ivy@example.com', role: 'viewer' });
    const res = await call(stack.app, admin, 'GET', '/api/users');
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Record<string, unknown>[];
    const me = items.find((u) => u.email === ADMIN_EMAIL);
    expect(me).toMatchObject({ role: 'key-admin', status: 'active', mfa: false, inviteExpiresAt: null });
    expect(Date.parse(me?.lastSigninAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(me?.fingerprint).toMatch(/^[0-9a-f ]{20,}$/i);
    expect(items.find((u) => u.email === 'audra.auditor@example.com')).toMatchObject({ status: 'active' });
    expect(items.find((u) => u.id === invited.json().id)).toMatchObject({
      status: 'invited',
      fingerprint: null,
      lastSigninAt: null,
      inviteExpiresAt: invited.json().expiresAt,
    });
    expect(items.every((u) => !('publicKey' in u))).toBe(true);
    const refused = await call(stack.app, auditor, 'GET', '/api/users');
    expect(refused.statusCode).toBe(403);
    expect((await call(stack.app, undefined, 'GET', '/api/users')).statusCode).toBe(401);
  });

  it('re-sends an expired invite: a new link works, the old one does not, audited', async () => {
    const invited = await call(stack.app, admin, 'POST', '/api/users', { email: 'late@example.com', role: 'viewer' });
    const { id, inviteToken: old } = invited.json();
    stack.advance(DAY + 60_000);
    const stale = await call(stack.app, undefined, 'POST', '/api/invites/accept', { token: old, password: STRONG });
    expect(stale.statusCode).toBe(404);
    admin = await signIn(stack.app); // the old session idled out meanwhile
    const again = await call(stack.app, admin, 'POST', `/api/users/${id}/reinvite`, {});
    expect(again.statusCode).toBe(200);
    expect(Date.parse(again.json().expiresAt) - stack.now().getTime()).toBeGreaterThan(23.9 * 3600_000);
    expect(again.json().inviteToken).not.toBe(old);
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: again.json().inviteToken,
      password: STRONG,
    });
    expect(accepted.statusCode).toBe(200);
    // Only someone still invited can be re-invited; CSRF is required; auditors may not.
    expect((await call(stack.app, admin, 'POST', `/api/users/${id}/reinvite`, {})).statusCode).toBe(404);
    const noCsrf = await stack.app.inject({
      method: 'POST',
      url: `/api/users/${id}/reinvite`,
      headers: { cookie: admin.cookie },
      payload: {},
    });
    expect(noCsrf.statusCode).toBe(403);
    auditor = await signIn(stack.app, 'audra.auditor@example.com', STRONG);
    expect((await call(stack.app, auditor, 'POST', `/api/users/${id}/reinvite`, {})).statusCode).toBe(403);
    const [event] = await stack.db.owner`SELECT actor, outcome FROM audit_events
      WHERE action = 'user.reinvite' AND target = ${id}`;
    expect(event).toMatchObject({ outcome: 'success' });
  });

  it('searches records by type and submission time, newest first, paging with before', async () => {
    const t0 = stack.now().getTime();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await stack.addRecord(i % 2 ? 'ssn' : 'pan', i % 2 ? '123-45-6789' : '4111111111111111'));
      stack.advance(60_000);
    }
    const all = await call(stack.app, auditor, 'GET', '/api/records/search?limit=2');
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((r: { id: string }) => r.id)).toEqual([ids[4], ids[3]]);
    const page2 = await call(stack.app, auditor, 'GET', `/api/records/search?limit=2&before=${all.json().next}`);
    expect(page2.json().items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const ssn = await call(stack.app, auditor, 'GET', '/api/records/search?type=ssn');
    expect(ssn.json().items.map((r: { id: string }) => r.id)).toEqual([ids[3], ids[1]]);
    const from = new Date(t0 + 90_000).toISOString();
    const to = new Date(t0 + 150_000).toISOString();
    const window = await call(stack.app, auditor, 'GET', `/api/records/search?from=${from}&to=${to}`);
    expect(window.json()).toMatchObject({
      items: [{ id: ids[2], type: 'pan', hint: '1111', hintSource: 'ingest' }],
      next: null,
    });
    expect((await call(stack.app, auditor, 'GET', '/api/records/search?from=yesterday')).statusCode).toBe(400);
    expect((await call(stack.app, auditor, 'GET', '/api/records/search?limit=0')).statusCode).toBe(400);
  });

  it('searches the audit log newest first, pages both ways, filters, names actors by email', async () => {
    const newest = await call(stack.app, auditor, 'GET', '/api/audit/events?limit=3');
    expect(newest.statusCode).toBe(200);
    const [max] = await stack.db.owner<{ seq: string }[]>`SELECT max(seq) AS seq FROM audit_events`;
    const first = newest.json();
    expect(first.items[0].seq).toBe(Number(max?.seq));
    expect(first.items.map((e: { seq: number }) => e.seq)).toEqual(
      [...first.items.map((e: { seq: number }) => e.seq)].sort((a, b) => b - a),
    );
    expect(first.newer).toBeNull();
    const older = (await call(stack.app, auditor, 'GET', `/api/audit/events?limit=3&before=${first.older}`)).json();
    expect(older.items[0].seq).toBe(first.items.at(-1).seq - 1);
    expect(older.newer).toBe(older.items[0].seq);
    const back = (await call(stack.app, auditor, 'GET', `/api/audit/events?limit=3&after=${older.newer}`)).json();
    expect(back.items.map((e: { seq: number }) => e.seq)).toEqual(first.items.map((e: { seq: number }) => e.seq));
    expect(back.newer).toBeNull();

    const byEmail = (
      await call(
        stack.app,
        auditor,
        'GET',
        `/api/audit/events?actor=${encodeURIComponent(ADMIN_EMAIL.toUpperCase())}&action=user.invite`,
      )
    ).json();
    expect(byEmail.items.length).toBe(3);
    expect(
      byEmail.items.every(
        (e: { actorEmail: string; action: string }) => e.actorEmail === ADMIN_EMAIL && e.action === 'user.invite',
      ),
    ).toBe(true);
    const denied = (await call(stack.app, auditor, 'GET', '/api/audit/events?outcome=denied')).json();
    expect(denied.items.some((e: { action: string }) => e.action === 'user.reinvite')).toBe(true);
    const future = new Date(stack.now().getTime() + DAY).toISOString();
    expect((await call(stack.app, auditor, 'GET', `/api/audit/events?from=${future}`)).json().items).toEqual([]);
    expect((await call(stack.app, auditor, 'GET', '/api/audit/events?before=5&after=2')).statusCode).toBe(400);
    expect((await call(stack.app, auditor, 'GET', '/api/audit/events?outcome=maybe')).statusCode).toBe(400);
    const viewer = await enrolUser(stack.app, admin, 'vic.viewer@example.com', 'viewer', STRONG);
    expect(viewer.id).toBeTruthy();
    const asViewer = await signIn(stack.app, 'vic.viewer@example.com', STRONG);
    // A viewer reads their own trail only.
    const own = await call(stack.app, asViewer, 'GET', '/api/audit/events');
    expect(own.statusCode).toBe(200);
    expect(own.json().items.length).toBeGreaterThan(0);
    expect(own.json().items.every((e: { actor: string }) => e.actor === viewer.id)).toBe(true);
  });

  it('lists own live sessions and ends the others, audited; the ended ones stop working', async () => {
    const a = await signIn(stack.app, 'audra.auditor@example.com', STRONG);
    const b = await signIn(stack.app, 'audra.auditor@example.com', STRONG);
    const list = await call(stack.app, a, 'GET', '/api/me/sessions');
    expect(list.statusCode).toBe(200);
    const items = list.json().items as { current: boolean; origin: string; mfa: boolean }[];
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.filter((s) => s.current)).toHaveLength(1);
    expect(items[0]?.origin).toContain('127.0.0.1');
    const ended = await call(stack.app, a, 'POST', '/api/me/sessions/end-others', {});
    expect(ended.json().ended).toBeGreaterThanOrEqual(2);
    expect((await call(stack.app, b, 'GET', '/api/me')).statusCode).toBe(401);
    expect((await call(stack.app, a, 'GET', '/api/me')).statusCode).toBe(200);
    expect((await call(stack.app, a, 'GET', '/api/me/sessions')).json().items).toHaveLength(1);
    // Another user's sessions are untouched.
    expect((await call(stack.app, admin, 'GET', '/api/me')).statusCode).toBe(200);
    const [event] = await stack.db.owner`SELECT details FROM audit_events WHERE action = 'sessions.end-others'`;
    expect(event?.details).toMatchObject({ ended: ended.json().ended });
  });

  it('gives a reloaded page its live session and CSRF value, and an invitee whom the invite is for', async () => {
    const live = await call(stack.app, admin, 'GET', '/api/session');
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ user: { email: ADMIN_EMAIL, role: 'key-admin' }, csrf: admin.csrf });
    expect(live.headers['cache-control']).toBe('no-store');
    expect((await call(stack.app, undefined, 'GET', '/api/session')).statusCode).toBe(401);
    const invited = await call(stack.app, admin, 'POST', '/api/users', { email: 'nia@example.com', role: 'auditor' });
    const token = invited.json().inviteToken as string;
    const lookup = await call(stack.app, undefined, 'POST', '/api/invites/lookup', { token });
    expect(lookup.json()).toEqual({ email: 'nia@example.com', role: 'auditor' });
    // The first character changes the token's first byte; a changed last character can touch only
    // its padding bits (1 time in 16), which decodes as malformed (400), not as another token.
    const wrong = await call(stack.app, undefined, 'POST', '/api/invites/lookup', {
      token: `${token.startsWith('A') ? 'B' : 'A'}${token.slice(1)}`,
    });
    expect(wrong.statusCode).toBe(404);
    expect((await call(stack.app, undefined, 'POST', '/api/invites/lookup', { token: 'short' })).statusCode).toBe(400);
  });

  it('tells the portal what it needs: reveal time, and a locked sign-in with the time to wait', async () => {
    expect((await call(stack.app, undefined, 'GET', '/api/console')).json()).toEqual({
      revealSeconds: 30,
      idleSeconds: 900,
    });
    for (let i = 0; i < 11; i++) {
      await stack.app.inject({
        method: 'POST',
        url: '/api/session',
        payload: { email: 'nobody@example.com', password: 'wrong-wrong-wrong' },
      });
    }
    const locked = await stack.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { email: 'nobody@example.com', password: ADMIN_PASSWORD },
    });
    expect(locked.statusCode).toBe(423);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(29 * 60);
    expect(locked.json()).toMatchObject({ type: 'urn:coffer:problem:locked', detail: 'Try again in 30 minutes' });
  });
});
