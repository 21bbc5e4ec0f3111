/**
 * Passkeys that unlock a user's key (issue 16 item 1). Where the authenticator offers the WebAuthn
 * PRF extension, evaluating it with Coffer's fixed salt gives 32 bytes only that credential can
 * produce; the user key is wrapped under HKDF-SHA256(PRF output, salt = credential id, info
 * "coffer/passkey-kek/v1"), a second wrap beside the password's, bound to the credential by its
 * AAD. A copy of the database therefore opens nothing without the authenticator.
 *
 * A passkey sign-in's WebAuthn challenge is SHA-256 of the vault's single-use nonce and the hash
 * of the session token the admin plane is about to open, so the authenticator's signature covers
 * the session it opens: a bus that swaps the session hash on the way to the vault breaks it.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { lengthPrefixed, utf8, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { type SymmetricKey, symmetricKeyFromBytes } from '../keys/symmetric-key.ts';

/** What the browser passes as the PRF extension's `eval.first`: SHA-256 of this label. */
export const PASSKEY_PRF_LABEL = 'coffer/passkey-prf/v1';
const PRF_OUTPUT_LENGTH = 32;

/** The PRF salt the browser evaluates (it computes the same SHA-256 with WebCrypto). */
export function passkeyPrfSalt(): Buffer {
  return createHash('sha256').update(PASSKEY_PRF_LABEL).digest();
}

/** The KEK that wraps the user key for one credential, from that credential's PRF output. */
export function derivePasskeyKek(prfOutput: Uint8Array, credentialId: string): SymmetricKey {
  if (prfOutput.length !== PRF_OUTPUT_LENGTH) throw new CryptoError('Malformed', 'a PRF output is 32 bytes');
  let key: Buffer | undefined;
  try {
    key = Buffer.from(hkdfSync('sha256', prfOutput, utf8(credentialId), 'coffer/passkey-kek/v1', 32));
    return symmetricKeyFromBytes(key);
  } finally {
    wipe(key);
  }
}

/** AAD of a user's private key wrapped under a passkey's KEK: the user, key version and credential. */
export function passkeyKeyAad(userId: string, keyVersion: number, credentialId: string): Buffer {
  return lengthPrefixed('coffer/passkey-key/v1', userId, String(keyVersion), credentialId);
}

/** The WebAuthn challenge of a passkey sign-in (base64url): bound to the nonce and the session. */
export function passkeySigninChallenge(nonce: string, sessionHash: string): string {
  return createHash('sha256')
    .update(lengthPrefixed('coffer/passkey-signin/v1', nonce, sessionHash))
    .digest('base64url');
}
