import type { RecordDelivery } from '@coffer/bus';
import { RecordSealingContext, recordBinding, seal } from '@coffer/crypto';
import {
  encodeJson,
  newRecordId,
  type RecordBatchMessage,
  type RecordMessage,
  type RecordMessageV1,
} from '@coffer/protocol';
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
  function v1WithV2Blob(): RecordMessage {
    const m = message();
    const context = RecordSealingContext.create(key.publicKey, keyId);
    return { ...m, sealed: context.seal(m.id, 'pan', Buffer.from('4111111111111111')).toString('base64') };
  }

  /** A version-2 batch of `n` records sealed under one context (ingest's group commit). */
  function batchMessage(n: number, context = RecordSealingContext.create(key.publicKey, keyId)): RecordBatchMessage {
    const records = Array.from({ length: n }, () => {
      const id = newRecordId();
      return {
        id,
        type: 'pan' as const,
        keyId,
        hint: '1111',
        submittedAt: new Date().toISOString(),
        contextId: context.contextId,
        sealed: context.seal(id, 'pan', Buffer.from('4111111111111111')).toString('base64'),
      };
    });
    const contexts = [{ id: context.contextId, keyId, enc: context.enc.toString('base64') }];
    return { v: 3, batchId: crypto.randomUUID(), contexts, records };
  }
  const deliverBatch = (b: RecordBatchMessage, msgId = b.batchId): RecordDelivery => ({ data: encodeJson(b), msgId });

  it('stores a fetch of many full group-commit batches: more rows than one INSERT can bind (65,535 parameters)', async () => {
    // A backlog fetched 500 messages at a time, each of up to 256 records: 9 parameters a row
    // would pass PostgreSQL's 65,535 after 7,281 rows. 32 × 256 = 8,192 rows in one delivery.
    const context = RecordSealingContext.create(key.publicKey, keyId, 8192);
    const batches = Array.from({ length: 32 }, () => deliverBatch(batchMessage(256, context)));
    expect(await storeRecordBatch(db.runtime, batches)).toEqual({ stored: 8192, duplicates: 0, deadLetters: 0 });
    expect(await storeRecordBatch(db.runtime, batches)).toEqual({ stored: 0, duplicates: 8192, deadLetters: 0 });
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
    ['a wrong version', () => deliver({ ...message(), v: 4 }), /invalid at \/v/],
    ['a v2 message without sealedBy', () => deliver({ ...message(), v: 2 }), /invalid at \/sealedBy/],
    ['a version-1 record carrying a version-2 blob', () => deliver(v1WithV2Blob()), /blob version does not fit/],
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
    ['a sealed value that is not a sealed blob', () => deliver(message({ sealed: 'AAAA' })), /not a record blob/],
    ['an unknown data key', () => deliver(message({ keyId: 'dk-unknown' })), /unknown data key/],
  ])('keeps %s in dead_letters with its reason, and stores the rest', async (_name, make, reason) => {
    const bad = make();
    const good = deliver(message());
    expect(await storeRecordBatch(db.runtime, [bad, good])).toMatchObject({ stored: 1, deadLetters: 1 });
    const [row] = await db.runtime`SELECT reason, payload FROM dead_letters WHERE msg_id = ${bad.msgId as string}`;
    expect(row?.reason).toMatch(reason);
    expect(Buffer.compare(row?.payload, Buffer.from(bad.data))).toBe(0);
  });

  describe('version-3 batches', () => {
    it('stores every record of a batch and its context once; a redelivery and a record in two batches are no-ops', async () => {
      const context = RecordSealingContext.create(key.publicKey, keyId);
      const first = batchMessage(100, context);
      const second = batchMessage(20, context);
      // A record a client retried rides again in a later batch, with the same context.
      second.records.push(first.records[0] as RecordBatchMessage['records'][number]);
      expect(await storeRecordBatch(db.runtime, [deliverBatch(first)])).toEqual({
        stored: 100,
        duplicates: 0,
        deadLetters: 0,
      });
      expect(await storeRecordBatch(db.runtime, [deliverBatch(second), deliverBatch(first)])).toEqual({
        stored: 20,
        duplicates: 101,
        deadLetters: 0,
      });
      const [row] = await db.runtime`SELECT count(*)::int AS records, count(DISTINCT context_id)::int AS contexts,
          (SELECT enc FROM record_contexts WHERE id = ${context.contextId}) AS enc
        FROM records WHERE context_id = ${context.contextId}`;
      expect(row).toMatchObject({ records: 120, contexts: 1 });
      expect(Buffer.compare(row?.enc, context.enc)).toBe(0);
    });

    it.each([
      ['in an earlier fetch', true],
      ['in the same fetch, first', false],
    ])(
      'a forged context with a genuine id and another enc, stored %s, never opens the genuine records',
      async (_n, apart) => {
        const context = RecordSealingContext.create(key.publicKey, keyId);
        const genuine = batchMessage(3, context);
        const forgedEnc = RecordSealingContext.create(key.publicKey, keyId).enc.toString('base64');
        const forged: RecordBatchMessage = {
          ...genuine,
          batchId: crypto.randomUUID(),
          contexts: genuine.contexts.map((c) => ({ ...c, enc: forgedEnc })),
          records: genuine.records.map((r) => ({ ...r, id: newRecordId() })),
        };
        if (apart) {
          await storeRecordBatch(db.runtime, [deliverBatch(forged)]);
          await storeRecordBatch(db.runtime, [deliverBatch(genuine)]);
        } else {
          await storeRecordBatch(db.runtime, [deliverBatch(forged), deliverBatch(genuine)]);
        }
        const ids = genuine.records.map((r) => r.id);
        // What a reveal reads (records.ts): the enc of the exact context each record was sealed under.
        const rows = await db.runtime<{ id: string; enc: Buffer; legacy: Buffer }[]>`
        SELECT r.id, COALESCE(ce.enc, c.enc) AS enc, c.enc AS legacy FROM records r
        JOIN record_contexts c ON c.id = r.context_id
        LEFT JOIN record_context_encs ce ON ce.context_id = r.context_id AND ce.enc_sha256 = r.context_enc_sha256
        WHERE r.id = ANY(${ids})`;
        expect(rows).toHaveLength(3);
        for (const row of rows) {
          expect(row.legacy.toString('base64')).toBe(forgedEnc); // the forgery took the id's first row …
          expect(Buffer.compare(row.enc, context.enc)).toBe(0); // … and the genuine records still get theirs
        }
      },
    );

    it.each([
      [
        'a record naming a context the batch lacks',
        (b: RecordBatchMessage) => {
          (b.records[1] as { contextId: string }).contextId = crypto.randomUUID();
        },
        /context the batch does not carry/,
      ],
      [
        'a record whose key differs from its context',
        (b: RecordBatchMessage) => {
          (b.records[1] as { keyId: string }).keyId = 'dk-other';
        },
        /different keys/,
      ],
      [
        'a record with a version-1 blob',
        (b: RecordBatchMessage) => {
          const r = b.records[1] as { id: string; sealed: string };
          r.sealed = seal(key.publicKey, Buffer.from('x'), recordBinding(r.id, 'pan', keyId)).toString('base64');
        },
        /blob version does not fit/,
      ],
    ])('dead-letters %s alone and stores the rest of the batch', async (_name, spoil, reason) => {
      const b = batchMessage(3);
      spoil(b);
      const badId = (b.records[1] as { id: string }).id;
      expect(await storeRecordBatch(db.runtime, [deliverBatch(b)])).toEqual({
        stored: 2,
        duplicates: 0,
        deadLetters: 1,
      });
      const [row] = await db.runtime`SELECT reason FROM dead_letters WHERE msg_id = ${badId}`;
      expect(row?.reason).toMatch(reason);
    });

    it('dead-letters a whole batch whose message id is not its batch id', async () => {
      const b = batchMessage(2);
      const msgId = crypto.randomUUID();
      expect(await storeRecordBatch(db.runtime, [deliverBatch(b, msgId)])).toEqual({
        stored: 0,
        duplicates: 0,
        deadLetters: 1,
      });
      const [row] = await db.runtime`SELECT reason FROM dead_letters WHERE msg_id = ${msgId}`;
      expect(row?.reason).toMatch(/does not match the batch id/);
    });
  });
});
