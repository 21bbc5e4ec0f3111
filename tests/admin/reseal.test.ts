/**
 * Issue 15, item 3: `coffer reseal` moves every record of a superseded data key to the current
 * key, through the admin plane as a key-admin, rate-limited and resumable; afterwards the old key
 * is destroyed (no row, no wrapped copy, no record context) and every value opens unchanged with
 * the current key. Audited as one operation: a begin event and an end event with the counts.
 */

import { runReseal } from '@coffer/cli';
import { openRecord } from '@coffer/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, call } from '../support/admin-stack.ts';
import { signedInStack, stackAvailable } from '../support/signed-in-stack.ts';
import { dataKeyOf, userKeyOf } from '../support/user-keys.ts';

const COUNT = 300;

describe.skipIf(!stackAvailable)('coffer reseal (issue 15, item 3)', () => {
  const t = signedInStack();
  let adminUrl: string;

  beforeAll(async () => {
    adminUrl = await t.stack.app.listen({ host: '127.0.0.1', port: 0 });
  });

  it('moves every record to the current key, resumes when interrupted, and destroys the old key', async () => {
    const { stack, admin } = t;
    const values = new Map<string, string>();
    for (let i = 0; i < COUNT; i++) {
      const value = `value number ${i}`;
      values.set(await stack.addRecord('secret', value, null, i % 2 === 0 ? 1 : 2), value);
    }
    const [old] = stack.ceremony.request.dataKeys;
    const oldId = old?.bundle.id as string;
    // A fresh current window (as a revocation makes): the ceremony's key is superseded.
    expect((await call(stack.app, admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    // Re-sealing waits until records on their way to the superseded key have arrived.
    const early = await call(stack.app, admin, 'POST', '/api/reseal', { keyIds: [oldId] });
    expect(early.statusCode).toBe(409);
    stack.advance(11 * 60 * 1000);

    // Interrupted after one batch: the run is resumed by the next `coffer reseal`.
    const begun = await call(stack.app, admin, 'POST', '/api/reseal', { keyIds: [oldId] });
    expect(begun.json()).toMatchObject({ remaining: COUNT });
    const first = await call(stack.app, admin, 'POST', `/api/reseal/${begun.json().runId}/step`, { limit: 50 });
    expect(first.json()).toMatchObject({ moved: 50, remaining: COUNT - 50, done: false });

    const lines: string[] = [];
    const result = await runReseal({
      adminUrl,
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
      keyIds: [oldId],
      ratePerSecond: 5000,
      batch: 100,
      progress: (l) => lines.push(l),
    });
    expect(result).toMatchObject({ runId: begun.json().runId, moved: COUNT - 50, destroyedKeys: 1 });

    const db = stack.db.owner;
    expect(await db`SELECT 1 FROM data_keys WHERE id = ${oldId}`).toHaveLength(0);
    expect(await db`SELECT 1 FROM wrapped_keys WHERE key_id = ${oldId}`).toHaveLength(0);
    expect(await db`SELECT 1 FROM record_contexts WHERE data_key_id = ${oldId}`).toHaveLength(0);

    // Every value opens unchanged with the current key, as the key-admin holds it.
    const me = await userKeyOf(db, { email: ADMIN_EMAIL }, ADMIN_PASSWORD);
    const rows = await db<{ id: string; data_key_id: string; sealed: Buffer; enc: Buffer | null; wrapped: Buffer }[]>`
      SELECT r.id, r.data_key_id, r.sealed, c.enc, w.wrapped FROM records r
      LEFT JOIN record_contexts c ON c.id = r.context_id
      JOIN wrapped_keys w ON w.key_kind = 'data' AND w.key_id = r.data_key_id AND w.recipient_id = ${me.id}`;
    expect(rows).toHaveLength(COUNT);
    const keys = new Map<string, ReturnType<typeof dataKeyOf<'x25519'>>>();
    for (const r of rows) {
      expect(r.data_key_id).not.toBe(oldId);
      const key = keys.get(r.data_key_id) ?? dataKeyOf('x25519', me, r.data_key_id, r.wrapped);
      keys.set(r.data_key_id, key);
      const value = openRecord(key, r.sealed, {
        recordId: r.id,
        type: 'secret',
        dataKeyId: r.data_key_id,
        contextEnc: r.enc,
      });
      expect(value.toString('utf8')).toBe(values.get(r.id));
    }

    const audit = await db<{ action: string; details: Record<string, unknown> }[]>`
      SELECT action, details FROM audit_events WHERE action IN ('reseal.begin', 'reseal') ORDER BY seq`;
    expect(audit.map((a) => a.action)).toEqual(['reseal.begin', 'reseal']);
    expect(audit[1]?.details).toMatchObject({ records: COUNT, destroyedKeys: 1 });
    // A second run has nothing to do: the key is gone.
    const again = await call(stack.app, admin, 'POST', '/api/reseal', { keyIds: [oldId] });
    expect(again.statusCode).toBe(404);
  });
});
