/**
 * HPKE base mode (RFC 9180) composed from node:crypto: DHKEM(X25519, HKDF-SHA256) or X-Wing
 * (kem/xwing.ts), HKDF-SHA256, and AES-128-GCM or AES-256-GCM. The KEM is a parameter of the
 * suite; the key schedule is the same for both. Only what Coffer uses is here: base mode, single-shot and
 * sequenced contexts, no PSK/auth modes, no exporter interface. Checked against RFC 9180's
 * known-answer vectors and cross-checked against @hpke/core in hpke.test.ts.
 */
import { createHmac, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_LENGTH } from '../aead/aes-gcm.ts';
import { i2osp, utf8, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { decapsulate, encapsulate } from '../kem/xwing.ts';
import {
  assertKind,
  PrivateKey,
  PublicKey,
  privateKeyObject,
  type RecipientKind,
  xwingDecapsulationKey,
} from '../keys/keys.ts';
import {
  AEAD_AES_256_GCM,
  encLength,
  KEM_X25519_HKDF_SHA256,
  KEM_XWING,
  recipientKindOf,
  type Suite,
} from './suites.ts';

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

const HASH_LENGTH = 32;
const MODE_BASE = 0x00;
const VERSION_LABEL = utf8('HPKE-v1');
const KEM_SUITE_ID = Buffer.concat([utf8('KEM'), i2osp(KEM_X25519_HKDF_SHA256, 2)]);
const EMPTY = Buffer.alloc(0);

// RFC 5869, on HMAC-SHA256. An empty salt is HashLen zero bytes, as the RFC says. The input is
// fed in parts rather than concatenated: a concatenation would be a copy of the secret in Node's
// shared Buffer pool, out of wipe()'s reach.
function extract(salt: Uint8Array, ...ikm: Uint8Array[]): Buffer {
  const hmac = createHmac('sha256', salt.length === 0 ? Buffer.alloc(HASH_LENGTH) : salt);
  for (const part of ikm) hmac.update(part);
  return hmac.digest();
}

// The output is allocated with Buffer.alloc (memory of its own, never a pool slice) and every
// HMAC block is wiped once copied, so wiping the result leaves no copy of the secret behind.
function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  let previous = EMPTY;
  for (let i = 1, written = 0; written < length; i++) {
    const block = createHmac('sha256', prk).update(previous).update(info).update(Buffer.of(i)).digest();
    wipe(previous);
    written += block.copy(out, written);
    previous = block;
  }
  wipe(previous);
  return out;
}

function labeledExtract(suiteId: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return extract(salt, VERSION_LABEL, suiteId, utf8(label), ikm);
}

function labeledExpand(suiteId: Buffer, prk: Uint8Array, label: string, info: Uint8Array, length: number): Buffer {
  return expand(prk, Buffer.concat([i2osp(length, 2), VERSION_LABEL, suiteId, utf8(label), info]), length);
}

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

function suiteId(suite: Suite): Buffer {
  return Buffer.concat([utf8('HPKE'), i2osp(suite.kem, 2), i2osp(suite.kdf, 2), i2osp(suite.aead, 2)]);
}

const contextCache = new Map<string, Buffer>();

/**
 * key_schedule_context depends only on suite and info; Coffer's infos are a few constants. Callers
 * get a copy, so nothing they do to it can change what the next key schedule uses.
 */
function keyScheduleContext(suite: Suite, info: Uint8Array): Buffer {
  const cacheKey = `${suite.kem}:${suite.kdf}:${suite.aead}:${Buffer.from(info).toString('base64')}`;
  const hit = contextCache.get(cacheKey);
  if (hit) return Buffer.from(hit);
  const id = suiteId(suite);
  const context = Buffer.concat([
    Buffer.of(MODE_BASE),
    labeledExtract(id, EMPTY, 'psk_id_hash', EMPTY),
    labeledExtract(id, EMPTY, 'info_hash', info),
  ]);
  if (contextCache.size < 64) contextCache.set(cacheKey, Buffer.from(context));
  return context;
}

/** Everything the key schedule produces; the tests compare each field with the RFC. */
export interface KeySchedule {
  readonly keyScheduleContext: Buffer;
  readonly secret: Buffer;
  readonly key: Buffer;
  readonly baseNonce: Buffer;
  readonly exporterSecret: Buffer;
}

