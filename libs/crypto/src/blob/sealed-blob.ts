/**
 * The sealed-blob format, version 1: a public-key seal that names its own suite, so the suite can
 * change later without a flag day.
 *
 *   offset  size  field
 *   0       1     format version (0x01)
 *   1       2     HPKE KEM id  (0x0020 DHKEM(X25519, HKDF-SHA256))
 *   3       2     HPKE KDF id  (0x0001 HKDF-SHA256)
 *   5       2     HPKE AEAD id (0x0002 AES-256-GCM)
 *   7       32    encapsulated key (enc)
 *   39      n+16  ciphertext ‖ GCM tag
 *
 * The public `seal` and `open` refuse wrapped-key bindings (info `coffer/wrap/…`): the plaintext of
 * a wrapped key is the raw private key, so anyone holding a key could otherwise wrap it to
 * themselves and `open` it back as bytes. Wrapped keys go through wrap/wrap.ts, which uses the
 * unchecked `sealBlob` / `openBlob` and hands out only PrivateKey objects.
 */
import { type Binding, isWrappedKeyBinding } from '../bindings.ts';
import { utf8 } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { COFFER_SUITE, openBase, type Suite, sealBase } from '../hpke/hpke.ts';
import { assertKind, type PrivateKey, type PublicKey } from '../keys/keys.ts';

export const SEALED_BLOB_VERSION = 0x01;
const HEADER_LENGTH = 7;
const ENC_LENGTH = 32;
const TAG_LENGTH = 16;
export const SEALED_BLOB_OVERHEAD = HEADER_LENGTH + ENC_LENGTH + TAG_LENGTH;

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
  const kem = bytes.readUInt16BE(1);
  const kdf = bytes.readUInt16BE(3);
  const aead = bytes.readUInt16BE(5);
  if (kem !== COFFER_SUITE.kem || kdf !== COFFER_SUITE.kdf || aead !== COFFER_SUITE.aead) {
    throw new CryptoError('UnsupportedSuite', `suite ${kem}/${kdf}/${aead}`);
  }
  if (bytes.length < SEALED_BLOB_OVERHEAD) throw new CryptoError('Truncated', 'sealed blob is cut short');
  return {
    version,
    suite: COFFER_SUITE,
    enc: bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + ENC_LENGTH),
    ciphertext: bytes.subarray(HEADER_LENGTH + ENC_LENGTH),
  };
}

function refuseWrappedKeyBinding(binding: Binding): void {
  if (isWrappedKeyBinding(binding)) {
    throw new CryptoError('WrongBinding', 'wrapped-key bindings are for wrapPrivateKey / unwrapPrivateKey only');
  }
}

/** Seal `plaintext` to `recipient`, bound to `binding` (any binding but a wrapped key's). */
export function seal(recipient: PublicKey<'x25519'>, plaintext: Uint8Array, binding: Binding): Buffer {
  refuseWrappedKeyBinding(binding);
  return sealBlob(recipient, plaintext, binding);
}

/** Open a sealed blob; the whole plaintext or a CryptoError, never part of it. */
export function open(identity: PrivateKey<'x25519'>, blob: Uint8Array, binding: Binding): Buffer {
  refuseWrappedKeyBinding(binding);
  return openBlob(identity, blob, binding);
}

/** @internal seal without the binding check, for wrap.ts. Not exported from the package. */
export function sealBlob(recipient: PublicKey<'x25519'>, plaintext: Uint8Array, binding: Binding): Buffer {
  assertKind(recipient, 'x25519', 'recipient');
  const { enc, ciphertext } = sealBase(COFFER_SUITE, recipient, utf8(binding.info), binding.aad, plaintext);
  const header = Buffer.alloc(HEADER_LENGTH);
  header[0] = SEALED_BLOB_VERSION;
  header.writeUInt16BE(COFFER_SUITE.kem, 1);
  header.writeUInt16BE(COFFER_SUITE.kdf, 3);
  header.writeUInt16BE(COFFER_SUITE.aead, 5);
  return Buffer.concat([header, enc, ciphertext]);
}

/** @internal open without the binding check, for wrap.ts and the vectors. Not exported from the package. */
export function openBlob(identity: PrivateKey<'x25519'>, blob: Uint8Array, binding: Binding): Buffer {
  assertKind(identity, 'x25519', 'identity');
  const parsed = parseSealedBlob(blob);
  return openBase(parsed.suite, parsed.enc, identity, utf8(binding.info), binding.aad, parsed.ciphertext);
}
