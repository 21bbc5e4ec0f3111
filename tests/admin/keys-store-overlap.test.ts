/**
 * `keys.store` refuses a data key whose validity window overlaps a stored key's, or another new
 * key's in the same request (issue 9 item 2, services/vault/src/admin/keys-store-integrity.ts).
 * Played as a compromised admin host (or a bus with a key-admin's session hash and the org key's
 * signature) would: each key here is genuinely signed by the org key and carries a recovery copy
 * and a copy for every certified holder, so the window is the only thing wrong with it — the same
 * request with windows apart is stored.
 */
import { callVault, VaultRefused } from '@coffer/bus';
import {
  dataKeyWrapBinding,
  orgKeyWrapBinding,
  PrivateKey,
  PublicKey,
  sessionTokenHash,
  signDataKeyBundle,
  unlockWithPassword,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
  userKeyAad,
  wrapPrivateKey,
} from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = await postgresAvailable();
const DAY = 86_400_000;

describe.skipIf(!available)('keys.store refuses overlapping data-key windows', () => {
  let stack: AdminStack;
  let orgKey: PrivateKey<'ed25519'>;
  beforeAll(async () => {
    stack = await startAdminStack();
    // The first key-admin's copy of the org key, opened with their password.
    const a = stack.ceremony.request.admin;
    const { kek } = await unlockWithPassword(ADMIN_PASSWORD, a.passwordVerifier);
    const own = unwrapWithSymmetricKey('x25519', kek, Buffer.from(a.wrappedPrivateKey, 'base64'), userKeyAad(a.id, 1));
    const copy = stack.ceremony.request.orgKeyCopies.find((c) => c.recipientId === a.id);
    const { orgKeyId } = stack.ceremony.request.org;
    orgKey = unwrapPrivateKey(
      'ed25519',
      own,
      Buffer.from(copy?.wrapped ?? '', 'base64'),
      orgKeyWrapBinding(orgKeyId, a.id),
    );
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** A signed data key for [from, to) with a recovery copy and the key-admin's copy: complete. */
  const dataKey = (from: number, to: number) => {
    const key = PrivateKey.generate('x25519');
    const bundle = {
      id: newRecordId(),
      publicKey: key.publicKey.toBase64url(),
      notBefore: new Date(from).toISOString(),
      notAfter: new Date(to).toISOString(),
    };
    const { org, admin } = stack.ceremony.request;
    const holders = [
      { recipientKind: 'recovery' as const, recipientId: org.recoveryKeyId, publicKey: org.recoveryPublicKey },
      { recipientKind: 'user' as const, recipientId: admin.id, publicKey: admin.publicKey },
    ];
    const copies = holders.map((h) => ({
      recipientKind: h.recipientKind,
      recipientId: h.recipientId,
      wrapped: wrapPrivateKey(
        key,
        PublicKey.fromBase64url('x25519', h.publicKey),
        dataKeyWrapBinding(bundle.id, h.recipientId),
      ).toString('base64'),
    }));
    return { bundle, signature: signDataKeyBundle(orgKey, bundle), copies };
  };
  const store = async (dataKeys: ReturnType<typeof dataKey>[]) => {
    const { token } = await signIn(stack.app);
    return callVault(stack.adminBus, 'keys.store', {
      v: 1,
      session: sessionTokenHash(token),
      dataKeys,
      origin: 'test',
    });
  };
  const lastEnd = async () => {
    const [row] = await stack.db.owner<{ last: Date }[]>`SELECT max(not_after) AS last FROM data_keys`;
    if (!row) throw new Error('no data keys');
    return row.last.getTime();
  };
  const count = async () => (await stack.db.owner`SELECT id FROM data_keys`).length;

  it("refuses a key inside a stored key's window; the same key after it is stored", async () => {
    const end = await lastEnd();
    const before = await count();
    const inside = store([dataKey(end - DAY, end + 89 * DAY)]);
    await expect(inside).rejects.toBeInstanceOf(VaultRefused);
    await expect(inside).rejects.toMatchObject({
      detail: expect.stringContaining("overlaps a stored data key's window"),
    });
    expect(await count()).toBe(before);
    // Nothing else was wrong with it: a window that begins where the last ends is stored.
    await expect(store([dataKey(end, end + 90 * DAY)])).resolves.toEqual({ stored: 1 });
    expect(await count()).toBe(before + 1);
  });

  it('refuses two new keys whose windows overlap each other; apart, both are stored', async () => {
    const end = await lastEnd();
    const before = await count();
    const both = store([dataKey(end, end + 30 * DAY), dataKey(end + 29 * DAY, end + 60 * DAY)]);
    await expect(both).rejects.toBeInstanceOf(VaultRefused);
    await expect(both).rejects.toMatchObject({ detail: expect.stringContaining('overlapping validity windows') });
    expect(await count()).toBe(before);
    const apart = store([dataKey(end, end + 30 * DAY), dataKey(end + 30 * DAY, end + 60 * DAY)]);
    await expect(apart).resolves.toEqual({ stored: 2 });
  });
});