export function keySchedule(suite: Suite, sharedSecret: Uint8Array, info: Uint8Array): KeySchedule {
  const id = suiteId(suite);
  const context = keyScheduleContext(suite, info);
  const secret = labeledExtract(id, sharedSecret, 'secret', EMPTY);
  const keyLength = suite.aead === AEAD_AES_256_GCM ? 32 : 16;
  return {
    keyScheduleContext: context,
    secret,
    key: labeledExpand(id, secret, 'key', context, keyLength),
    baseNonce: labeledExpand(id, secret, 'base_nonce', context, GCM_NONCE_LENGTH),
    exporterSecret: labeledExpand(id, secret, 'exp', context, HASH_LENGTH),
  };
}

/**
 * A sequenced HPKE context (RFC 9180 §5.2). Wrapped keys and v1 record blobs use one message per
 * context; v2 record blobs seal many records under one context (record-context.ts).
 */
export class Context {
  #seq = 0;
  readonly #key: Buffer;
  readonly #baseNonce: Buffer;

  /** Takes ownership of the schedule's key and base nonce (wiped by destroy) and wipes the rest. */
  constructor(schedule: KeySchedule) {
    this.#key = schedule.key;
    this.#baseNonce = schedule.baseNonce;
    wipe(schedule.secret, schedule.exporterSecret);
  }

  /** The sequence number the next seal or open uses. */
  get sequence(): number {
    return this.#seq;
  }

  // ComputeNonce(seq) of RFC 9180 §5.2. The first nonce equals the base nonce, so nonces get
  // memory of their own and are wiped after use.
  #nonceFor(sequence: number): Buffer {
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      throw new CryptoError('Malformed', `not an unsigned integer of ${GCM_NONCE_LENGTH} bytes`);
    }
    // base_nonce XOR I2OSP(seq, Nn), one byte at a time from the end: no second buffer per record.
    const nonce = Buffer.from(this.#baseNonce);
    let rest = sequence;
    for (let i = GCM_NONCE_LENGTH - 1; rest > 0; i--) {
      nonce[i] = (nonce[i] as number) ^ (rest & 0xff);
      rest = Math.floor(rest / 256);
    }
    return nonce;
  }

  #nextNonce(): Buffer {
    const nonce = this.#nonceFor(this.#seq);
    this.#seq += 1;
    return nonce;
  }

  /**
   * Open the message sealed at `sequence`, without touching the context's own sequence. A sender's
   * context seals in order, but a store reads the records of one context in any order (a reveal
   * reads one); the nonce is ComputeNonce(seq) as in §5.2, so this is the same open at that
   * position. The caller must never open two different ciphertexts as one sequence number's
   * authentic message; GCM's tag already refuses any but the one sealed there.
   */
  openAt(sequence: number, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const nonce = this.#nonceFor(sequence);
    try {
      return aesGcmDecrypt(this.#key, nonce, ciphertext, aad);
    } finally {
      wipe(nonce);
    }
  }

  seal(aad: Uint8Array, plaintext: Uint8Array): Buffer {
    const nonce = this.#nextNonce();
    try {
      return aesGcmEncrypt(this.#key, nonce, plaintext, aad);
    } finally {
      wipe(nonce);
    }
  }

  open(aad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const nonce = this.#nextNonce();
    try {
      return aesGcmDecrypt(this.#key, nonce, ciphertext, aad);
    } catch (err) {
      this.#seq -= 1; // RFC 9180 §5.2: a failed open does not advance the sequence
      throw err;
    } finally {
      wipe(nonce);
    }
  }

  destroy(): void {
    wipe(this.#key, this.#baseNonce);
  }
}

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

function encapX25519(recipient: PublicKey, ephemeral?: PrivateKey<'x25519'>): { enc: Buffer; sharedSecret: Buffer } {
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

function encapXWing(recipient: PublicKey, eseed?: unknown): { enc: Buffer; sharedSecret: Buffer } {
  assertKind(recipient, 'xwing', 'HPKE recipient');
  if (eseed !== undefined && !(eseed instanceof Uint8Array)) {
    throw new CryptoError('InvalidParameters', 'X-Wing test randomness is a 64-byte eseed');
  }
  const { ct, sharedSecret } = encapsulate(recipient.bytes(), eseed);
  return { enc: ct, sharedSecret };
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

function decapX25519(enc: Uint8Array, recipient: PrivateKey<'x25519'>): Buffer {
  let ephemeralPublic: PublicKey<'x25519'>;
  try {
    ephemeralPublic = PublicKey.fromBytes('x25519', enc);
  } catch {
    throw new CryptoError('DecryptionFailed');
  }
  const dhResult = dh(privateKeyObject(recipient), ephemeralPublic);
  return kemSharedSecret(dhResult, enc, recipient.publicKey);
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
