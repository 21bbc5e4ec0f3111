/**
 * Strict input at the admin edge (issue 9, item 11): bad ids and impossible dates are a 400 that
 * names what is wrong, never a 5xx or an empty 200; `POST /api/me/totp` needs no body.
 */
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('strict input at the edge', () => {
  let stack: AdminStack;
  let admin: Signed;
  beforeAll(async () => {
    stack = await startAdminStack();
    await stack.addRecord('secret', 'edge-input-value-1');
    admin = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  const auditRows = async () => Number((await stack.db.owner`SELECT count(*) AS n FROM audit_events`)[0]?.n);

  it('refuses a NUL (or any non-UUID) in a reveal id with 400, and audits nothing', async () => {
    const before = await auditRows();
    for (const id of ['0190a0a0-0000-7000-8000-00000000000%00', 'not-a-uuid']) {
      const res = await call(stack.app, admin, 'POST', `/api/records/${id}/reveal`, { reason: 'case 1' });
      expect(res.statusCode).toBe(400);
    }
    expect(await auditRows()).toBe(before);
  });

  it('refuses impossible dates in an export filter with 400 naming the field', async () => {
    for (const [field, value] of [
      ['from', '2024-13-01T00:00:00Z'],
      ['to', '2024-02-30T00:00:00Z'],
      ['from', '2023-02-29T12:00:00.000Z'],
    ] as const) {
      const res = await call(stack.app, admin, 'POST', '/api/exports', { reason: 'quarterly', [field]: value });
      expect(res.statusCode).toBe(400);
      if (value !== '2024-13-01T00:00:00Z') expect(res.json().detail).toContain(field);
    }
  });

  it('refuses a too-large limit or page number with 400 naming the field, never clamping it', async () => {
    for (const url of [
      '/api/records?limit=501',
      '/api/records/search?limit=1000',
      '/api/audit?limit=99999999999999999999',
      '/api/audit/events?limit=0',
    ]) {
      const res = await call(stack.app, admin, 'GET', url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().field, url).toBe('limit');
      expect(res.json().detail, url).toContain('limit');
    }
    const after = await call(stack.app, admin, 'GET', '/api/audit/events?after=12345678901234567890');
    expect(after.statusCode).toBe(400);
    expect(after.json().field).toBe('after');
    expect((await call(stack.app, admin, 'GET', '/api/records?limit=500')).statusCode).toBe(200);
  });

  it('refuses a NUL in any id path parameter with 400, never 5xx', async () => {
    const nul = '0190a0a0-0000-7000-8000-00000000000%00';
    for (const [method, url] of [
      ['POST', `/api/users/${nul}/confirm`],
      ['DELETE', `/api/users/${nul}`],
      ['POST', `/api/users/${nul}/reset`],
      ['POST', `/api/users/${nul}/reinvite`],
      ['POST', `/api/users/${nul}/enrol-code`],
      ['POST', `/api/records/%00/reveal`],
    ] as const) {
      const res = await call(stack.app, admin, method, url, method === 'POST' ? {} : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(400);
    }
  });

  it('refuses bidi and line-break control characters in free text bound for the audit log (400)', async () => {
    const before = await auditRows();
    const [{ id }] = (await stack.db.owner`SELECT id FROM records LIMIT 1`) as unknown as [{ id: string }];
    for (const reason of ['case 12\u202e3 21 esac', 'case 12\nsignin success', 'case\u2066 12', 'case\u2028 12']) {
      const reveal = await call(stack.app, admin, 'POST', `/api/records/${id}/reveal`, { reason });
      expect(reveal.statusCode).toBe(400);
      const exp = await call(stack.app, admin, 'POST', '/api/exports', { reason });
      expect(exp.statusCode).toBe(400);
    }
    const signin = await stack.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { email: 'evil\u202e@example.com', password: 'whatever-it-is' },
    });
    expect(signin.statusCode).toBe(400);
    expect(await auditRows()).toBe(before);
  });

  it('refuses an invite or passkey token that is not canonical base64url with 400, never 5xx', async () => {
    // 43 characters of the right alphabet whose last one carries set padding bits: not 32 bytes.
    const token = `${'A'.repeat(42)}B`;
    for (const url of ['/api/invites/lookup', '/api/invites/accept']) {
      const res = await call(stack.app, undefined, 'POST', url, {
        token,
        ...(url.endsWith('accept') ? { password: 'violet-harbour-compass-7342-quietly' } : {}),
      });
      expect(res.statusCode, url).toBe(400);
    }
    const passkey = await stack.app.inject({
      method: 'POST',
      url: '/api/session/passkey',
      headers: { cookie: `__Host-coffer-passkey=${token}` },
      payload: {
        challengeId: 'x',
        prf: 'A'.repeat(43),
        assertion: {
          id: 'AAAAAAAAAAAAAAAAAAAAAA',
          rawId: 'AAAAAAAAAAAAAAAAAAAAAA',
          type: 'public-key',
          response: { clientDataJSON: 'AAAA' },
          clientExtensionResults: {},
        },
      },
    });
    expect(passkey.statusCode).toBe(400);
  });

  it('accepts POST /api/me/totp with no body at all, and refuses a body that is not {}', async () => {
    const none = await stack.app.inject({
      method: 'POST',
      url: '/api/me/totp',
      headers: { cookie: admin.cookie, 'x-coffer-csrf': admin.csrf },
    });
    // No body is fine; this confirmed key-admin then needs an enrolment code (issue 9 item 3).
    expect(none.statusCode).toBe(403);
    expect(none.json().type).toBe('urn:coffer:problem:enrol-code-required');
    const junk = await call(stack.app, admin, 'POST', '/api/me/totp', { extra: 1 });
    expect(junk.statusCode).toBe(400);
  });
});
