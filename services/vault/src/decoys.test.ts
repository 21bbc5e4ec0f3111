import { randomBytes } from 'node:crypto';
import { newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, type VaultDatabase } from '../testing/vault-database.ts';
import { Decoys, decoyTag } from './decoys.ts';

const available = await postgresAvailable();

describe.skipIf(!available)('Decoys.find (issue 14: one read per page, no string per record)', () => {
  let db: VaultDatabase;
  const key = randomBytes(32);
  const decoys = new Decoys(key);
  const page = Array.from({ length: 4096 }, () => newRecordId());
  const planted = [page[0], page[1234], page[4095]] as string[];
  beforeAll(async () => {
    db = await createVaultDatabase();
    const elsewhere = Array.from({ length: 40 }, () => newRecordId());
    const tags = [...planted, ...elsewhere].map((id) => ({ tag: decoyTag(key, id) }));
    await db.owner`INSERT INTO decoy_tags ${db.owner(tags)}`;
  });
  afterAll(() => db?.drop());

  it('finds exactly the planted ids of a page, with few tags planted (all read) and with many (looked up)', async () => {
    expect([...(await decoys.find(db.runtime, page))].sort()).toEqual([...planted].sort());
    expect(await decoys.find(db.runtime, page.slice(1, 1234))).toEqual(new Set());
    // A reveal's one id is looked up by its own tag.
    expect(await decoys.find(db.runtime, [page[1234] as string])).toEqual(new Set([page[1234]]));
    expect(await decoys.find(db.runtime, [page[1233] as string])).toEqual(new Set());
    // Past 4,096 planted tags a page asks for its own tags instead of reading them all.
    await db.owner`INSERT INTO decoy_tags SELECT '\\x01'::bytea || sha256(i::text::bytea) FROM generate_series(1, 4100) i`;
    expect([...(await decoys.find(db.runtime, page))].sort()).toEqual([...planted].sort());
    expect(await decoys.find(db.runtime, [page[1234] as string])).toEqual(new Set([page[1234]]));
    expect(await decoys.find(db.runtime, page.slice(1, 1234))).toEqual(new Set());
  });

  it('tags under another key match nothing; without a key nothing is a decoy', async () => {
    expect(await new Decoys(randomBytes(32)).find(db.runtime, page)).toEqual(new Set());
    expect(await new Decoys(undefined).find(db.runtime, page)).toEqual(new Set());
  });
});
