/**
 * The suite floor against a database writer (review finding), on a real vault and admin plane: an
 * org moved from X25519 to X-Wing still holds its old X25519 key (superseded, kept for its
 * records). The writer puts the org's first, validly signed X25519 configuration back and stretches
 * that key's unsigned `not_after` column past every X-Wing key, so the vault's newest key by that
 * column is X25519. Pre-generation picks the newest key by its signed window instead: it refuses
 * (409 suite-refused) and mints nothing, rather than minting X25519 keys for the org.
 */
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, signIn, startAdminStack } from './support/admin-stack.ts';

const available = await postgresAvailable();
const DAY = 86_400_000;

describe.skipIf(!available)('the newest data key is chosen by its signed window', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a stretched not_after on an old X25519 key does not make a moved org mint X25519 keys', async () => {
    const db = stack.db.owner;
    const admin = await signIn(stack.app);
    const [first] = await db<{ config: unknown; config_signature: string }[]>`SELECT config, config_signature FROM org`;
    const moved = await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'xwing' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await call(stack.app, admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    const [old] = await db<{ id: string }[]>`SELECT id FROM data_keys WHERE bundle->>'suite' IS NULL`;
    const [{ last } = { last: new Date() }] = await db<{ last: Date }[]>`
      SELECT max(not_after) AS last FROM data_keys WHERE bundle->>'suite' = 'xwing'`;
    if (!old) throw new Error('the X25519 key is gone');

    // The writer: the first configuration back, and the X25519 key "newest" by ten days.
    await db`UPDATE org SET config = ${db.json(first?.config as never)}, config_signature = ${first?.config_signature ?? ''}`;
    await db`UPDATE data_keys SET not_after = ${new Date(last.getTime() + 10 * DAY)} WHERE id = ${old.id}`;
    const [newestByColumn] = await db<{ id: string }[]>`SELECT id FROM data_keys ORDER BY not_after DESC LIMIT 1`;
    expect(newestByColumn?.id).toBe(old.id);

    const before = await db`SELECT id FROM data_keys`;
    const res = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ type: expect.stringContaining('suite-refused') });
    expect(await db`SELECT id FROM data_keys`).toHaveLength(before.length);
  });
});
