/**
 * X-Wing (draft-connolly-cfrg-xwing-kem): ML-KEM-768 and X25519 combined with SHA3-256, a KEM
 * that stays secure while either part does. Composed per the draft from @noble/post-quantum's
 * ML-KEM-768 (FIPS 203) and node:crypto's X25519, SHAKE256 and SHA3-256; no lattice code here.
 * Known answers: the draft's own vectors (kem/vectors/xwing-draft-vectors.json); cross-checked
 * both ways against @hpke/hybridkem-x-wing in xwing.test.ts.
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';

export const XWING_SEED_LENGTH = 32;
export const XWING_PUBLIC_KEY_LENGTH = 1216;
export const XWING_CIPHERTEXT_LENGTH = 1120;
const MLKEM_PUBLIC_KEY_LENGTH = 1184;
const MLKEM_CIPHERTEXT_LENGTH = 1088;
const X25519_LENGTH = 32;
// "\./" ‖ "/^\" — the draft's XWingLabel, last in the combiner's input.
const XWING_LABEL = Buffer.from('5c2e2f2f5e5c', 'hex');
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** The expanded decapsulation key the draft allows an implementation to cache (never sent anywhere). */
export interface XWingDecapsulationKey {
  /** ML-KEM-768 decapsulation key (2400 bytes): wipe with wipeDecapsulationKey. */
  readonly mlkemSecretKey: Uint8Array;
  readonly x25519Private: KeyObject;
  /** The 1216-byte encapsulation key pk_M ‖ pk_X. */
  readonly publicKey: Buffer;
}

function x25519PrivateFromBytes(scalar: Uint8Array): KeyObject {
  const der = Buffer.concat([X25519_PKCS8_PREFIX, scalar]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    wipe(der);
  }
}

function x25519PublicBytes(privateKey: KeyObject): Buffer {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return Buffer.from(spki.subarray(spki.length - X25519_LENGTH));
}

function x25519PublicFromBytes(bytes: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
}

// X25519 that refuses an all-zero result (a low-order point). The draft does not ask for the
// check; a ciphertext that triggers it was made to, and fails to open like any other forgery.
function x25519(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey });
  } catch {
    throw new CryptoError('DecryptionFailed');
  }
}

