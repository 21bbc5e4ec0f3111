/**
 * Record message v2 (sealed by the client, POST /v1/sealed-records): stored like any record, with
 * its hint marked as the client's; v1 messages still store as ingest-vouched.
 */
import { recordBinding, seal } from '@coffer/crypto';
import { encodeJson, newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, insertDataKey, type VaultDatabase } from '../testing/vault-database.ts';
import { storeRecordBatch } from './store-records.ts';

const available = await postgresAvailable();

describe.skipIf(!available)('storing client-sealed records', () => {
  let db: VaultDatabase;
  let data: Awaited<ReturnType<typeof insertDataKey>>;
  beforeAll(async () => {
    db = await createVaultDatabase();
    data = await insertDataKey(db.owner, new Date(Date.now() - 1000), new Date(Date.now() + 1e9));
  });
  afterAll(() => db?.drop());

  const message = (v: 1 | 2) => {
    const id = newRecordId();
    const blob = seal(data.key.publicKey, Buffer.from('123-45-6789'), recordBinding(id, 'ssn', data.bundle.id));
    return {
      v,
      id,
      type: 'ssn',
      keyId: data.bundle.id,
      hint: '6789',
      submittedAt: new Date().toISOString(),
      sealed: blob.toString('base64'),
      ...(v === 2 ? { sealedBy: 'client' } : {}),
    };
  };

  it('stores v2 with hint_source client and v1 with hint_source ingest', async () => {
    const v1 = message(1);
    const v2 = message(2);
    const batch = [v1, v2].map((m) => ({ data: encodeJson(m), msgId: m.id }));
    expect(await storeRecordBatch(db.runtime, batch)).toEqual({ stored: 2, duplicates: 0, deadLetters: 0 });
    const rows = await db.runtime<{ id: string; hint_source: string }[]>`
      SELECT id::text, hint_source FROM records WHERE id = ANY(${[v1.id, v2.id]})`;
    expect(Object.fromEntries(rows.map((r) => [r.id, r.hint_source]))).toEqual({
      [v1.id]: 'ingest',
      [v2.id]: 'client',
    });
  });
});
