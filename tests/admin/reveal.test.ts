import { deriveCsrfToken } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

const PAN = '4111111111111111';
const SSN = '123-45-6789';
const SECRET = 'hunter2: the launch code is 0000 (do not share)';

describe.skipIf(!available)('POST /api/records/:id/reveal', () => {
  let stack: AdminStack;
  let auth: Awaited<ReturnType<typeof signIn>>;
  const ids: Record<'pan' | 'ssn' | 'secret', string> = { pan: '', ssn: '', secret: '' };

  beforeAll(async () => {
    stack = await startAdminStack();
    ids.pan = await stack.addRecord('pan', PAN);
    ids.ssn = await stack.addRecord('ssn', SSN);
    ids.secret = await stack.addRecord('secret', SECRET);
    auth = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  const reveal = (id: string, reason: unknown, headers: Record<string, string> = {}) =>
    stack.app.inject({
      method: 'POST',
      url: `/api/records/${encodeURIComponent(id)}/reveal`,
      headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf, ...headers },
      payload: { reason },
    });

  const lastAudit = async () => {
    const [row] = await stack.db.owner`SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1`;
    return row;
  };
  const auditCount = async () => Number((await stack.db.owner`SELECT count(*) AS n FROM audit_events`)[0]?.n);

  /** Row count and a digest of every column of every record: any change shows. */
  const recordsDigest = async () =>
    (
      await stack.db.owner`SELECT count(*)::int AS n,
        md5(coalesce(string_agg(r::text, '|' ORDER BY r.id), '')) AS digest FROM records r`
    )[0];

  const verifyChain = async () =>
    (await stack.app.inject({ method: 'GET', url: '/api/audit/verify', headers: { cookie: auth.cookie } })).json();

  it.each([
    ['pan', PAN],
    ['ssn', SSN],
    ['secret', SECRET],
  ] as const)(
    'a key-admin reveals a %s: the exact value, no-store, audited with the reason first',
    async (type, value) => {
      const reason = `ticket CHG-${type}-1234: customer dispute`;
      const res = await reveal(ids[type], reason);
      expect(res.statusCode).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.json()).toEqual({ id: ids[type], type, value, matchesType: true });
      const event = await lastAudit();
      expect(event).toMatchObject({
        actor: stack.ceremony.request.admin.id,
        action: 'record.reveal',
        target: ids[type],
        reason,
        outcome: 'success',
      });
    },
  );

  it('refuses a reason shorter than 3 characters (400) and returns no value', async () => {
    for (const reason of ['', 'ab']) {
      const res = await reveal(ids.pan, reason);
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain(PAN);
    }
    const missing = await stack.app.inject({
      method: 'POST',
      url: `/api/records/${ids.pan}/reveal`,
      headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
      payload: {},
    });
    expect(missing.statusCode).toBe(400);
  });

  it('refuses a reveal without (or with a wrong) X-Coffer-CSRF: 403, audited as denied, no value', async () => {
    for (const headers of [{}, { 'x-coffer-csrf': 'not-the-csrf-value' }, { 'x-coffer-csrf': auth.token }]) {
      const before = await auditCount();
      const res = await stack.app.inject({
        method: 'POST',
        url: `/api/records/${ids.ssn}/reveal`,
        headers: { cookie: auth.cookie, ...headers },
        payload: { reason: 'looking without the header' },
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().type).toBe('urn:coffer:problem:csrf');
      expect(res.body).not.toContain(SSN);
      expect(await auditCount()).toBe(before + 1);
      expect(await lastAudit()).toMatchObject({
        actor: stack.ceremony.request.admin.id,
        action: 'record.reveal',
        outcome: 'denied',
      });
    }
  });

  it('refuses a reveal without a session cookie (401), and with a cookie that is not a live session', async () => {
    const none = await stack.app.inject({
      method: 'POST',
      url: `/api/records/${ids.pan}/reveal`,
      headers: { 'x-coffer-csrf': auth.csrf },
      payload: { reason: 'no cookie at all' },
    });
    expect(none.statusCode).toBe(401);
    expect(none.body).not.toContain(PAN);
    // A well-formed token with its own CSRF value, but no session behind it.
    const token = Buffer.alloc(32, 7).toString('base64url');
    const forged = await reveal(ids.pan, 'a made-up token', {
      cookie: `__Host-coffer=${token}`,
      'x-coffer-csrf': deriveCsrfToken(token),
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.body).not.toContain(PAN);
  });

  it('answers an unknown record id with 404 and an audited failure', async () => {
    const unknown = '01900000-0000-7000-8000-000000000000';
    const res = await reveal(unknown, 'checking a record that is not there');
    expect(res.statusCode).toBe(404);
    expect(res.json().type).toBe('urn:coffer:problem:not-found');
    expect(await lastAudit()).toMatchObject({
      action: 'record.reveal',
      target: unknown,
      reason: 'checking a record that is not there',
      outcome: 'failure',
      details: { error: 'not-found' },
    });
  });

  it('treats SQL-injection strings as ids and reasons as data: 4xx, records untouched, chain intact', async () => {
    const digest = await recordsDigest();
    expect(digest?.n).toBe(3);
    const attacks = [
      "1' OR '1'='1",
      "'; DROP TABLE records; --",
      `${ids.pan}' OR '1'='1`,
      `${ids.pan}'; DELETE FROM records; --`,
      "' UNION SELECT sealed FROM records --",
      '1; TRUNCATE audit_events',
      '%27%20OR%201%3D1--',
      '$$; DROP TABLE records; $$',
    ];
    for (const id of attacks) {
      const res = await reveal(id, "x' OR '1'='1'; DROP TABLE audit_events; --");
      expect(res.statusCode, id).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, id).toBeLessThan(500);
      for (const value of [PAN, SSN, SECRET]) expect(res.body).not.toContain(value);
    }
    // An injection string as the reason of a real reveal is stored verbatim, nothing more.
    const reason = "'); UPDATE records SET type = 'ssn'; --";
    const ok = await reveal(ids.pan, reason);
    expect(ok.statusCode).toBe(200);
    expect(await lastAudit()).toMatchObject({ action: 'record.reveal', reason, outcome: 'success' });
    // Double-encoded and raw (unencoded) forms in the path itself.
    for (const url of [
      `/api/records/1'%20OR%20'1'%3D'1/reveal`,
      `/api/records/%2527%3B%20DROP%20TABLE%20records%3B%20--/reveal`,
    ]) {
      const res = await stack.app.inject({
        method: 'POST',
        url,
        headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
        payload: { reason: 'raw injection in the path' },
      });
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, url).toBeLessThan(500);
    }
    expect(await recordsDigest()).toEqual(digest);
    expect(
      await stack.db.owner`SELECT to_regclass('public.records') AS t, to_regclass('public.audit_events') AS a`,
    ).toEqual([{ t: 'records', a: 'audit_events' }]);
    expect(await verifyChain()).toMatchObject({ ok: true });
  });

  it('refuses a reason PostgreSQL cannot store (a NUL character) as a bad request, not as an audit outage', async () => {
    const res = await reveal(ids.pan, 'reason with a \u0000 NUL');
    expect(res.body).not.toContain(PAN);
    expect(res.statusCode, res.body).toBe(400);
  });

  it('blocks the reveal when the audit write fails: 503 audit-unavailable, no value', async () => {
    const before = await auditCount();
    await stack.db.owner`REVOKE INSERT ON audit_events FROM coffer_vault`;
    try {
      for (const [id, value] of [
        [ids.pan, PAN],
        [ids.secret, SECRET],
      ] as const) {
        const res = await reveal(id, 'audit log is down, this must not reveal');
        expect(res.statusCode).toBe(503);
        expect(res.json().type).toBe('urn:coffer:problem:audit-unavailable');
        expect(res.body).not.toContain(value);
        expect(res.body).not.toContain(Buffer.from(value).toString('base64'));
      }
    } finally {
      await stack.db.owner`GRANT INSERT ON audit_events TO coffer_vault`;
    }
    expect(await auditCount()).toBe(before);
    // With the grant back, the same reveal works and is audited.
    const res = await reveal(ids.pan, 'audit log is back');
    expect(res.statusCode).toBe(200);
    expect(res.json().value).toBe(PAN);
    expect(await verifyChain()).toMatchObject({ ok: true });
  });
});
