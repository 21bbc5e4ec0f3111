/**
 * `coffer reseal` from the key holder's side: each batch the vault is asked to store (which
 * overwrites records and, at the end, destroys old keys) is signed with the org key, so only a
 * key-admin's session — not a bus that saw its session hash — can make the vault do it.
 */
import { signResealStore } from '@coffer/crypto';
import { type Holder, withOrgKey } from './holder.ts';

export function authoriseResealStore(
  holder: Holder,
  held: { readonly orgKeyId: string; readonly orgKey: string },
  requestDigest: string,
): string {
  return withOrgKey(holder, held, (orgKey) => signResealStore(orgKey, requestDigest));
}
