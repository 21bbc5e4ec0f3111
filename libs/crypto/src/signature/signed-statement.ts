/**
 * A statement signed by the org key: Ed25519 over the statement's canonical bytes (its format's
 * label and fields, lengthPrefixed; each statement's module states its format), as base64url, and
 * checked against the pinned trust root. The one place such statements are signed and verified:
 * a module gives its canonical reading, which also checks a value before anything is signed.
 */
import { sign, verify } from 'node:crypto';
import { fromBase64url } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { assertKind, type PrivateKey, type PublicKey, privateKeyObject } from '../keys/keys.ts';

export interface SignedStatement<In, Out> {
  sign(orgKey: PrivateKey<'ed25519'>, value: In): string;
  /** The statement, read once, if `signature` verifies under the trust root; else BadSignature. */
  verify(trustRoot: PublicKey<'ed25519'>, value: In, signature: string): Out;
  /** Whether `signature` verifies under the trust root; false for a malformed signature too. */
  verifies(trustRoot: PublicKey<'ed25519'>, value: In, signature: string): boolean;
}

/** `canonical` reads a value once (throwing for a malformed one) and gives the bytes signed. */
export function signedStatement<In, Out>(
  canonical: (value: In) => { read: Out; bytes: Buffer },
): SignedStatement<In, Out> {
  return {
    sign(orgKey, value) {
      assertKind(orgKey, 'ed25519', 'org key');
      return sign(null, canonical(value).bytes, privateKeyObject(orgKey)).toString('base64url');
    },
    verify(trustRoot, value, signature) {
      assertKind(trustRoot, 'ed25519', 'trust root');
      const { read, bytes } = canonical(value);
      const sig = signatureBytes(signature);
      if (!sig) throw new CryptoError('BadSignature', 'signature is not 64 bytes of base64url');
      if (!verify(null, bytes, trustRoot.keyObject, sig)) throw new CryptoError('BadSignature');
      return read;
    },
    verifies(trustRoot, value, signature) {
      assertKind(trustRoot, 'ed25519', 'trust root');
      const sig = signatureBytes(signature);
      return sig !== undefined && verify(null, canonical(value).bytes, trustRoot.keyObject, sig);
    },
  };
}

function signatureBytes(signature: string): Buffer | undefined {
  try {
    return fromBase64url(signature, 64);
  } catch {
    return undefined;
  }
}
