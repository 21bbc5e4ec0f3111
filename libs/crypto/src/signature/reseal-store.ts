/**
 * Authorisation of one `reseal.store` batch (issue 15 item 3, review): the batch overwrites stored
 * records and, once none is left on the run's old keys, makes the vault destroy those keys with
 * their recovery copies. A bus that has seen a key-admin's session hash could otherwise send a
 * batch of its own (junk sealed to the public current key) and have every old record destroyed.
 * So the admin plane signs the request's digest with the org key (opened through the key-admin's
 * session) and the vault checks it against the stored trust root.
 *
 * Format v1 (docs/crypto.md): Ed25519 by the org key over
 *   lengthPrefixed("coffer/reseal-store/v1", adminRequestDigest("reseal.store", request))
 * where the digest leaves the signature (`proof`) out.
 */
import { lengthPrefixed } from '../bytes.ts';
import type { PrivateKey, PublicKey } from '../keys/keys.ts';
import { signedStatement } from './signed-statement.ts';

export const RESEAL_STORE_LABEL = 'coffer/reseal-store/v1';

const batches = signedStatement((digest: string) => ({
  read: digest,
  bytes: lengthPrefixed(RESEAL_STORE_LABEL, digest),
}));

export function signResealStore(orgKey: PrivateKey<'ed25519'>, requestDigest: string): string {
  return batches.sign(orgKey, requestDigest);
}

/** Whether `signature` is the org key's over this request digest. */
export function verifyResealStore(trustRoot: PublicKey<'ed25519'>, requestDigest: string, signature: string): boolean {
  return batches.verifies(trustRoot, requestDigest, signature);
}
