import type { RecordDelivery } from '@coffer/bus';
import { recordBinding, seal } from '@coffer/crypto';
import { encodeJson, newRecordId, type RecordMessage, type RecordType } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVaultDatabase, insertDataKey, type VaultDatabase } from '../testing/vault-database.ts';
import { verifyAuditChain } from './audit.ts';
import { purgeExpired } from './purge.ts';
import { type Retention, storeRecordBatch } from './store-records.ts';

const available = await postgresAvailable();
const DAY = 86_400_000;
const t0 = new Date('2027-01-01T00:00:00.000Z');
const at = (days: number) => new Date(t0.getTime() + days * DAY);

type DataKey = Awaited<ReturnType<typeof insertDataKey>>;

describe.skipIf(!available)('retention and purge', () => {
  let db: VaultDatabase;
  // Two back-to-back 90-day keys from t0, and a third that starts at day 180.
  let first: DataKey;
  let second: DataKey;
  let third: DataKey;
  beforeEach(async () => {
    db = await createVaultDatabase();
    first = await insertDataKey(db.owner, at(0), at(90));
    second = await insertDataKey(db.owner, at(90), at(180));
    third = await insertDataKey(db.owner, at(180), at(270));
  });
  afterEach(() => db?.drop());

  /** Store records through the stream path, as the vault would, submitted at `day`. */
  async function store(key: DataKey, day: number, count: number, retention: Retention, type: RecordType = 'pan') {
    const batch: RecordDelivery[] = Array.from({ length: count }, () => {
      const id = newRecordId();
      const sealed = seal(key.key.publicKey, Buffer.from('4111111111111111'), recordBinding(id, type, key.bundle.id));
      const m: RecordMessage = {
        v: 1,
        id,
        type,
        keyId: key.bundle.id,
        hint: type === 'secret' ? null : '1111',
        submittedAt: at(day).toISOString(),
        sealed: sealed.toString('base64'),
      };
      return { data: encodeJson(m), msgId: id };
    });
    expect(await storeRecordBatch(db.runtime, batch, retention)).toMatchObject({ stored: count, deadLetters: 0 });
    return batch.map((d) => d.msgId as string);
  }
  const remaining = async (ids: string[]) =>
    (await db.runtime<{ id: string }[]>`SELECT id FROM records WHERE id = ANY(${ids})`).length;
  const keyExists = async (key: DataKey) =>
    (await db.runtime`SELECT 1 FROM data_keys WHERE id = ${key.bundle.id}`).length === 1;
  const events = async (action: string) => [
    ...(await db.runtime<{ target: string | null; actor: string; outcome: string; at: Date; details: unknown }[]>`
      SELECT target, actor, outcome, at, details FROM audit_events WHERE action = ${action} ORDER BY seq`),
  ];
  const allSeqs = async () =>
    (await db.runtime<{ seq: string }[]>`SELECT seq FROM audit_events ORDER BY seq`).map((r) => r.seq);
  async function wrapCopies(key: DataKey, recipients: string[]) {
    for (const recipient of recipients) {
      await db.owner`INSERT INTO wrapped_keys (key_kind, key_id, recipient_kind, recipient_id, wrapped)
        VALUES ('data', ${key.bundle.id}, ${recipient === 'recovery' ? 'recovery' : 'user'}, ${recipient}, ${Buffer.from('w')})`;
    }
  }
  const copiesOf = async (kind: string, keyId: string) =>
    (await db.runtime`SELECT 1 FROM wrapped_keys WHERE key_kind = ${kind} AND key_id = ${keyId}`).length;

  it('sets expires_at to submitted_at plus the retention of the type, and leaves it NULL without one', async () => {
    const retention: Retention = { pan: 30, ssn: 365 };
    const ids = [
      ...(await store(first, 10, 1, retention, 'pan')),
      ...(await store(first, 10, 1, retention, 'ssn')),
      ...(await store(first, 10, 1, retention, 'secret')),
      ...(await store(first, 10, 1, {}, 'pan')),
    ];
    const rows = await db.runtime<{ id: string; expires_at: Date | null }[]>`
      SELECT id, expires_at FROM records WHERE id = ANY(${ids})`;
    const expires = new Map(rows.map((r) => [r.id, r.expires_at?.toISOString() ?? null]));
    // pan: 30 days; ssn: 365 days; secret: none in the map; pan stored without a map: none.
    expect(ids.map((id) => expires.get(id))).toEqual([at(40).toISOString(), at(375).toISOString(), null, null]);
  });

  it('deletes records whose expires_at has come, keeps the rest, and audits one event per run', async () => {
    const early = await store(first, 10, 5, { pan: 30 }); // expire at day 40
    const late = await store(first, 20, 3, { pan: 30 }); // expire at day 50
    const forever = await store(first, 10, 2, {});
    expect(await purgeExpired(db.runtime, at(40))).toEqual({ records: 5, dataKeys: 0 });
    expect(await remaining(early)).toBe(0);
    expect(await remaining(late)).toBe(3);
    expect(await remaining(forever)).toBe(2);
    expect(await events('records.purge')).toEqual([
      { target: null, actor: 'vault', outcome: 'success', at: at(40), details: { count: 5 } },
    ]);
    // A millisecond before the next ones expire, nothing goes.
    expect(await purgeExpired(db.runtime, new Date(at(50).getTime() - 1))).toEqual({ records: 0, dataKeys: 0 });
    expect(await remaining(late)).toBe(3);
  });

  it('deletes a backlog larger than one batch, and still writes one event', async () => {
    await db.owner`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at, expires_at)
      SELECT gen_random_uuid(), 'secret', ${third.bundle.id}, decode('00', 'hex'), NULL, ${at(180)}, ${at(181)}
      FROM generate_series(1, 10005)`;
    expect(await purgeExpired(db.runtime, at(200))).toEqual({ records: 10005, dataKeys: 2 });
    expect((await db.runtime`SELECT count(*)::int AS n FROM records`)[0]?.n).toBe(0);
    expect((await events('records.purge')).map((e) => e.details)).toEqual([{ count: 10005 }]);
  });

  it('destroys a data key past its window with no records, with all its wrapped copies, and audits it', async () => {
    await wrapCopies(first, ['recovery', 'user-1', 'user-2']);
    await wrapCopies(second, ['recovery', 'user-1']);
    await db.owner`INSERT INTO wrapped_keys (key_kind, key_id, recipient_kind, recipient_id, wrapped)
      VALUES ('org', ${first.bundle.id}, 'recovery', 'recovery', ${Buffer.from('w')})`;
    expect(await purgeExpired(db.runtime, at(90))).toEqual({ records: 0, dataKeys: 1 });
    expect(await keyExists(first)).toBe(false);
    expect(await copiesOf('data', first.bundle.id)).toBe(0);
    // Only data-key copies of that key go: the second key's, and an org copy under the same id, stay.
    expect(await copiesOf('data', second.bundle.id)).toBe(2);
    expect(await copiesOf('org', first.bundle.id)).toBe(1);
    expect(await events('data-key.destroy')).toEqual([
      {
        target: first.bundle.id,
        actor: 'vault',
        outcome: 'success',
        at: at(90),
        details: { notBefore: at(0).toISOString(), notAfter: at(90).toISOString(), wrappedCopies: 3 },
      },
    ]);
  });

  it('keeps a data key past its window while records sealed to it remain, and destroys it once they are purged', async () => {
    await wrapCopies(first, ['recovery']);
    const records = await store(first, 80, 2, { pan: 30 }); // expire at day 110
    expect(await purgeExpired(db.runtime, at(100))).toEqual({ records: 0, dataKeys: 0 });
    expect(await keyExists(first)).toBe(true);
    expect(await copiesOf('data', first.bundle.id)).toBe(1);
    // Records kept forever keep their key forever.
    const forever = await store(second, 100, 1, {});
    expect(await purgeExpired(db.runtime, at(110))).toEqual({ records: 2, dataKeys: 1 });
    expect(await remaining(records)).toBe(0);
    expect(await keyExists(first)).toBe(false);
    expect(await copiesOf('data', first.bundle.id)).toBe(0);
    expect(await purgeExpired(db.runtime, at(1000))).toEqual({ records: 0, dataKeys: 1 });
    expect(await remaining(forever)).toBe(1);
    expect(await keyExists(second)).toBe(true);
    expect((await events('data-key.destroy')).map((e) => e.target)).toEqual([first.bundle.id, third.bundle.id]);
  });

  it('keeps a key when a record sealed to it commits while the key is being destroyed', async () => {
    // The record's INSERT holds a lock on the key row; the purge's DELETE waits for it, and the
    // foreign key then refuses the deletion.
    const writer = await db.owner.reserve();
    try {
      await writer`BEGIN`;
      await writer`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
        VALUES (${newRecordId()}, 'secret', ${first.bundle.id}, ${Buffer.from('s')}, NULL, ${at(89)})`;
      const purge = purgeExpired(db.runtime, at(100));
      let blocked = false;
      for (let i = 0; i < 500 && !blocked; i++) {
        const waiting = await db.owner`SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM data_keys%'`;
        blocked = waiting.length > 0;
        if (!blocked) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(blocked).toBe(true);
      await writer`COMMIT`;
      expect(await purge).toEqual({ records: 0, dataKeys: 0 });
    } finally {
      await writer`ROLLBACK`; // only a warning once committed; ends the transaction if a check failed
      writer.release();
    }
    expect(await keyExists(first)).toBe(true);
    expect(await events('data-key.destroy')).toEqual([]);
  });

  it('keeps a current or future data key with no records', async () => {
    await wrapCopies(second, ['recovery']);
    // Day 100: the second key's window is current, the third's is still ahead.
    expect(await purgeExpired(db.runtime, at(100))).toEqual({ records: 0, dataKeys: 1 });
    expect(await keyExists(first)).toBe(false);
    expect(await keyExists(second)).toBe(true);
    expect(await keyExists(third)).toBe(true);
    expect(await copiesOf('data', second.bundle.id)).toBe(1);
    // A millisecond before its window ends it is still current; at the end it goes.
    expect(await purgeExpired(db.runtime, new Date(at(180).getTime() - 1))).toEqual({ records: 0, dataKeys: 0 });
    expect(await purgeExpired(db.runtime, at(180))).toEqual({ records: 0, dataKeys: 1 });
    expect(await keyExists(second)).toBe(false);
  });

  it('is a no-op the second time it runs at the same instant: nothing deleted, no second event', async () => {
    await store(first, 10, 4, { pan: 30 });
    await store(second, 95, 1, { pan: 1 });
    // Day 200: both records' retention and the first two keys' windows are over.
    expect(await purgeExpired(db.runtime, at(200))).toEqual({ records: 5, dataKeys: 2 });
    const before = await allSeqs();
    expect(before).toHaveLength(3);
    expect(await purgeExpired(db.runtime, at(200))).toEqual({ records: 0, dataKeys: 0 });
    expect(await allSeqs()).toEqual(before);
  });

  it('leaves an audit chain that still verifies', async () => {
    await store(first, 10, 3, { pan: 30 });
    await store(second, 100, 2, { pan: 30 });
    await purgeExpired(db.runtime, at(45));
    await purgeExpired(db.runtime, at(135));
    await purgeExpired(db.runtime, at(300));
    const actions = (await db.runtime<{ action: string }[]>`SELECT action FROM audit_events ORDER BY seq`).map(
      (r) => r.action,
    );
    expect(actions).toEqual([
      'records.purge',
      'records.purge',
      'data-key.destroy',
      'data-key.destroy',
      'data-key.destroy',
    ]);
    expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 5 });
  });
});
