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
import { sign, verify } from 'node:crypto';
import { fromBase64url, lengthPrefixed } from '../bytes.ts';
import { assertKind, type PrivateKey, type PublicKey, privateKeyObject } from '../keys/keys.ts';

export const RESEAL_STORE_LABEL = 'coffer/reseal-store/v1';

export function signResealStore(orgKey: PrivateKey<'ed25519'>, requestDigest: string): string {
  assertKind(orgKey, 'ed25519', 'org key');
  return sign(null, lengthPrefixed(RESEAL_STORE_LABEL, requestDigest), privateKeyObject(orgKey)).toString('base64url');
}

/** Whether `signature` is the org key's over this request digest. */
export function verifyResealStore(trustRoot: PublicKey<'ed25519'>, requestDigest: string, signature: string): boolean {
  assertKind(trustRoot, 'ed25519', 'trust root');
  let sig: Buffer;
  try {
    sig = fromBase64url(signature, 64);
  } catch {
    return false;
  }
  return verify(null, lengthPrefixed(RESEAL_STORE_LABEL, requestDigest), trustRoot.keyObject, sig);
}