/** Combiner(ss_M, ss_X, ct_X, pk_X) = SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel), fed in parts. */
function combine(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Buffer {
  const out = Buffer.alloc(32);
  const digest = createHash('sha3-256').update(ssM).update(ssX).update(ctX).update(pkX).update(XWING_LABEL).digest();
  digest.copy(out);
  wipe(digest);
  return out;
}

/** expandDecapsulationKey(sk): SHAKE256(sk, 96 bytes) → ML-KEM-768 seeds d, z and the X25519 scalar. */
export function expandDecapsulationKey(seed: Uint8Array): XWingDecapsulationKey {
  if (seed.length !== XWING_SEED_LENGTH) throw new CryptoError('InvalidKey', 'xwing private key must be 32 bytes');
  const expanded = createHash('shake256', { outputLength: 96 }).update(seed).digest();
  try {
    const { publicKey: pkM, secretKey } = ml_kem768.keygen(expanded.subarray(0, 64));
    const x25519Private = x25519PrivateFromBytes(expanded.subarray(64, 96));
    const publicKey = Buffer.concat([pkM, x25519PublicBytes(x25519Private)]);
    return { mlkemSecretKey: secretKey, x25519Private, publicKey };
  } finally {
    wipe(expanded);
  }
}

export function wipeDecapsulationKey(key: XWingDecapsulationKey): void {
  wipe(key.mlkemSecretKey);
}

/**
 * Check an encapsulation key as far as can be without encapsulating: its length, ML-KEM's
 * modulus check (FIPS 203 §7.2) and that the X25519 half is a public key node:crypto accepts.
 */
export function checkEncapsulationKey(publicKey: Uint8Array): void {
  if (publicKey.length !== XWING_PUBLIC_KEY_LENGTH) {
    throw new CryptoError('InvalidKey', 'xwing public key must be 1216 bytes');
  }
  try {
    ml_kem768.prepare(publicKey.subarray(0, MLKEM_PUBLIC_KEY_LENGTH)).clean();
    x25519PublicFromBytes(publicKey.subarray(MLKEM_PUBLIC_KEY_LENGTH));
  } catch {
    throw new CryptoError('InvalidKey', 'not a valid xwing public key');
  }
}

/**
 * Encapsulate(pk); with `eseed` (64 bytes) it is EncapsulateDerand, for the known-answer tests
 * only. Returns the 1120-byte ciphertext and the 32-byte shared secret (the caller wipes it).
 */
export function encapsulate(publicKey: Uint8Array, eseed?: Uint8Array): { ct: Buffer; sharedSecret: Buffer } {
  if (publicKey.length !== XWING_PUBLIC_KEY_LENGTH) {
    throw new CryptoError('InvalidKey', 'xwing public key must be 1216 bytes');
  }
  if (eseed !== undefined && eseed.length !== 64) throw new CryptoError('InvalidParameters', 'eseed must be 64 bytes');
  const randomness = eseed ? Buffer.from(eseed) : randomBytes(64);
  const pkM = publicKey.subarray(0, MLKEM_PUBLIC_KEY_LENGTH);
  const pkX = publicKey.subarray(MLKEM_PUBLIC_KEY_LENGTH);
  let ssM: Uint8Array | undefined;
  let ssX: Buffer | undefined;
  try {
    const ephemeral = x25519PrivateFromBytes(randomness.subarray(32, 64));
    const ctX = x25519PublicBytes(ephemeral);
    let recipientX: KeyObject;
    let ctM: Uint8Array;
    try {
      recipientX = x25519PublicFromBytes(pkX);
      const encapsulated = ml_kem768.encapsulate(pkM, randomness.subarray(0, 32));
      ctM = encapsulated.cipherText;
      ssM = encapsulated.sharedSecret;
    } catch {
      // The ML-KEM encapsulation key check (FIPS 203 §7.2) or the X25519 import failed: HPKE's EncapError.
      throw new CryptoError('InvalidKey', 'not a valid xwing public key');
    }
    ssX = x25519(ephemeral, recipientX);
    return { ct: Buffer.concat([ctM, ctX]), sharedSecret: combine(ssM, ssX, ctX, pkX) };
  } finally {
    wipe(randomness, ssM, ssX);
  }
}

/** Decapsulate(ct, sk) with the expanded key. Returns the 32-byte shared secret (the caller wipes it). */
export function decapsulate(ct: Uint8Array, key: XWingDecapsulationKey): Buffer {
  if (ct.length !== XWING_CIPHERTEXT_LENGTH) throw new CryptoError('Malformed', 'xwing ciphertext must be 1120 bytes');
  const ctM = ct.subarray(0, MLKEM_CIPHERTEXT_LENGTH);
  const ctX = ct.subarray(MLKEM_CIPHERTEXT_LENGTH);
  let ephemeral: KeyObject;
  try {
    ephemeral = x25519PublicFromBytes(ctX);
  } catch {
    throw new CryptoError('DecryptionFailed');
  }
  // ML-KEM decapsulation never fails on a well-sized ciphertext: a forged one gives an unrelated
  // secret (implicit rejection), and the AEAD then refuses what it sealed.
  const ssM = ml_kem768.decapsulate(ctM, key.mlkemSecretKey);
  let ssX: Buffer | undefined;
  try {
    ssX = x25519(key.x25519Private, ephemeral);
    return combine(ssM, ssX, ctX, key.publicKey.subarray(MLKEM_PUBLIC_KEY_LENGTH));
  } finally {
    wipe(ssM, ssX);
  }
}

/** DeriveKeyPair(ikm) of the draft's HPKE section: the seed is SHAKE256(ikm, 32 bytes). */
export function deriveSeed(ikm: Uint8Array): Buffer {
  return createHash('shake256', { outputLength: XWING_SEED_LENGTH }).update(ikm).digest();
}
