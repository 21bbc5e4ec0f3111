import type { RecordDelivery } from '@coffer/bus';
import { recordBinding, seal } from '@coffer/crypto';
import { encodeJson, newRecordId, type RecordMessage, type RecordMessageV1 } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, insertDataKey, type VaultDatabase } from '../testing/vault-database.ts';
import { storeRecordBatch } from './store-records.ts';

const available = await postgresAvailable();

describe.skipIf(!available)('storing records from the stream', () => {
  let db: VaultDatabase;
  let keyId: string;
  let key: Awaited<ReturnType<typeof insertDataKey>>['key'];
  beforeAll(async () => {
    db = await createVaultDatabase();
    ({
      key,
      bundle: { id: keyId },
    } = await insertDataKey(db.owner, new Date(Date.now() - 1000), new Date(Date.now() + 1e9)));
  });
  afterAll(() => db?.drop());

  function message(overrides: Partial<RecordMessageV1> = {}): RecordMessageV1 {
    const id = overrides.id ?? newRecordId();
    const sealed = seal(key.publicKey, Buffer.from('4111111111111111'), recordBinding(id, 'pan', keyId));
    return {
      v: 1,
      id,
      type: 'pan',
      keyId,
      hint: '1111',
      submittedAt: new Date().toISOString(),
      sealed: sealed.toString('base64'),
      ...overrides,
    };
  }
  const deliver = (m: unknown, msgId?: string): RecordDelivery => ({
    data: typeof m === 'string' ? Buffer.from(m) : encodeJson(m),
    msgId: msgId ?? (m as RecordMessage).id,
  });

  it('stores a batch in one go, and a redelivered batch is a no-op', async () => {
    const batch = Array.from({ length: 50 }, () => deliver(message()));
    expect(await storeRecordBatch(db.runtime, batch)).toEqual({ stored: 50, duplicates: 0, deadLetters: 0 });
    expect(await storeRecordBatch(db.runtime, batch)).toEqual({ stored: 0, duplicates: 50, deadLetters: 0 });
    const ids = batch.map((d) => d.msgId as string);
    const [{ count }] = (await db.runtime`SELECT count(*)::int AS count FROM records WHERE id = ANY(${ids})`) as [
      { count: number },
    ];
    expect(count).toBe(50);
  });

  it('stores one row for a record delivered twice in the same batch', async () => {
    const m = deliver(message());
    expect(await storeRecordBatch(db.runtime, [m, m])).toEqual({ stored: 1, duplicates: 1, deadLetters: 0 });
  });

  it('dead-letters a row the database refuses and stores the rest of the batch', async () => {
    // A hint the schema allows but the column check refuses would stall the stream forever if the
    // batch were only ever retried whole; here the CHECK is tightened to make one row unstorable.
    await db.owner`ALTER TABLE records ADD CONSTRAINT test_no_hint_0000 CHECK (hint IS DISTINCT FROM '0000')`;
    try {
      const bad = deliver(message({ hint: '0000' }));
      const good = [deliver(message()), deliver(message())];
      expect(await storeRecordBatch(db.runtime, [good[0], bad, good[1]] as RecordDelivery[])).toEqual({
        stored: 2,
        duplicates: 0,
        deadLetters: 1,
      });
      const [row] = await db.runtime`SELECT reason FROM dead_letters WHERE msg_id = ${bad.msgId as string}`;
      expect(row?.reason).toMatch(/refused by the database: .*test_no_hint_0000/);
    } finally {
      await db.owner`ALTER TABLE records DROP CONSTRAINT test_no_hint_0000`;
    }
  });

  it('dates retention from its own receipt time, whatever submittedAt says', async () => {
    const receivedAt = new Date('2030-06-01T12:00:00.000Z');
    // Ingest claims a time a minute earlier (within the skew), and the stream took it then too.
    const m = message({ submittedAt: new Date(receivedAt.getTime() - 60_000).toISOString() });
    const d = { ...deliver(m), streamedAt: new Date(receivedAt.getTime() - 60_000) };
    expect(await storeRecordBatch(db.runtime, [d], { pan: 30 }, receivedAt)).toMatchObject({ stored: 1 });
    const [row] = await db.runtime<{ expires_at: Date }[]>`SELECT expires_at FROM records WHERE id = ${m.id}`;
    expect(row?.expires_at.toISOString()).toBe('2030-07-01T12:00:00.000Z');
  });

  it('stores a record that waited days in the stream for the vault (a backlog is not a refusal)', async () => {
    const submitted = new Date(Date.now() - 5 * 86_400_000);
    const m = message({ submittedAt: submitted.toISOString() });
    const d = { ...deliver(m), streamedAt: new Date(submitted.getTime() + 20) };
    expect(await storeRecordBatch(db.runtime, [d])).toMatchObject({ stored: 1, deadLetters: 0 });
  });

  it.each([
    [
      'a submittedAt that is not a real instant',
      () => deliver(message({ submittedAt: '2026-13-45T00:00:00.000Z' })),
      /not a real instant/,
    ],
    ['not JSON', () => deliver('{"v":1,', newRecordId()), /not UTF-8 JSON/],
    ['an unknown field', () => deliver({ ...message(), extra: 1 }), /invalid at/],
    ['a wrong version', () => deliver({ ...message(), v: 3 }), /invalid at \/v/],
    ['a v2 message without sealedBy', () => deliver({ ...message(), v: 2 }), /invalid at \/sealedBy/],
    ['a hint of more than four digits', () => deliver(message({ hint: '411111' })), /invalid at \/hint/],
    ['a hint on a secret', () => deliver(message({ type: 'secret' })), /hint does not fit/],
    ['a card number without a hint', () => deliver(message({ hint: null })), /hint does not fit/],
    [
      'an SSN hint of 0000, a serial never issued',
      () => deliver(message({ type: 'ssn', hint: '0000' })),
      /hint does not fit/,
    ],
    [
      'a submittedAt far in the future (9999-12-31)',
      () => deliver(message({ submittedAt: '9999-12-31T23:59:59.999Z' })),
      /later than the vault received/,
    ],
    [
      'a submittedAt an hour ahead of the vault',
      () => deliver(message({ submittedAt: new Date(Date.now() + 3_600_000).toISOString() })),
      /later than the vault received/,
    ],
    [
      'a submittedAt long before the stream took it',
      () => ({
        ...deliver(message({ submittedAt: '2001-01-01T00:00:00.000Z' })),
        streamedAt: new Date(),
      }),
      /well before the stream took/,
    ],
    ['a msg id that is not the record id', () => deliver(message(), newRecordId()), /does not match/],
    ['a sealed value that is not a sealed blob', () => deliver(message({ sealed: 'AAAA' })), /not a v1 sealed blob/],
    ['an unknown data key', () => deliver(message({ keyId: 'dk-unknown' })), /unknown data key/],
  ])('keeps %s in dead_letters with its reason, and stores the rest', async (_name, make, reason) => {
    const bad = make();
    const good = deliver(message());
    expect(await storeRecordBatch(db.runtime, [bad, good])).toMatchObject({ stored: 1, deadLetters: 1 });
    const [row] = await db.runtime`SELECT reason, payload FROM dead_letters WHERE msg_id = ${bad.msgId as string}`;
    expect(row?.reason).toMatch(reason);
    expect(Buffer.compare(row?.payload, Buffer.from(bad.data))).toBe(0);
  });
});
