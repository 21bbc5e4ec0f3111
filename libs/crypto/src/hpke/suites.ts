/**
 * The HPKE suites Coffer knows, by their RFC 9180 ids, and which recipient key kind each takes.
 * Sealing uses AES-256-GCM only; AES-128-GCM is here for RFC 9180's known answers.
 */
import { CryptoError } from '../errors.ts';
import { XWING_CIPHERTEXT_LENGTH } from '../kem/xwing.ts';
import type { RecipientKind } from '../keys/keys.ts';

const X25519_ENC_LENGTH = 32;

export const KEM_X25519_HKDF_SHA256 = 0x0020;
/** X-Wing (ML-KEM-768 + X25519), the code point draft-connolly-cfrg-xwing-kem asks for. */
export const KEM_XWING = 0x647a;
export const KDF_HKDF_SHA256 = 0x0001;
export const AEAD_AES_128_GCM = 0x0001;
export const AEAD_AES_256_GCM = 0x0002;

export interface Suite {
  readonly kem: typeof KEM_X25519_HKDF_SHA256 | typeof KEM_XWING;
  readonly kdf: typeof KDF_HKDF_SHA256;
  readonly aead: typeof AEAD_AES_128_GCM | typeof AEAD_AES_256_GCM;
}

/** The classical suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. Readable forever. */
export const COFFER_SUITE: Suite = { kem: KEM_X25519_HKDF_SHA256, kdf: KDF_HKDF_SHA256, aead: AEAD_AES_256_GCM };
/** The hybrid suite: X-Wing, HKDF-SHA256, AES-256-GCM. */
export const XWING_SUITE: Suite = { kem: KEM_XWING, kdf: KDF_HKDF_SHA256, aead: AEAD_AES_256_GCM };

/** The suite Coffer seals with to a recipient key of this kind. */
export function suiteFor(kind: RecipientKind): Suite {
  return kind === 'xwing' ? XWING_SUITE : COFFER_SUITE;
}

/** The recipient key kind a suite's KEM takes. */
export function recipientKindOf(suite: Suite): RecipientKind {
  return suite.kem === KEM_XWING ? 'xwing' : 'x25519';
}

/**
 * The suite a blob header names, if this build seals with it; anything else (another KEM, KDF or
 * AEAD, AES-128-GCM included) is UnsupportedSuite: never read as, or downgraded to, another suite.
 */
export function sealingSuiteFromIds(kem: number, kdf: number, aead: number): Suite {
  if (kdf === KDF_HKDF_SHA256 && aead === AEAD_AES_256_GCM) {
    if (kem === KEM_X25519_HKDF_SHA256) return COFFER_SUITE;
    if (kem === KEM_XWING) return XWING_SUITE;
  }
  throw new CryptoError('UnsupportedSuite', `suite ${kem}/${kdf}/${aead}`);
}

/** Nenc: bytes of the encapsulated key of the suite's KEM. */
export function encLength(suite: Suite): number {
  return suite.kem === KEM_XWING ? XWING_CIPHERTEXT_LENGTH : X25519_ENC_LENGTH;
}
