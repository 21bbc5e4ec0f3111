/**
 * Certifying the vault's reply key with the org key (issue 9, item 2): at `coffer init` the
 * ceremony does it; for an installation made before, a key-admin does it through their session.
 * The key named by the vault's `status` crossed the bus unsigned, so it is certified only if its
 * fingerprint is the one the key-admin read from the vault's own log.
 */
import { certifyVaultReplyKey, PublicKey } from '@coffer/crypto';
import { type Holder, withOrgKey } from './holder.ts';

/** The reply key named over the bus is not the one whose fingerprint the key-admin gave. */
export class VaultKeyMismatch extends Error {
  override readonly name = 'VaultKeyMismatch';
}

const digits = (fingerprint: string) => fingerprint.replace(/[\s-]/g, '');

export function certifyVaultKey(
  holder: Holder,
  held: { readonly orgKeyId: string; readonly orgKey: string },
  replyKey: string,
  expectedFingerprint: string,
): { key: string; certificate: string } {
  const key = PublicKey.fromBase64url('ed25519', replyKey);
  if (digits(key.fingerprint()) !== digits(expectedFingerprint)) {
    throw new VaultKeyMismatch('the vault reply key is not the one with the fingerprint given');
  }
  return { key: replyKey, certificate: withOrgKey(holder, held, (orgKey) => certifyVaultReplyKey(orgKey, key)) };
}
