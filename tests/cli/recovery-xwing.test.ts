/**
 * Issue 15 item 1: `coffer recover` in an X-Wing org. The recovery key made at init is X-Wing; k
 * printed shares rebuild it, it opens the vault's X-Wing-sealed challenge and its X-Wing-wrapped
 * copies, and the new key-admin it makes holds an X-Wing key, certified as xwing, that reveals a
 * record and makes new data keys wrapped to everyone X-Wing. A configuration row that no longer
 * verifies does not stop break-glass: the recovered key is X-Wing then.
 */
import { runRecovery } from '@coffer/cli';
import { KEM_XWING, parseSealedBlob } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const NEW_PASSWORD = 'saffron-quarry-meridian-6620-slowly';

describe.skipIf(!available)('coffer recover with an X-Wing recovery key', () => {
  let stack: AdminStack;
  let recordId: string;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'xwing' }); // shares 3, threshold 2
    recordId = await stack.addRecord('ssn', '078-05-1120', null, 2);
  });
  afterAll(() => stack?.close());

  it('rebuilds the X-Wing recovery key from 2 of 3 shares and makes an X-Wing key-admin who reads everything', async () => {
    const [org] = await stack.db.owner<{ recovery_public_key: string }[]>`SELECT recovery_public_key FROM org`;
    expect(org?.recovery_public_key).toHaveLength(1622);
    const shares = [stack.ceremony.shares[1], stack.ceremony.shares[2]] as string[];
    const { userId, fingerprint } = await runRecovery({
      bus: stack.adminBus,
      shares,
      email: 'officer@example.com',
      password: NEW_PASSWORD,
      trustRoot: stack.ceremony.trustRoot,
    });
    expect(fingerprint).toMatch(/^\d{5}( \d{5}){5}$/);
    const [row] = await stack.db.owner<{ public_key: string }[]>`SELECT public_key FROM users WHERE id = ${userId}`;
    expect(row?.public_key).toHaveLength(1622);
    const copies = await stack.db.owner<{ wrapped: Buffer }[]>`
      SELECT wrapped FROM wrapped_keys WHERE recipient_id = ${userId}`;
    expect(copies.length).toBeGreaterThan(1);
    for (const c of copies) expect(parseSealedBlob(c.wrapped).suite.kem).toBe(KEM_XWING);

    const officer = await signIn(stack.app, 'officer@example.com', NEW_PASSWORD);
    const revealed = await call(stack.app, officer, 'POST', `/api/records/${recordId}/reveal`, {
      reason: 'break-glass drill',
    });
    expect(revealed.json()).toMatchObject({ value: '078-05-1120' });
    // The recovered key-admin opens the org key: new data keys, X-Wing-wrapped to every holder.
    const made = await call(stack.app, officer, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode, made.body).toBe(201);
    const newKey = made.json().items[0].id as string;
    const wraps = await stack.db.owner<
      { wrapped: Buffer }[]
    >`SELECT wrapped FROM wrapped_keys WHERE key_id = ${newKey}`;
    expect(wraps).toHaveLength(3); // the first key-admin, the officer, the recovery key
    for (const w of wraps) expect(parseSealedBlob(w.wrapped).suite.kem).toBe(KEM_XWING);
  });

  it('a tampered org configuration does not block break-glass, nor make the recovered key weaker', async () => {
    // The suite changed to x25519 under the org key's old signature: it verifies no more.
    await stack.db.owner`UPDATE org SET config = jsonb_set(config, '{suite}', '"x25519"')`;
    const { userId } = await runRecovery({
      bus: stack.adminBus,
      shares: [stack.ceremony.shares[0], stack.ceremony.shares[1]] as string[],
      email: 'second-officer@example.com',
      password: NEW_PASSWORD,
      trustRoot: stack.ceremony.trustRoot,
    });
    const [row] = await stack.db.owner<{ public_key: string }[]>`SELECT public_key FROM users WHERE id = ${userId}`;
    expect(row?.public_key).toHaveLength(1622);
  });
});
