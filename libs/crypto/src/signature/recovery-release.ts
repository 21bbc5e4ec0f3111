/**
 * A second officer's approval to release one held break-glass recovery now (issue 16, item 4c),
 * instead of after COFFER_RECOVERY_DELAY_MINUTES. The officer rebuilds the recovery key from k
 * shares, opens a fresh recovery challenge with it (proof of the shares) and the org key's
 * recovery copy, and signs with that org key which held account, holding which key, may have its
 * keys now. The vault checks the signature against the trust root, so a bus that sees the
 * challenge answer cannot release another account, and a replay finds the challenge used.
 *
 * Format v1 (docs/crypto.md): Ed25519 by the org key over
 *   lengthPrefixed("coffer/recovery-release/v1", challengeId, userId, fingerprint)
 * where fingerprint is the held key-admin's key fingerprint (PublicKey.fingerprint) without spaces.
 */
import { lengthPrefixed } from '../bytes.ts';
import type { PrivateKey, PublicKey } from '../keys/keys.ts';
import { signedStatement } from './signed-statement.ts';

export const RECOVERY_RELEASE_LABEL = 'coffer/recovery-release/v1';

export interface RecoveryRelease {
  readonly challengeId: string;
  readonly userId: string;
  /** The held key-admin's key fingerprint, as the recovering officer reads it out. */
  readonly fingerprint: string;
}

const releases = signedStatement((r: RecoveryRelease) => ({
  read: r,
  bytes: lengthPrefixed(RECOVERY_RELEASE_LABEL, r.challengeId, r.userId, r.fingerprint.replace(/\s+/g, '')),
}));

export function signRecoveryRelease(orgKey: PrivateKey<'ed25519'>, release: RecoveryRelease): string {
  return releases.sign(orgKey, release);
}

/** Whether `signature` is the org key's approval of exactly this release. */
export function verifyRecoveryRelease(
  trustRoot: PublicKey<'ed25519'>,
  release: RecoveryRelease,
  signature: string,
): boolean {
  return releases.verifies(trustRoot, release, signature);
}
