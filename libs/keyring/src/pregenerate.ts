/**
 * Rotation: a key-admin (through their session) makes the next data keys, back to back after the
 * last window, signed by the org key and wrapped to every certified recipient and the recovery key.
 */
import type { PublicKey, RevocationList } from '@coffer/crypto';
import { type Holder, withOrgKey } from './holder.ts';
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
  /**
   * A rotation (issue 15, item 1): the first window begins now (to the second), superseding the
   * current key, instead of after the last stored window.
   */
  readonly startNow?: boolean;
}

export interface Pregenerated {
  readonly dataKeys: MintedDataKey[];
  readonly skipped: string[];
  readonly revoked: string[];
}

/**
 * `revocations`: the signed list, already checked by the caller (checkRevocationList).
 * Throws UncertifiedRecoveryKey or SuiteRefused (nothing made), or a CryptoError if the holder's
 * copy does not open. The keys are made in the suite of the org's signed configuration.
 */
export function pregenerateDataKeys(
  holder: Holder,
  material: KeysMaterialLike,
  trustRoot: PublicKey<'ed25519'>,
  revocations: RevocationList | null,
  options: PregenerateOptions,
): Pregenerated {
  const suite = orgSuite(trustRoot, material);
  const { recipients, skipped, revoked } = certifiedRecipients(trustRoot, material, revocations);
  const start = nextWindowStart(options.now, options.startNow ? null : material.lastNotAfter);
  const windows = dataKeyWindows(start, options.days, options.count);
  const dataKeys = withOrgKey(holder, material, (orgKey) => mintDataKeys(orgKey, recipients, windows, suite));
  return { dataKeys, skipped, revoked };
}
