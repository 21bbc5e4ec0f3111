/**
 * A person's (or the recovery key's) public key as stored and certified: X25519 or X-Wing. The
 * stored base64url text names its suite by its length (43 characters for a 32-byte X25519 key,
 * 1,622 for a 1,216-byte X-Wing key), and the certificate built from it names that suite too: an
 * X25519 key keeps the v1 certificate (no suite field) every build reads, an X-Wing key gets v2
 * with `suite: 'xwing'`, whose HPKE ids are signed. No key has two readings — v1 takes only a
 * 32-byte X25519 key — so a certificate can neither be relabelled nor read as another suite.
 */
import { CryptoError } from '../errors.ts';
import { PublicKey, type RecipientKind } from '../keys/keys.ts';
import type { BundleSuite, Role, UserCertificate } from './bundles.ts';

const SUITE_BY_LENGTH: ReadonlyMap<number, BundleSuite> = new Map([
  [43, 'x25519'],
  [1622, 'xwing'],
]);

/** The suite a stored recipient key (base64url) is in; InvalidKey for a length naming none. */
export function recipientSuiteOf(publicKey: string): BundleSuite {
  const suite = typeof publicKey === 'string' ? SUITE_BY_LENGTH.get(publicKey.length) : undefined;
  if (!suite) throw new CryptoError('InvalidKey', 'not an x25519 or xwing public key');
  return suite;
}

/**
 * A stored recipient key as a key to seal or wrap to. `accept` names the suites the caller can
 * use (both unless it says less): another is UnsupportedSuite, never read as one it knows.
 */
export function recipientPublicKey<K extends RecipientKind = RecipientKind>(
  publicKey: string,
  accept: readonly K[] = ['x25519', 'xwing'] as K[],
): PublicKey<K> {
  const suite = recipientSuiteOf(publicKey);
  if (!(accept as readonly string[]).includes(suite)) {
    throw new CryptoError('UnsupportedSuite', `a ${suite} key where only ${accept.join(', ')} is supported`);
  }
  return PublicKey.fromBase64url(suite as K, publicKey);
}

/** The certificate the org key signs (and a verifier checks) for this id, role and stored key. */
export function userCertificateOf(user: { id: string; role: Role; publicKey: string }): UserCertificate {
  const suite = recipientSuiteOf(user.publicKey);
  return suite === 'x25519'
    ? { id: user.id, role: user.role, publicKey: user.publicKey }
    : { id: user.id, role: user.role, suite, publicKey: user.publicKey };
}
