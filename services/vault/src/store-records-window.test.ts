/**
 * A record (or record context) sealed to a data key whose window begins after the vault received
 * it is dead-lettered, not stored (review finding): ingest seals only to the key that covers now,
 * so only a forger — a bus operator, or whoever holds ingest's credential, who knows the public
 * keys of future windows — seals ahead, and a stored record would keep that key alive through a
 * revocation. Within the clock skew a rotation allows, it is stored.
 */
import type { RecordDelivery } from '@coffer/bus';
import { type PrivateKey, RecordSealingContext, recordBinding, seal } from '@coffer/crypto';
import { encodeJson, newRecordId, type RecordBatchMessage, type RecordMessageV1 } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, insertDataKey, type VaultDatabase } from '../testing/vault-database.ts';
import { MAX_CLOCK_SKEW_MS, storeRecordBatch } from './store-records.ts';

const available = await postgresAvailable();
const DAY = 86_400_000;

describe.skipIf(!available)('records sealed to a data key whose window has not begun', () => {
  let db: VaultDatabase;
  const receivedAt = new Date();
  type Key = { id: string; key: PrivateKey<'x25519'> };
  let current: Key;
  let future: Key;
  let soon: Key;
  const keyOf = async (from: number, to: number): Promise<Key> => {
    const made = await insertDataKey(db.owner, new Date(from), new Date(to));
    return { id: made.bundle.id, key: made.key };
  };
  beforeAll(async () => {
    db = await createVaultDatabase();
    const now = receivedAt.getTime();
    current = await keyOf(now - DAY, now + DAY);
    future = await keyOf(now + 30 * DAY, now + 60 * DAY);
    // Begins within the skew a rotation allows: an ingest whose clock runs ahead may use it.
    soon = await keyOf(now + MAX_CLOCK_SKEW_MS - 1000, now + 2 * DAY);
  });
  afterAll(() => db?.drop());

  const v1 = (k: Key): RecordDelivery => {
    const id = newRecordId();
    const m: RecordMessageV1 = {
      v: 1,
      id,
      type: 'secret',
      keyId: k.id,
      hint: null,
      submittedAt: receivedAt.toISOString(),
      sealed: seal(k.key.publicKey, Buffer.from('forged ahead'), recordBinding(id, 'secret', k.id)).toString('base64'),
    };
    return { data: encodeJson(m), msgId: id };
  };
  const v3 = (k: Key, n: number) => {
    const context = RecordSealingContext.create(k.key.publicKey, k.id);
    const records = Array.from({ length: n }, () => {
      const id = newRecordId();
      return {
        id,
        type: 'secret' as const,
        keyId: k.id,
        hint: null,
        submittedAt: receivedAt.toISOString(),
        contextId: context.contextId,
        sealed: context.seal(id, 'secret', Buffer.from('forged ahead')).toString('base64'),
      };
    });
    const batch: RecordBatchMessage = {
      v: 3,
      batchId: crypto.randomUUID(),
      contexts: [{ id: context.contextId, keyId: k.id, enc: context.enc.toString('base64') }],
      records,
    };
    return { delivery: { data: encodeJson(batch), msgId: batch.batchId } as RecordDelivery, batch };
  };
  const deadReason = async (msgId: string) =>
    (await db.runtime<{ reason: string }[]>`SELECT reason FROM dead_letters WHERE msg_id = ${msgId}`)[0]?.reason;
  const usesOf = async (keyId: string) => {
    const [row] = await db.runtime<{ records: number; contexts: number; encs: number }[]>`
      SELECT (SELECT count(*)::int FROM records WHERE data_key_id = ${keyId}) AS records,
             (SELECT count(*)::int FROM record_contexts WHERE data_key_id = ${keyId}) AS contexts,
             (SELECT count(*)::int FROM record_context_encs WHERE data_key_id = ${keyId}) AS encs`;
    return row;
  };

  it('dead-letters a version-1 record with its reason and stores the rest of the batch', async () => {
    const forged = v1(future);
    const genuine = v1(current);
    expect(await storeRecordBatch(db.runtime, [forged, genuine], {}, receivedAt)).toEqual({
      stored: 1,
      duplicates: 0,
      deadLetters: 1,
    });
    expect(await deadReason(forged.msgId as string)).toMatch(/whose window begins after the vault received it/);
    expect(await usesOf(future.id)).toEqual({ records: 0, contexts: 0, encs: 0 });
  });

  it('dead-letters every record of a batch under such a key and stores neither it nor its context', async () => {
    const forged = v3(future, 3);
    const genuine = v3(current, 2);
    expect(await storeRecordBatch(db.runtime, [forged.delivery, genuine.delivery], {}, receivedAt)).toEqual({
      stored: 2,
      duplicates: 0,
      deadLetters: 3,
    });
    for (const r of forged.batch.records) {
      expect(await deadReason(r.id)).toMatch(/whose window begins after the vault received it/);
    }
    expect(await usesOf(future.id)).toEqual({ records: 0, contexts: 0, encs: 0 });
    expect(await usesOf(current.id)).toMatchObject({ contexts: 1, encs: 1 });
  });

  it('stores a record under a key that begins within the clock skew a rotation allows', async () => {
    const early = v1(soon);
    expect(await storeRecordBatch(db.runtime, [early, v3(soon, 1).delivery], {}, receivedAt)).toEqual({
      stored: 2,
      duplicates: 0,
      deadLetters: 0,
    });
  });

  it('stores the same record once its window has begun (a backlog the vault reads later)', async () => {
    const held = v1(future);
    const later = new Date(receivedAt.getTime() + 30 * DAY);
    // submittedAt is a month before this receipt: as a stream backlog would be, streamed then.
    const delivery = { ...held, streamedAt: receivedAt };
    expect(await storeRecordBatch(db.runtime, [delivery], {}, later)).toMatchObject({ stored: 1, deadLetters: 0 });
  });
});
