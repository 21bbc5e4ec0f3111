/**
 * The suite floor against rolled-back rows (review finding F1, with F4's bounded bundle set), on a
 * real vault and admin plane. A database writer (who may roll rows back, threat-model.md)
 * re-inserts the future X25519 data keys that the move to X-Wing destroyed (genuine bundles and
 * signatures from a backup, more of them than the vault sends), deletes the unused future X-Wing
 * rows (no foreign key stops it), and restores the first, validly signed X25519 configuration.
 * Suites only move forward, so the X-Wing key that records use (it cannot be deleted) is the floor:
 * pre-generation answers 409 suite-refused and mints nothing. Moving a genuine X25519 bundle onto
 * that used row instead is refused too: the vault sends each bundle with its row's id, and the
 * moved one no longer verifies; and so is stripping the suite from the used row's own bundle: the
 * vault sends the newest key records use, whatever its bundle says.
 */
import { randomUUID } from 'node:crypto';
import { callVault } from '@coffer/bus';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, signIn, startAdminStack } from './support/admin-stack.ts';

const available = await postgresAvailable();
/** The vault's NEWEST_BUNDLES (services/vault/src/admin/suite-material.ts). */
const NEWEST_BUNDLES = 16;

type Row = { id: string; public_key: string; not_before: Date; not_after: Date; bundle: unknown; signature: string };

describe.skipIf(!available)('the suite floor vs rolled-back data key rows', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519', dataKeyDays: 7 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('re-inserted X25519 keys and deleted unused X-Wing ones do not make a moved org mint X25519 keys', async () => {
    const db = stack.db.owner;
    const admin = await signIn(stack.app);
    // The org pre-generates ahead, more keys than the vault sends bundles of.
    for (const count of [16, 6]) {
      const pre = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count });
      expect(pre.statusCode, pre.body).toBe(201);
    }
    // The writer's backup, taken before the move.
    const [first] = await db<{ config: unknown; config_signature: string }[]>`SELECT config, config_signature FROM org`;
    const backup = await db<Row[]>`
      SELECT id, public_key, not_before, not_after, bundle, signature FROM data_keys WHERE not_before > now()`;
    expect(backup.length).toBeGreaterThan(NEWEST_BUNDLES + 3);

    // The key-admin moves the org to X-Wing and rotates: the future X25519 keys are destroyed.
    expect((await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'xwing' })).statusCode).toBe(200);
    expect((await call(stack.app, admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    expect(await db`SELECT 1 FROM data_keys WHERE id = ANY(${backup.map((b) => b.id)})`).toHaveLength(0);
    const [current] = await db<{ id: string }[]>`
      SELECT id FROM data_keys WHERE bundle->>'suite' = 'xwing' AND not_before <= now() AND now() < not_after`;
    if (!current) throw new Error('no current X-Wing key');
    const [{ bundle: usedBundle, signature: usedSignature } = { bundle: {}, signature: '' }] = await db<
      { bundle: Record<string, unknown>; signature: string }[]
    >`SELECT bundle, signature FROM data_keys WHERE id = ${current.id}`;
    await db`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
      VALUES (${randomUUID()}, 'secret', ${current.id}, ${Buffer.from('x')}, null, now())`;

    // The writer: future X-Wing rows (unused) deleted, destroyed X25519 rows put back, old config back.
    await db`DELETE FROM wrapped_keys WHERE key_kind = 'data' AND key_id IN
      (SELECT id FROM data_keys WHERE bundle->>'suite' = 'xwing' AND not_before > now())`;
    await db`DELETE FROM data_keys WHERE bundle->>'suite' = 'xwing' AND not_before > now()`;
    for (const b of backup) {
      await db`INSERT INTO data_keys (id, public_key, not_before, not_after, bundle, signature)
        VALUES (${b.id}, ${b.public_key}, ${b.not_before}, ${b.not_after}, ${db.json(b.bundle as never)}, ${b.signature})`;
    }
    await db`UPDATE org SET config = ${db.json(first?.config as never)}, config_signature = ${first?.config_signature ?? ''}`;
    const keysBefore = await db`SELECT id FROM data_keys`;

    // The vault sends a bounded set, and the used X-Wing key is in it though it is not among the newest.
    const material = await callVault(stack.adminBus, 'recovery.begin', { v: 1, origin: 'suite-floor-rollback' });
    const sent = (material.dataKeyBundles ?? []).map((b) => (b.bundle as { id: string }).id);
    expect(sent.length).toBeLessThanOrEqual(NEWEST_BUNDLES + 3);
    expect(keysBefore.length).toBeGreaterThan(NEWEST_BUNDLES + 3);
    const newest = await db<{ id: string }[]>`SELECT id FROM data_keys ORDER BY not_after DESC LIMIT ${NEWEST_BUNDLES}`;
    expect(newest.map((r) => r.id)).not.toContain(current.id);
    expect(sent).toContain(current.id);

    await expectRefused();
    expect(await db`SELECT id FROM data_keys`).toHaveLength(keysBefore.length);

    // The writer moves a genuine X25519 bundle onto the used X-Wing row instead: refused as well.
    const moved = backup[0] as Row;
    await db`UPDATE data_keys SET bundle = ${db.json(moved.bundle as never)}, signature = ${moved.signature}
      WHERE id = ${current.id}`;
    await expectRefused();
    expect(await db`SELECT id FROM data_keys`).toHaveLength(keysBefore.length);

    // Or strips the suite from the used row's own bundle (its id kept), so no row says X-Wing: the
    // vault still sends the newest key records use, which no longer verifies: refused.
    const { suite: _, ...stripped } = usedBundle;
    await db`UPDATE data_keys SET bundle = ${db.json(stripped as never)}, signature = ${usedSignature}
      WHERE id = ${current.id}`;
    expect(await db`SELECT 1 FROM data_keys WHERE bundle->>'suite' = 'xwing'`).toHaveLength(0);
    await expectRefused();

    async function expectRefused() {
      const res = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json()).toMatchObject({ type: expect.stringContaining('suite-refused') });
    }
  });
});
