/**
 * A person's own key pair: made when they set a password (invite acceptance, which a reset goes
 * through again, the ceremony, recovery), the private half leaving only wrapped under the
 * password's KEK. X-Wing in an org whose suite is X-Wing (issue 15), so that the data keys wrapped
 * to people are as safe from a future quantum computer as the records; X25519 otherwise.
 */
import {
  type BundleSuite,
  enrollPassword,
  type PasswordParams,
  PrivateKey,
  type RecipientKind,
  userKeyAad,
  wrapWithSymmetricKey,
} from '@coffer/crypto';

export interface EnrolledUserKey {
  /** The private key, for the caller to wrap further (certify, hand keys to); never stored as is. */
  readonly key: PrivateKey<RecipientKind>;
  readonly verifier: string;
  readonly publicKey: string;
  readonly wrappedPrivateKey: string;
  readonly fingerprint: string;
}

export async function enrolUserKey(
  password: string,
  user: { id: string; keyVersion: number },
  /** The org's suite (orgSuite, checked against the trust root): named by every caller. */
  suite: BundleSuite,
  params?: PasswordParams,
): Promise<EnrolledUserKey> {
  const key = PrivateKey.generate(suite);
  const { verifier, kek } = await enrollPassword(password, params);
  try {
    const wrapped = wrapWithSymmetricKey(key, kek, userKeyAad(user.id, user.keyVersion));
    return {
      key,
      verifier,
      publicKey: key.publicKey.toBase64url(),
      wrappedPrivateKey: wrapped.toString('base64'),
      fingerprint: key.publicKey.fingerprint(),
    };
  } finally {
    kek.destroy();
  }
}
