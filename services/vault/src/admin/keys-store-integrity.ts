/**
 * What a `keys.store` must carry before the vault stores a data key (issue 9, item 2): a copy for
 * the org's recovery key and one for every certified holder (an active viewer or key-admin whose
 * certificate verifies under the trust root), and a validity window that overlaps no stored key
 * nor another in the same request. A bus that empties or thins `copies`, or adds a key in the
 * middle of an existing window, gets a refusal instead of a key nobody (or not everybody) holds.
 */
import { isRevoked, type PublicKey, userCertificateOf, verifyUserCertificate } from '@coffer/crypto';
import type postgres from 'postgres';
import { verifiedRevocations } from './revocations.ts';
import { AdminError } from './router.ts';

interface StoredKey {
  readonly bundle: { readonly id: string; readonly notBefore: string; readonly notAfter: string };
  readonly copies: readonly { readonly recipientKind: 'user' | 'recovery'; readonly recipientId: string }[];
}

/** Ids of the users who must hold every new data key: active, viewer or key-admin, certified. */
export async function certifiedHolders(tx: postgres.TransactionSql, trustRoot: PublicKey<'ed25519'>) {
  const rows = await tx<{ id: string; role: 'viewer' | 'key-admin'; public_key: string; cert: string | null }[]>`
    SELECT id, role, public_key, certificate_signature AS cert FROM users
    WHERE status = 'active' AND role IN ('viewer', 'key-admin') AND public_key IS NOT NULL FOR SHARE`;
  // issue 15 item 2: a revoked person's restored row is no holder, certificate or not.
  const revoked = await verifiedRevocations(tx, trustRoot);
  return new Set(
    rows
      .filter((u) => {
        if (isRevoked(revoked, u.id, u.public_key)) return false;
        try {
          verifyUserCertificate(
            trustRoot,
            userCertificateOf({ id: u.id, role: u.role, publicKey: u.public_key }),
            u.cert ?? '',
            ['x25519', 'xwing'],
          );
          return true;
        } catch {
          return false;
        }
      })
      .map((u) => u.id),
  );
}

export async function requireCompleteKeyStore(
  tx: postgres.TransactionSql,
  trustRoot: PublicKey<'ed25519'>,
  recoveryKeyId: string,
  dataKeys: readonly StoredKey[],
): Promise<void> {
  const holders = await certifiedHolders(tx, trustRoot);
  for (const k of dataKeys) {
    const users = new Set(k.copies.filter((c) => c.recipientKind === 'user').map((c) => c.recipientId));
    const recovery = k.copies.filter((c) => c.recipientKind === 'recovery' && c.recipientId === recoveryKeyId);
    if (recovery.length !== 1) {
      throw new AdminError('bad-request', `data key ${k.bundle.id} must carry exactly one recovery copy`);
    }
    for (const holder of holders) {
      if (!users.has(holder)) {
        throw new AdminError('bad-request', `data key ${k.bundle.id} lacks a copy for a certified holder`);
      }
    }
    if (Date.parse(k.bundle.notAfter) <= Date.parse(k.bundle.notBefore)) {
      throw new AdminError('bad-request', `data key ${k.bundle.id} has an empty validity window`);
    }
  }
  const windows = [...dataKeys].sort((a, b) => Date.parse(a.bundle.notBefore) - Date.parse(b.bundle.notBefore));
  for (let i = 1; i < windows.length; i++) {
    if (Date.parse(windows[i]?.bundle.notBefore ?? '') < Date.parse(windows[i - 1]?.bundle.notAfter ?? '')) {
      throw new AdminError('conflict', 'the new data keys have overlapping validity windows');
    }
  }
  for (const k of dataKeys) {
    const [clash] = await tx`SELECT id FROM data_keys WHERE retired_at IS NULL
      AND not_before < ${k.bundle.notAfter} AND not_after > ${k.bundle.notBefore} LIMIT 1`;
    if (clash) throw new AdminError('conflict', `data key ${k.bundle.id} overlaps a stored data key's window`);
  }
}
