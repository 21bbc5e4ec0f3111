/**
 * HPKE base mode (RFC 9180) composed from node:crypto: DHKEM(X25519, HKDF-SHA256) or X-Wing
 * (kem/xwing.ts), HKDF-SHA256, and AES-128-GCM or AES-256-GCM. The KEM is a parameter of the
 * suite; the key schedule is the same for both. Only what Coffer uses is here: base mode, single-shot and
 * sequenced contexts, no PSK/auth modes, no exporter interface. Checked against RFC 9180's
 * known-answer vectors and cross-checked against @hpke/core in hpke.test.ts. Here: setting up a
 * sender or recipient context, and single-shot seal and open; the KEM step is in dhkem.ts, the key
 * schedule in key-schedule.ts, the context in context.ts.
 */
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { decapsulate } from '../kem/xwing.ts';
import {
  assertKind,
  type PrivateKey,
  type PublicKey,
  type RecipientKind,
  xwingDecapsulationKey,
} from '../keys/keys.ts';
import { Context } from './context.ts';
import { decapX25519, encapX25519, encapXWing } from './dhkem.ts';
import { keySchedule } from './key-schedule.ts';
import { encLength, KEM_XWING, recipientKindOf, type Suite } from './suites.ts';

export { Context } from './context.ts';
export { deriveKeyPair, kemSharedSecret } from './dhkem.ts';
export { type KeySchedule, keySchedule } from './key-schedule.ts';
export {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  COFFER_SUITE,
  encLength,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  KEM_XWING,
  recipientKindOf,
  type Suite,
  sealingSuiteFromIds,
  suiteFor,
  XWING_SUITE,
} from './suites.ts';

/**
 * SetupBaseS. `testRandomness` exists for known-answer tests only — an X25519 ephemeral key for
 * DHKEM, the 64-byte eseed for X-Wing; in use fresh randomness is drawn. Returns the encapsulated
 * key and the sender context.
 */
export function setupSender(
  suite: Suite,
  recipient: PublicKey<RecipientKind>,
  info: Uint8Array,
  testRandomness?: PrivateKey<'x25519'> | Uint8Array,
): { enc: Buffer; context: Context } {
  const { enc, sharedSecret } =
    suite.kem === KEM_XWING
      ? encapXWing(recipient, testRandomness)
      : encapX25519(recipient, testRandomness as PrivateKey<'x25519'> | undefined);
  try {
    return { enc, context: new Context(keySchedule(suite, sharedSecret, info)) };
  } finally {
    wipe(sharedSecret);
  }
}

/**
 * SetupBaseR. The recipient key must be of the suite's KEM (InvalidKey). Throws Malformed for an
 * enc of the wrong length and DecryptionFailed for one that is not a usable X25519 public key.
 */
export function setupRecipient(
  suite: Suite,
  enc: Uint8Array,
  recipient: PrivateKey<RecipientKind>,
  info: Uint8Array,
): Context {
  assertKind(recipient, recipientKindOf(suite), 'HPKE recipient');
  if (enc.length !== encLength(suite)) {
    throw new CryptoError('Malformed', `encapsulated key must be ${encLength(suite)} bytes`);
  }
  const sharedSecret =
    suite.kem === KEM_XWING
      ? decapsulate(enc, xwingDecapsulationKey(recipient as PrivateKey<'xwing'>))
      : decapX25519(enc, recipient as PrivateKey<'x25519'>);
  try {
    return new Context(keySchedule(suite, sharedSecret, info));
  } finally {
    wipe(sharedSecret);
  }
}

/** Single-shot seal (RFC 9180 §6.1). */
export function sealBase(
  suite: Suite,
  recipient: PublicKey<RecipientKind>,
  info: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): { enc: Buffer; ciphertext: Buffer } {
  const { enc, context } = setupSender(suite, recipient, info);
  try {
    return { enc, ciphertext: context.seal(aad, plaintext) };
  } finally {
    context.destroy();
  }
}

/** Single-shot open (RFC 9180 §6.1). */
export function openBase(
  suite: Suite,
  enc: Uint8Array,
  recipient: PrivateKey<RecipientKind>,
  info: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
): Buffer {
  const context = setupRecipient(suite, enc, recipient, info);
  try {
    return context.open(aad, ciphertext);
  } finally {
    context.destroy();
  }
}
