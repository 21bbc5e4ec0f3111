/**
 * A person's own key pair: made when they set a password (invite acceptance, the ceremony,
 * recovery), the private half leaving only wrapped under the password's KEK.
 */
import { enrollPassword, type PasswordParams, PrivateKey, userKeyAad, wrapWithSymmetricKey } from '@coffer/crypto';

export interface EnrolledUserKey {
  /** The private key, for the caller to wrap further (certify, hand keys to); never stored as is. */
  readonly key: PrivateKey<'x25519'>;
  readonly verifier: string;
  readonly publicKey: string;
  readonly wrappedPrivateKey: string;
  readonly fingerprint: string;
}

export async function enrolUserKey(
  password: string,
  user: { id: string; keyVersion: number },
  params?: PasswordParams,
): Promise<EnrolledUserKey> {
  const key = PrivateKey.generate('x25519');
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
