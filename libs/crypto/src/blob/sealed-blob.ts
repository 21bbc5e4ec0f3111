/**
 * The sealed-blob format, version 1: a public-key seal that names its own suite, so the suite can
 * change later without a flag day.
 *
 *   offset  size  field
 *   0       1     format version (0x01)
 *   1       2     HPKE KEM id  (0x0020 DHKEM(X25519, HKDF-SHA256) or 0x647A X-Wing)
 *   3       2     HPKE KDF id  (0x0001 HKDF-SHA256)
 *   5       2     HPKE AEAD id (0x0002 AES-256-GCM)
 *   7       Nenc  encapsulated key (enc): 32 bytes for DHKEM(X25519), 1120 for X-Wing
 *   7+Nenc  n+16  ciphertext ‖ GCM tag
 *
 * The enc length follows from the KEM id, as in HPKE itself, so X-Wing needs no new version: a
 * reader that predates X-Wing refuses such a blob by its suite (UnsupportedSuite) before it looks
 * at any length, and one that knows X-Wing reads both.
 *
 * The public `seal` and `open` refuse wrapped-key bindings (info `coffer/wrap/…`): the plaintext of
 * a wrapped key is the raw private key, so anyone holding a key could otherwise wrap it to
 * themselves and `open` it back as bytes. Wrapped keys go through wrap/wrap.ts, which uses the
 * unchecked `sealBlob` / `openBlob` and hands out only PrivateKey objects.
 */
import { type Binding, isWrappedKeyBinding } from '../bindings.ts';
import { utf8 } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import {
  encLength,
  openBase,
  recipientKindOf,
  type Suite,
  sealBase,
  sealingSuiteFromIds,
  suiteFor,
  XWING_SUITE,
} from '../hpke/hpke.ts';
import { assertKind, assertRecipientKind, type PrivateKey, type PublicKey, type RecipientKind } from '../keys/keys.ts';

export const SEALED_BLOB_VERSION = 0x01;
const HEADER_LENGTH = 7;
const TAG_LENGTH = 16;
/** Bytes a sealed blob adds to its plaintext with DHKEM(X25519). */
export const SEALED_BLOB_OVERHEAD = HEADER_LENGTH + 32 + TAG_LENGTH;
/** Bytes a sealed blob adds to its plaintext with X-Wing. */
export const SEALED_BLOB_OVERHEAD_XWING = HEADER_LENGTH + encLength(XWING_SUITE) + TAG_LENGTH;

/** The suite named by a blob header (bytes 1–6); UnsupportedSuite for any other. */
export function headerSuite(bytes: Buffer): Suite {
  return sealingSuiteFromIds(bytes.readUInt16BE(1), bytes.readUInt16BE(3), bytes.readUInt16BE(5));
}

/** The identity must be a key of the suite the blob names; a key of another kind is InvalidKey. */
export function assertIdentityFor(suite: Suite, identity: PrivateKey): void {
  assertKind(identity, recipientKindOf(suite), 'identity');
}

export interface ParsedSealedBlob {
  readonly version: number;
  readonly suite: Suite;
  readonly enc: Buffer;
  readonly ciphertext: Buffer;
}

export function parseSealedBlob(blob: Uint8Array): ParsedSealedBlob {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < 1) throw new CryptoError('Truncated', 'sealed blob is empty');
  const version = bytes[0] as number;
  if (version !== SEALED_BLOB_VERSION) throw new CryptoError('UnsupportedVersion', `sealed blob version ${version}`);
  if (bytes.length < HEADER_LENGTH) throw new CryptoError('Truncated', 'sealed blob header is cut short');
  const suite = headerSuite(bytes);
  const nenc = encLength(suite);
  if (bytes.length < HEADER_LENGTH + nenc + TAG_LENGTH) throw new CryptoError('Truncated', 'sealed blob is cut short');
  return {
    version,
    suite,
    enc: bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + nenc),
    ciphertext: bytes.subarray(HEADER_LENGTH + nenc),
  };
}

function refuseWrappedKeyBinding(binding: Binding): void {
  if (isWrappedKeyBinding(binding)) {
    throw new CryptoError('WrongBinding', 'wrapped-key bindings are for wrapPrivateKey / unwrapPrivateKey only');
  }
}

/**
 * Seal `plaintext` to `recipient`, bound to `binding` (any binding but a wrapped key's). The
 * suite follows the recipient's kind: DHKEM(X25519) for an x25519 key, X-Wing for an xwing key.
 */
export function seal(recipient: PublicKey<RecipientKind>, plaintext: Uint8Array, binding: Binding): Buffer {
  refuseWrappedKeyBinding(binding);
  return sealBlob(recipient, plaintext, binding);
}

/** Open a sealed blob; the whole plaintext or a CryptoError, never part of it. */
export function open(identity: PrivateKey<RecipientKind>, blob: Uint8Array, binding: Binding): Buffer {
  refuseWrappedKeyBinding(binding);
  return openBlob(identity, blob, binding);
}

/** @internal seal without the binding check, for wrap.ts. Not exported from the package. */
export function sealBlob(recipient: PublicKey<RecipientKind>, plaintext: Uint8Array, binding: Binding): Buffer {
  assertRecipientKind(recipient, 'recipient');
  const suite = suiteFor(recipient.kind);
  const { enc, ciphertext } = sealBase(suite, recipient, utf8(binding.info), binding.aad, plaintext);
  return Buffer.concat([suiteHeader(SEALED_BLOB_VERSION, suite), enc, ciphertext]);
}

/** Version byte and the suite's three ids: the first 7 bytes of every public-key blob. */
export function suiteHeader(version: number, suite: Suite): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  header[0] = version;
  header.writeUInt16BE(suite.kem, 1);
  header.writeUInt16BE(suite.kdf, 3);
  header.writeUInt16BE(suite.aead, 5);
  return header;
}

/** @internal open without the binding check, for wrap.ts and the vectors. Not exported from the package. */
export function openBlob(identity: PrivateKey<RecipientKind>, blob: Uint8Array, binding: Binding): Buffer {
  assertRecipientKind(identity, 'identity');
  const parsed = parseSealedBlob(blob);
  assertIdentityFor(parsed.suite, identity);
  return openBase(parsed.suite, parsed.enc, identity, utf8(binding.info), binding.aad, parsed.ciphertext);
}
