import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { storedRowHash } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

const ITEM_KEYS = ['action', 'actor', 'at', 'outcome', 'reason', 'seq', 'target'];
const RECORD_KEYS = ['hint', 'hintSource', 'id', 'keyId', 'submittedAt', 'type'];

describe.skipIf(!available)('GET /api/audit, /api/audit/verify and /api/records', () => {
  let stack: AdminStack;
  let auth: Awaited<ReturnType<typeof signIn>>;
  const values = new Map<string, { type: string; value: string }>();

  beforeAll(async () => {
    stack = await startAdminStack();
    // 60 records (more than one default page of 50), of three types.
    for (let i = 0; i < 60; i++) {
      const type = (['pan', 'ssn', 'secret'] as const)[i % 3] as 'pan' | 'ssn' | 'secret';
      const value =
        type === 'pan'
          ? `4111${String(i).padStart(12, '0')}`
          : type === 'ssn'
            ? `123-45-${String(1000 + i)}`
            : `secret-${i}`;
      values.set(await stack.addRecord(type, value), { type, value });
    }
    auth = await signIn(stack.app);
    // A dozen audited reveals, so the log has pages to walk.
    for (const id of [...values.keys()].slice(0, 12)) {
      const res = await stack.app.inject({
        method: 'POST',
        url: `/api/records/${id}/reveal`,
        headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
        payload: { reason: `audit paging fixture ${id}` },
      });
      if (res.statusCode !== 200) throw new Error(`fixture reveal failed: ${res.body}`);
    }
  });
  afterAll(() => stack?.close());

  const get = (url: string) => stack.app.inject({ method: 'GET', url, headers: { cookie: auth.cookie } });
  const dbEvents = () => stack.db.owner`SELECT seq, action, reason FROM audit_events ORDER BY seq`;
  const verify = async () => (await get('/api/audit/verify')).json();

  it('lists audit events with exactly {seq, at, actor, action, target, reason, outcome}, no-store', async () => {
    const res = await get('/api/audit');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const page = res.json();
    const rows = await dbEvents();
    expect(page.items).toHaveLength(rows.length);
    expect(page.next).toBeNull();
    for (const item of page.items) {
      expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);
      expect(typeof item.seq).toBe('number');
      expect(new Date(item.at).toISOString()).toBe(item.at);
    }
    expect(page.items.map((i: { seq: number }) => i.seq)).toEqual(rows.map((r) => Number(r.seq)));
    expect(page.items.at(-1)).toMatchObject({ action: 'record.reveal', outcome: 'success' });
    // No value is ever part of the audit log.
    for (const { value } of values.values()) expect(res.body).not.toContain(value);
  });

  it('pages the audit log with after/limit, following next to the end', async () => {
    const rows = await dbEvents();
    const seen: number[] = [];
    let url = '/api/audit?limit=5';
    for (let guard = 0; guard < 20; guard++) {
      const res = await get(url);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: { seq: number }[]; next: number | null };
      expect(page.items.length).toBeLessThanOrEqual(5);
      seen.push(...page.items.map((i) => i.seq));
      if (page.next === null) break;
      expect(page.next).toBe(page.items.at(-1)?.seq);
      url = `/api/audit?after=${page.next}&limit=5`;
    }
    expect(seen).toEqual(rows.map((r) => Number(r.seq)));
  });

  it("answers the portal's own request, GET /api/audit?limit=200", async () => {
    const res = await get('/api/audit?limit=200');
    expect(res.statusCode, res.body).toBe(200);
  });

  it('verifies the chain: {ok: true, events, head}', async () => {
    const res = await get('/api/audit/verify');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const rows = await stack.db.owner`SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`;
    expect(res.json()).toEqual({
      ok: true,
      events: Number(rows[0]?.seq),
      head: rows[0]?.hash.toString('hex'),
      checkpoint: { status: 'off' }, // this stack signs no checkpoints; tests/audit-checkpoints.test.ts does
      checkpointKey: null,
    });
  });

  it('names the first edited event: {ok: false, brokenAt: seq}', async () => {
    const rows = await dbEvents();
    const target = rows[Math.floor(rows.length / 2)];
    const seq = Number(target?.seq);
    await stack.db.owner`UPDATE audit_events SET reason = 'x' WHERE seq = ${seq}`;
    try {
      expect(await verify()).toMatchObject({ ok: false, brokenAt: seq });
    } finally {
      await stack.db.owner`UPDATE audit_events SET reason = ${target?.reason ?? null} WHERE seq = ${seq}`;
    }
    expect(await verify()).toMatchObject({ ok: true });
    // A removed row is named too: the next sequence number is missing.
    const last = Number(rows.at(-1)?.seq);
    const [saved] = await stack.db.owner`SELECT * FROM audit_events WHERE seq = ${seq}`;
    await stack.db.owner`DELETE FROM audit_events WHERE seq = ${seq}`;
    try {
      expect(await verify()).toMatchObject({ ok: false, brokenAt: seq });
    } finally {
      if (saved) await stack.db.owner`INSERT INTO audit_events ${stack.db.owner(saved)}`;
    }
    expect(await verify()).toMatchObject({ ok: true, events: last });
  });

  it('lists records as metadata only, newest first, paged by before/next', async () => {
    const seen: string[] = [];
    let url = '/api/records';
    for (let guard = 0; guard < 10; guard++) {
      const res = await get(url);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      for (const { value } of values.values()) expect(res.body).not.toContain(value);
      const page = res.json() as { items: Record<string, unknown>[]; next: string | null };
      expect(page.items.length).toBeLessThanOrEqual(50);
      for (const item of page.items) {
        expect(Object.keys(item).sort()).toEqual(RECORD_KEYS);
        const known = values.get(item.id as string);
        expect(item.type).toBe(known?.type);
        expect(item.hint).toBe(known?.type === 'secret' ? null : known?.value.slice(-4));
        expect(item.keyId).toBe(stack.ceremony.request.dataKeys[0]?.bundle.id);
      }
      seen.push(...page.items.map((i) => i.id as string));
      if (page.next === null) break;
      expect(page.next).toBe(page.items.at(-1)?.id);
      url = `/api/records?before=${page.next}`;
    }
    expect(seen).toHaveLength(60);
    expect(seen).toEqual([...values.keys()].sort().reverse());
  });

  it('filters records by type, and pages the filtered list', async () => {
    for (const type of ['pan', 'ssn', 'secret']) {
      const page = (await get(`/api/records?type=${type}`)).json() as { items: { id: string; type: string }[] };
      const expected = [...values.entries()].filter(([, v]) => v.type === type).map(([id]) => id);
      expect(page.items.map((i) => i.id)).toEqual(expected.sort().reverse());
      expect(page.items.every((i) => i.type === type)).toBe(true);
      const rest = (await get(`/api/records?type=${type}&before=${expected[5]}`)).json() as { items: { id: string }[] };
      expect(rest.items.map((i) => i.id)).toEqual(expected.slice(6));
    }
    expect((await get('/api/records?type=iban')).statusCode).toBe(400);
  });

  it('pages records with an explicit limit', async () => {
    const res = await get('/api/records?limit=7');
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json() as { items: { id: string }[]; next: string | null };
    expect(page.items).toHaveLength(7);
    expect(page.next).toBe(page.items.at(-1)?.id);
  });

  it('answers a malformed before cursor with 400, not a vault failure', async () => {
    for (const before of ['-'.repeat(36), 'f'.repeat(36)]) {
      const res = await get(`/api/records?before=${before}`);
      expect(res.statusCode, `${before}: ${res.body}`).toBe(400);
    }
  });

  it('refuses the audit and records APIs without a session (401)', async () => {
    for (const url of ['/api/audit', '/api/audit/verify', '/api/records']) {
      expect((await stack.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    }
  });

  // Last: a failure here leaves an event that does not verify, which would mask the tests above.
  it('keeps every audit event verifiable when a field holds text PostgreSQL stores differently (lone surrogate)', async () => {
    /** Recompute one stored event's hash from its stored columns, as verifyAuditChain does. */
    const eventHolds = async (seq: number) => {
      const [row] = await stack.db.owner`SELECT * FROM audit_events WHERE seq = ${seq}`;
      if (!row) return false;
      return storedRowHash(row.prev_hash, row).equals(row.hash);
    };
    const head = async () => Number((await stack.db.owner`SELECT max(seq) AS s FROM audit_events`)[0]?.s);
    const [record] = values.keys();
    const attempts = {
      // Unauthenticated: a failed sign-in audits the email as its target.
      'sign-in email': () =>
        stack.app.inject({
          method: 'POST',
          url: '/api/session',
          payload: { email: 'nobody\ud800@example.com', password: 'whatever-password' },
        }),
      'reveal reason': () =>
        stack.app.inject({
          method: 'POST',
          url: `/api/records/${record}/reveal`,
          headers: { cookie: auth.cookie, 'x-coffer-csrf': auth.csrf },
          payload: { reason: 'lone \ud800 surrogate' },
        }),
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const before = await head();
      const res = await attempt();
      const after = await head();
      // Either refused before anything is written, or written so that it verifies.
      for (let seq = before + 1; seq <= after; seq++) {
        expect.soft(await eventHolds(seq), `${name}: event ${seq} (HTTP ${res.statusCode})`).toBe(true);
      }
    }
    expect(await verify()).toMatchObject({ ok: true });
  });
});
