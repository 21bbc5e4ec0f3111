/**
 * Break-glass recovery and the suite floor (review finding F3), on a real vault: an org moved to
 * X-Wing, whose first (X25519, validly signed) configuration a database writer restores while
 * stretching its old X25519 key's unsigned `not_after` past every X-Wing key. recovery.begin sends
 * the data keys' signed bundles, so `coffer recover` sees the X-Wing ones and makes the recovered
 * key-admin's key X-Wing. (From a vault that sends no bundles, the X-Wing data keys the recovery
 * key holds make it X-Wing too: libs/keyring/src/people-suite.test.ts.)
 */
import { callVault } from '@coffer/bus';
import { runRecovery } from '@coffer/cli';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, signIn, startAdminStack } from './support/admin-stack.ts';

const available = await postgresAvailable();
const DAY = 86_400_000;
const XWING_PUBLIC_KEY_CHARS = 1622; // base64url of 1216 bytes; an X25519 key is 43

describe.skipIf(!available)('recovery and the suite floor', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519' });
    const db = stack.db.owner;
    const admin = await signIn(stack.app);
    const [first] = await db<{ config: unknown; config_signature: string }[]>`SELECT config, config_signature FROM org`;
    expect((await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'xwing' })).statusCode).toBe(200);
    expect((await call(stack.app, admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    const [old] = await db<{ id: string }[]>`SELECT id FROM data_keys WHERE bundle->>'suite' IS NULL`;
    const [{ last } = { last: new Date() }] = await db<{ last: Date }[]>`
      SELECT max(not_after) AS last FROM data_keys WHERE bundle->>'suite' = 'xwing'`;
    // The writer: the first configuration back, and the X25519 key "newest" by its column.
    await db`UPDATE org SET config = ${db.json(first?.config as never)}, config_signature = ${first?.config_signature ?? ''}`;
    await db`UPDATE data_keys SET not_after = ${new Date(last.getTime() + 10 * DAY)} WHERE id = ${old?.id ?? ''}`;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('recovery.begin sends the signed bundles, and coffer recover makes an X-Wing key-admin', async () => {
    const material = await callVault(stack.adminBus, 'recovery.begin', { v: 1, origin: 'recovery-suite-floor' });
    const suites = (material.dataKeyBundles ?? []).map((b) => (b.bundle as { suite?: string }).suite ?? 'x25519');
    expect(suites).toContain('xwing');

    const { userId } = await runRecovery({
      bus: stack.adminBus,
      shares: [stack.ceremony.shares[0], stack.ceremony.shares[1]] as string[],
      email: 'officer@example.com',
      password: 'correct horse battery staple 2',
      trustRoot: stack.ceremony.trustRoot,
    });
    const db = stack.db.owner;
    const [row] = await db<{ public_key: string }[]>`SELECT public_key FROM users WHERE id = ${userId}`;
    expect(row?.public_key).toHaveLength(XWING_PUBLIC_KEY_CHARS);
    const xwingCopies = await db`SELECT 1 FROM wrapped_keys w JOIN data_keys d ON d.id = w.key_id
      WHERE w.recipient_id = ${userId} AND d.bundle->>'suite' = 'xwing'`;
    expect(xwingCopies.length).toBeGreaterThan(0); // held, now wrapped to an X-Wing key
  });
});
