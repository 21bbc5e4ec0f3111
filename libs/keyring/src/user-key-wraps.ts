/**
 * A person's key under the KEKs that hold it at rest: the password's (from unlockWithPassword or
 * enrollPassword) and a passkey's (from its PRF output). The AADs name the user, the key version
 * and, for a passkey, the credential, so a wrap never opens as another's.
 */
import {
  derivePasskeyKek,
  type PrivateKey,
  passkeyKeyAad,
  type RecipientKind,
  type SymmetricKey,
  unwrapWithSymmetricKey,
  userKeyAad,
  wrapWithSymmetricKey,
} from '@coffer/crypto';

/** A person's key is X25519, or X-Wing when made in an X-Wing org (issue 15); old ones stay readable. */
export const USER_KEY_KINDS = ['x25519', 'xwing'] as const satisfies readonly RecipientKind[];

/** Whose key, and which of their keys: a reset makes a new version. */
export interface UserKeyRef {
  readonly id: string;
  readonly keyVersion: number;
}

/** The key from its password wrap (base64); the KEK stays the caller's to destroy. */
export function openPasswordWrap(kek: SymmetricKey, user: UserKeyRef, wrapped: string): PrivateKey<RecipientKind> {
  return unwrapWithSymmetricKey(
    USER_KEY_KINDS,
    kek,
    Buffer.from(wrapped, 'base64'),
    userKeyAad(user.id, user.keyVersion),
  );
}

/** The key wrapped under a password's KEK (base64); the KEK stays the caller's to destroy. */
export function passwordWrap(key: PrivateKey, kek: SymmetricKey, user: UserKeyRef): string {
  return wrapWithSymmetricKey(key, kek, userKeyAad(user.id, user.keyVersion)).toString('base64');
}

/** The key from a passkey's wrap (base64). The PRF output is wiped and the KEK destroyed here. */
export function openPasskeyWrap(
  prf: Buffer,
  credentialId: string,
  user: UserKeyRef,
  wrapped: string,
): PrivateKey<RecipientKind> {
  const kek = passkeyKek(prf, credentialId);
  try {
    const aad = passkeyKeyAad(user.id, user.keyVersion, credentialId);
    return unwrapWithSymmetricKey(USER_KEY_KINDS, kek, Buffer.from(wrapped, 'base64'), aad);
  } finally {
    kek.destroy();
  }
}

/** The key wrapped for a passkey (base64). The PRF output is wiped and the KEK destroyed here. */
export function passkeyWrap(key: PrivateKey, prf: Buffer, credentialId: string, user: UserKeyRef): string {
  const kek = passkeyKek(prf, credentialId);
  try {
    return wrapWithSymmetricKey(key, kek, passkeyKeyAad(user.id, user.keyVersion, credentialId)).toString('base64');
  } finally {
    kek.destroy();
  }
}

function passkeyKek(prf: Buffer, credentialId: string): SymmetricKey {
  try {
    return derivePasskeyKek(prf, credentialId);
  } finally {
    prf.fill(0);
  }
}
