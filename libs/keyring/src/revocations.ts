/**
 * The signed revocation list, from the key holder's side (issue 15, item 2): checked against the
 * pinned trust root and the highest counter this admin plane remembers before any key is wrapped,
 * and extended (counter + 1, signed by the org key) by a revocation or a reset.
 */
import {
  namesRevocation,
  type PublicKey,
  type RevocationEntry,
  type RevocationList,
  type RevocationListV2,
  revocationEntriesOf,
  signRevocationList,
  sortRevocationEntries,
  verifyRevocationList,
} from '@coffer/crypto';
import { type Holder, withOrgKey } from './holder.ts';

/** The list the vault shows is missing, unsigned or older than one seen before: nothing is wrapped. */
export class RevocationListRefused extends Error {
  override readonly name = 'RevocationListRefused';
  readonly code = 'revocation-list-rollback';
}

export interface SignedList {
  readonly list: unknown;
  readonly signature: string;
}

/**
 * The verified list, or null when there is none yet and none was seen. `remembered` is the
 * highest counter this admin plane saw (kept outside the database).
 */
export function checkRevocationList(
  trustRoot: PublicKey<'ed25519'>,
  signed: SignedList | null | undefined,
  remembered: number,
  /** The newest list this replica kept: a shown list must name every entry of it (no fork). */
  pinned?: SignedList,
): RevocationList | null {
  if (!signed) {
    if (remembered > 0) {
      throw new RevocationListRefused(`the vault shows no revocation list, but list ${remembered} was seen before`);
    }
    return null;
  }
  let list: RevocationList;
  try {
    list = verifyRevocationList(trustRoot, signed.list, signed.signature);
  } catch {
    throw new RevocationListRefused('the revocation list the vault shows is not signed by the org key');
  }
  if (list.counter < remembered) {
    throw new RevocationListRefused(
      `the vault shows revocation list ${list.counter}, older than list ${remembered} seen before: rolled back`,
    );
  }
  if (pinned && !keepsEveryEntryOf(trustRoot, list, pinned)) {
    // Two lists with one counter (a held request signed and dropped, then another signed): the
    // one shown must not be the one that leaves out what this replica saw revoked.
    throw new RevocationListRefused(`the vault shows a revocation list that drops entries of one seen before: forked`);
  }
  return list;
}

function keepsEveryEntryOf(trustRoot: PublicKey<'ed25519'>, list: RevocationList, pinned: SignedList): boolean {
  let seen: RevocationList;
  try {
    seen = verifyRevocationList(trustRoot, pinned.list, pinned.signature);
  } catch {
    return true; // a kept copy that does not verify is no evidence (the file is not trusted blindly)
  }
  if (seen.counter > list.counter) return true; // older than the kept one: refused by the counter
  try {
    return revocationEntriesOf(seen).every((entry) => namesRevocation(list, entry));
  } catch {
    return true; // a v1 entry that is no real key cannot be fingerprinted: nothing to compare
  }
}

/**
 * The next list, always format v2: `current`'s entries (a v1 list's keys fingerprinted) and `add`,
 * counter + 1, signed with the org key the holder opens.
 */
export function nextRevocationList(
  holder: Holder,
  held: { readonly orgKeyId: string; readonly orgKey: string },
  current: RevocationList | null,
  add: readonly RevocationEntry[],
  now: Date,
): { list: RevocationListV2; signature: string } {
  const list: RevocationListV2 = {
    v: 2,
    counter: (current?.counter ?? 0) + 1,
    issuedAt: now.toISOString(),
    entries: sortRevocationEntries([...revocationEntriesOf(current), ...add]),
  };
  return { list, signature: withOrgKey(holder, held, (orgKey) => signRevocationList(orgKey, list)) };
}
