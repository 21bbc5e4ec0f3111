/**
 * Rotation: a key-admin (through their session) makes the next data keys, back to back after the
 * last window, signed by the org key and wrapped to every certified recipient and the recovery key.
 */
import type { PublicKey } from '@coffer/crypto';
import { type Holder, openOrgKey } from './holder.ts';
import { dataKeyWindows, type MintedDataKey, mintDataKeys, nextWindowStart } from './mint.ts';
import { certifiedRecipients, type RecipientCandidates } from './recipients.ts';

export interface KeysMaterialLike extends RecipientCandidates {
  readonly orgKeyId: string;
  /** The holder's wrapped copy of the org key. */
  readonly orgKey: string;
  readonly lastNotAfter: string | null;
}

export interface PregenerateOptions {
  readonly count: number;
  readonly days: number;
  readonly now: Date;
}

/** Throws UncertifiedRecoveryKey (nothing made) or a CryptoError if the holder's copy does not open. */
export function pregenerateDataKeys(
  holder: Holder,
  material: KeysMaterialLike,
  trustRoot: PublicKey<'ed25519'>,
  options: PregenerateOptions,
): { dataKeys: MintedDataKey[]; skipped: string[] } {
  const { recipients, skipped } = certifiedRecipients(trustRoot, material);
  const orgKey = openOrgKey(holder, material.orgKeyId, material.orgKey);
  const windows = dataKeyWindows(nextWindowStart(options.now, material.lastNotAfter), options.days, options.count);
  return { dataKeys: mintDataKeys(orgKey, recipients, windows), skipped };
}
