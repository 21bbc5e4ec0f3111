/**
 * Rotation: a key-admin (through their session) makes the next data keys, back to back after the
 * last window, signed by the org key and wrapped to every certified recipient and the recovery key.
 */
import type { PublicKey } from '@coffer/crypto';
import { type Holder, openOrgKey } from './holder.ts';
import { dataKeyWindows, type MintedDataKey, mintDataKeys, nextWindowStart } from './mint.ts';
import { certifiedRecipients, type RecipientCandidates } from './recipients.ts';
import { orgSuite, type SuiteMaterial } from './suite.ts';

export interface KeysMaterialLike extends RecipientCandidates, SuiteMaterial {
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

/**
 * Throws UncertifiedRecoveryKey or SuiteRefused (nothing made), or a CryptoError if the holder's
 * copy does not open. The keys are made in the suite of the org's signed configuration.
 */
export function pregenerateDataKeys(
  holder: Holder,
  material: KeysMaterialLike,
  trustRoot: PublicKey<'ed25519'>,
  options: PregenerateOptions,
): { dataKeys: MintedDataKey[]; skipped: string[] } {
  const suite = orgSuite(trustRoot, material);
  const { recipients, skipped } = certifiedRecipients(trustRoot, material);
  const orgKey = openOrgKey(holder, material.orgKeyId, material.orgKey);
  const windows = dataKeyWindows(nextWindowStart(options.now, material.lastNotAfter), options.days, options.count);
  return { dataKeys: mintDataKeys(orgKey, recipients, windows, suite), skipped };
}
