/**
 * The KEM step of HPKE base mode for both suites: DHKEM(X25519, HKDF-SHA256) of RFC 9180 §4.1 and
 * §7.1 (encapsulate to a public key, decapsulate with the private key, DeriveKeyPair for the
 * known-answer tests), and X-Wing's encapsulation (kem/xwing.ts) with its test randomness checked.
 */
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { i2osp, utf8, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { encapsulate } from '../kem/xwing.ts';
import { assertKind, PrivateKey, PublicKey, privateKeyObject } from '../keys/keys.ts';
import { EMPTY, HASH_LENGTH, labeledExpand, labeledExtract } from './key-schedule.ts';
import { KEM_X25519_HKDF_SHA256 } from './suites.ts';

const KEM_SUITE_ID = Buffer.concat([utf8('KEM'), i2osp(KEM_X25519_HKDF_SHA256, 2)]);

/** RFC 9180 §7.1.3 DeriveKeyPair for X25519 (used by the known-answer tests). */
export function deriveKeyPair(ikm: Uint8Array): PrivateKey<'x25519'> {
  const prk = labeledExtract(KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
  const sk = labeledExpand(KEM_SUITE_ID, prk, 'sk', EMPTY, 32);
  try {
    return PrivateKey.fromBytes('x25519', sk);
  } finally {
    wipe(prk, sk);
  }
}

// setupSender and setupRecipient check key kinds before calling this (InvalidKey), so a failure
// here is the DH itself.
function dh(privateKey: Parameters<typeof diffieHellman>[0]['privateKey'], publicKey: PublicKey<'x25519'>): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey: publicKey.keyObject });
  } catch {
    // OpenSSL refuses an all-zero shared secret (a low-order point), as RFC 9180 §7.1.4 requires.
    throw new CryptoError('DecryptionFailed');
  }
}

/**
 * DHKEM ExtractAndExpand (RFC 9180 §4.1) with kem_context = enc ‖ pkR. Wipes `dhResult`. Exported
 * (not from the package) for the low-order blob vector, which is sealed as if DH gave all zeros.
 */
export function kemSharedSecret(dhResult: Buffer, enc: Uint8Array, recipient: PublicKey<'x25519'>): Buffer {
  const prk = labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dhResult);
  try {
    return labeledExpand(KEM_SUITE_ID, prk, 'shared_secret', Buffer.concat([enc, recipient.bytes()]), HASH_LENGTH);
  } finally {
    wipe(prk, dhResult);
  }
}

export function encapX25519(
  recipient: PublicKey,
  ephemeral?: PrivateKey<'x25519'>,
): { enc: Buffer; sharedSecret: Buffer } {
  assertKind(recipient, 'x25519', 'HPKE recipient');
  const x25519Recipient = recipient as PublicKey<'x25519'>;
  if (ephemeral) assertKind(ephemeral, 'x25519', 'HPKE ephemeral key');
  let enc: Buffer;
  let dhResult: Buffer;
  if (ephemeral) {
    enc = ephemeral.publicKey.bytes();
    dhResult = dh(privateKeyObject(ephemeral), x25519Recipient);
  } else {
    // Public half as JWK, private half stays a KeyObject (never serialised).
    const pair = generateKeyPairSync('x25519', { publicKeyEncoding: { format: 'jwk' } });
    enc = Buffer.from((pair.publicKey as unknown as { x: string }).x as string, 'base64url');
    dhResult = dh(pair.privateKey, x25519Recipient);
  }
  return { enc, sharedSecret: kemSharedSecret(dhResult, enc, x25519Recipient) };
}

export function encapXWing(recipient: PublicKey, eseed?: unknown): { enc: Buffer; sharedSecret: Buffer } {
  assertKind(recipient, 'xwing', 'HPKE recipient');
  if (eseed !== undefined && !(eseed instanceof Uint8Array)) {
    throw new CryptoError('InvalidParameters', 'X-Wing test randomness is a 64-byte eseed');
  }
  const { ct, sharedSecret } = encapsulate(recipient.bytes(), eseed);
  return { enc: ct, sharedSecret };
}

export function decapX25519(enc: Uint8Array, recipient: PrivateKey<'x25519'>): Buffer {
  let ephemeralPublic: PublicKey<'x25519'>;
  try {
    ephemeralPublic = PublicKey.fromBytes('x25519', enc);
  } catch {
    throw new CryptoError('DecryptionFailed');
  }
  const dhResult = dh(privateKeyObject(recipient), ephemeralPublic);
  return kemSharedSecret(dhResult, enc, recipient.publicKey);
}
