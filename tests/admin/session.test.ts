import { sessionTokenHash } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('sign-in, sessions and sign-out', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack();
  });
  afterAll(() => stack?.close());

  const auditActions = async () =>
    (await stack.db.owner`SELECT action, outcome FROM audit_events ORDER BY seq`).map(
      (r) => `${r.action}:${r.outcome}`,
    );

  it('signs in: a __Host- cookie (HttpOnly, Secure, SameSite=Strict, Path=/), the user and a CSRF value', async () => {
    const { res, token, csrf } = await signIn(stack.app);
    expect(res.json().user).toEqual({ id: stack.ceremony.request.admin.id, email: ADMIN_EMAIL, role: 'key-admin' });
    const cookie = res.cookies.find((c) => c.name === '__Host-coffer');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.domain).toBeUndefined();
    expect(csrf).not.toBe(token);
    expect(res.headers['cache-control']).toBe('no-store');
    // The vault keeps SHA-256 of the token and a wrapped key, never the token.
    const rows = await stack.db.owner`SELECT token_hash, wrapped_key FROM sessions`;
    expect(rows.map((r) => r.token_hash)).toContain(sessionTokenHash(token));
    const dump = JSON.stringify(await stack.db.owner`SELECT * FROM sessions`);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(Buffer.from(token, 'base64url').toString('hex'));
    expect(await auditActions()).toContain('signin:success');
  });

  it('answers unknown email and wrong password with the same 401, after the same argon2id work', async () => {
    // The work is measured as this process's CPU time (argon2id runs on libuv's threads, which it
    // counts), not as wall time: on a loaded machine one descheduled moment can triple a wall time.
    const work = async (email: string) => {
      const start = process.cpuUsage();
      const res = await stack.app.inject({
        method: 'POST',
        url: '/api/session',
        payload: { email, password: 'not-the-password-at-all' },
      });
      const used = process.cpuUsage(start);
      return { cpuMs: (used.user + used.system) / 1000, res };
    };
    const wrong = await work(ADMIN_EMAIL);
    const unknown = await work('nobody@example.com');
    expect(wrong.res.statusCode).toBe(401);
    expect(unknown.res.statusCode).toBe(401);
    expect(unknown.res.body).toBe(wrong.res.body);
    // Both paths run one argon2id call (~0.1 s of CPU here); without the dummy call the unknown
    // email would cost a few milliseconds.
    expect(unknown.cpuMs).toBeGreaterThan(wrong.cpuMs / 3);
    expect(await auditActions()).toEqual(expect.arrayContaining(['signin:failure']));
  });

  it('signs out: 204, the session row and its wrapped key are gone, the cookie opens nothing', async () => {
    const { cookie, csrf, token } = await signIn(stack.app);
    const hash = sessionTokenHash(token);
    expect((await stack.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(200);
    const out = await stack.app.inject({
      method: 'DELETE',
      url: '/api/session',
      headers: { cookie, 'x-coffer-csrf': csrf },
    });
    expect(out.statusCode).toBe(204);
    expect(await stack.db.owner`SELECT 1 FROM sessions WHERE token_hash = ${hash}`).toHaveLength(0);
    expect((await stack.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
    expect(await auditActions()).toContain('signout:success');
  });

  it('refuses a sign-out without the CSRF header (403, audited), and keeps the session', async () => {
    const { cookie, token } = await signIn(stack.app);
    const res = await stack.app.inject({ method: 'DELETE', url: '/api/session', headers: { cookie } });
    expect(res.statusCode).toBe(403);
    expect(res.json().type).toBe('urn:coffer:problem:csrf');
    expect(await stack.db.owner`SELECT 1 FROM sessions WHERE token_hash = ${sessionTokenHash(token)}`).toHaveLength(1);
    expect(await auditActions()).toContain('signout:denied');
  });

  it('expires a session after 15 idle minutes and after 8 hours however active', async () => {
    const idle = await signIn(stack.app);
    stack.advance(14 * 60_000);
    expect(
      (await stack.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: idle.cookie } })).statusCode,
    ).toBe(200);
    stack.advance(14 * 60_000);
    expect(
      (await stack.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: idle.cookie } })).statusCode,
    ).toBe(200);
    stack.advance(16 * 60_000);
    expect(
      (await stack.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: idle.cookie } })).statusCode,
    ).toBe(401);
    expect(
      await stack.db.owner`SELECT 1 FROM sessions WHERE token_hash = ${sessionTokenHash(idle.token)}`,
    ).toHaveLength(0);

    const busy = await signIn(stack.app);
    for (let elapsed = 0; elapsed < 8 * 60; elapsed += 10) {
      stack.advance(10 * 60_000);
      const res = await stack.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: busy.cookie } });
      if (elapsed + 10 < 8 * 60) expect(res.statusCode).toBe(200);
      else expect(res.statusCode).toBe(401);
    }
  });

  it('locks the account after 10 failed sign-ins for 30 minutes (423), audited', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await stack.app.inject({
        method: 'POST',
        url: '/api/session',
        payload: { email: ADMIN_EMAIL, password: `wrong-${i}` },
      });
      expect(res.statusCode).toBe(401);
    }
    const locked = await stack.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    expect(locked.statusCode).toBe(423);
    expect(await auditActions()).toContain('signin.lockout:success');
    stack.advance(31 * 60_000);
    expect((await signIn(stack.app)).res.statusCode).toBe(200);
  });
});
