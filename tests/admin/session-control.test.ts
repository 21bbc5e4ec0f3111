/**
 * Session control (issue 16 item 2) on a real vault, PostgreSQL and NATS: key-admins list every
 * live session and end any; a person ends their own other sessions; a viewer can do neither to
 * anyone else; an ended session's wrapped key is gone at once and its cookie gets 401; audited.
 */
import { sessionTokenHash } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-compass-7342-quietly';
const VIEWER = 'vic.viewer@example.com';

interface Live {
  id: string;
  email: string;
  current: boolean;
  ip: string | null;
  userAgent: string | null;
  mfa: string;
  createdAt: string;
  lastSeenAt: string;
}

describe.skipIf(!available)('session control', () => {
  let stack: AdminStack;
  let admin: Signed;

  beforeAll(async () => {
    stack = await startAdminStack();
    admin = await signIn(stack.app);
    await enrolUser(stack.app, admin, VIEWER, 'viewer', STRONG);
  });
  afterAll(() => stack?.close());

  const sessionIdOf = async (who: Signed) =>
    ((await stack.db.owner`SELECT id FROM sessions WHERE token_hash = ${sessionTokenHash(who.token)}`)[0]?.id ??
      null) as string | null;

  it('lists every live session for a key-admin: user, IP, user agent, started, last used, MFA kind', async () => {
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    const res = await call(stack.app, admin, 'GET', '/api/sessions');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const items = res.json().items as Live[];
    const mine = items.find((s) => s.current);
    expect(mine?.email).toBe('key.admin@example.com');
    const viewerSession = await sessionIdOf(viewer);
    const theirs = items.find((s) => s.id === viewerSession);
    expect(theirs).toMatchObject({ email: VIEWER, ip: '127.0.0.1', mfa: 'none', current: false });
    expect(theirs?.userAgent).toContain('lightMyRequest');
    expect(Date.parse(theirs?.createdAt ?? '')).not.toBeNaN();
    expect(Date.parse(theirs?.lastSeenAt ?? '')).not.toBeNaN();
  });

  it('refuses a viewer listing or ending other people’s sessions (403 / 404), audited, nothing ended', async () => {
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    const adminSession = (await sessionIdOf(admin)) as string;
    expect((await call(stack.app, viewer, 'GET', '/api/sessions')).statusCode).toBe(403);
    expect((await call(stack.app, viewer, 'DELETE', `/api/sessions/${adminSession}`)).statusCode).toBe(403);
    // Through the own-session route another person's session is simply not found.
    expect((await call(stack.app, viewer, 'DELETE', `/api/me/sessions/${adminSession}`)).statusCode).toBe(404);
    expect((await call(stack.app, admin, 'GET', '/api/me')).statusCode).toBe(200);
    const denied = await stack.db.owner`SELECT action FROM audit_events WHERE outcome = 'denied'
      AND action IN ('sessions.list', 'session.end')`;
    expect(denied.map((r) => r.action).sort()).toEqual(['session.end', 'sessions.list']);
  });

  it('ends any session as a key-admin: the wrapped key is gone at once, the next request 401, audited', async () => {
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    const id = (await sessionIdOf(viewer)) as string;
    expect((await call(stack.app, viewer, 'GET', '/api/me')).statusCode).toBe(200);
    const res = await call(stack.app, admin, 'DELETE', `/api/sessions/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ended: 1 });
    expect(await stack.db.owner`SELECT wrapped_key FROM sessions WHERE id = ${id}`).toHaveLength(0);
    expect((await call(stack.app, viewer, 'GET', '/api/me')).statusCode).toBe(401);
    const [event] = await stack.db.owner`SELECT actor, target, outcome, details FROM audit_events
      WHERE action = 'session.end' AND outcome = 'success' AND target = ${id}`;
    expect(event).toMatchObject({ outcome: 'success', details: { by: 'key-admin' } });
    expect(event?.actor).toBe(stack.ceremony.request.admin.id);
    // Ending it again finds nothing.
    expect((await call(stack.app, admin, 'DELETE', `/api/sessions/${id}`)).statusCode).toBe(404);
  });

  it('lets a person end one of their own other sessions, never the current one through this route', async () => {
    const a = await signIn(stack.app, VIEWER, STRONG);
    const b = await signIn(stack.app, VIEWER, STRONG);
    const bId = (await sessionIdOf(b)) as string;
    const aId = (await sessionIdOf(a)) as string;
    expect((await call(stack.app, a, 'DELETE', `/api/me/sessions/${aId}`)).statusCode).toBe(404);
    const res = await call(stack.app, a, 'DELETE', `/api/me/sessions/${bId}`);
    expect(res.statusCode).toBe(200);
    expect((await call(stack.app, b, 'GET', '/api/me')).statusCode).toBe(401);
    expect((await call(stack.app, a, 'GET', '/api/me')).statusCode).toBe(200);
    const [event] = await stack.db.owner`SELECT details FROM audit_events
      WHERE action = 'session.end' AND target = ${bId}`;
    expect(event?.details).toMatchObject({ by: 'self' });
  });

  it('needs the CSRF header to end a session, and a well-formed id', async () => {
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    const id = (await sessionIdOf(viewer)) as string;
    const noCsrf = await stack.app.inject({
      method: 'DELETE',
      url: `/api/sessions/${id}`,
      headers: { cookie: admin.cookie },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect((await call(stack.app, viewer, 'GET', '/api/me')).statusCode).toBe(200);
    expect((await call(stack.app, admin, 'DELETE', '/api/sessions/not-a-uuid')).statusCode).toBe(400);
  });
});
