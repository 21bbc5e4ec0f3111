/**
 * Wrapping private keys, two ways:
 *  - to a recipient public key (HPKE, sealed-blob format): data keys and the org key, wrapped to
 *    users and to the recovery key;
 *  - under a symmetric key (AES-256-GCM): a user's key under the KEK or a session key.
 *
 * The wrapped plaintext is one kind byte followed by the 32 raw private bytes (an xwing key's
 * 32-byte seed), so a key unwrapped as the wrong kind is refused by name. Wrapping to a public key takes only wrapped-key bindings
 * (`coffer/wrap/…`), which the public `open` refuses: the raw bytes come back only as a PrivateKey.
 *
 * Symmetric wrap format, version 1:
 *   0  1   format version (0x01)
 *   1  2   AEAD id (0x0002 AES-256-GCM, same registry as HPKE)
 *   3  12  random nonce
 *   15 49  ciphertext of (kind ‖ key) ‖ GCM tag
 */
import { randomBytes } from 'node:crypto';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_LENGTH, GCM_TAG_LENGTH } from '../aead/aes-gcm.ts';
import { type Binding, isWrappedKeyBinding } from '../bindings.ts';
import { openBlob, sealBlob } from '../blob/sealed-blob.ts';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { AEAD_AES_256_GCM } from '../hpke/hpke.ts';
import {
  assertRecipientKind,
  exportPrivateBytes,
  type KeyKind,
  PrivateKey,
  type PublicKey,
  type RecipientKind,
} from '../keys/keys.ts';
import { type SymmetricKey, symmetricKeyBytes } from '../keys/symmetric-key.ts';

const KIND_BYTE: Record<KeyKind, number> = { x25519: 0x01, ed25519: 0x02, xwing: 0x03 };
const ENCODED_LENGTH = 33;
const WRAP_VERSION = 0x01;
const WRAP_HEADER_LENGTH = 3;
const WRAPPED_LENGTH = WRAP_HEADER_LENGTH + GCM_NONCE_LENGTH + ENCODED_LENGTH + GCM_TAG_LENGTH;

function encodeKey(key: PrivateKey): Buffer {
  const raw = exportPrivateBytes(key);
  const out = Buffer.concat([Buffer.of(KIND_BYTE[key.kind]), raw]);
  wipe(raw);
  return out;
}

function decodeKey<K extends KeyKind>(kinds: K | readonly K[], encoded: Buffer): PrivateKey<K> {
  try {
    if (encoded.length !== ENCODED_LENGTH) throw new CryptoError('Malformed', 'wrapped key has the wrong length');
    const allowed: readonly K[] = typeof kinds === 'string' ? [kinds] : kinds;
    const kind = allowed.find((k) => KIND_BYTE[k] === encoded[0]);
    if (kind === undefined) throw new CryptoError('WrongKeyKind', `wrapped key is not ${allowed.join(' or ')}`);
    return PrivateKey.fromBytes(kind, encoded.subarray(1));
  } finally {
    wipe(encoded);
  }
}

function requireWrappedKeyBinding(binding: Binding): void {
  if (!isWrappedKeyBinding(binding)) {
    throw new CryptoError('WrongBinding', 'a wrapped key needs dataKeyWrapBinding or orgKeyWrapBinding');
  }
}

/**
 * Wrap a private key to a recipient's public key (HPKE sealed blob): DHKEM(X25519) to an x25519
 * recipient, X-Wing to an xwing one; the blob names the suite.
 */
export function wrapPrivateKey(key: PrivateKey, recipient: PublicKey<RecipientKind>, binding: Binding): Buffer {
  requireWrappedKeyBinding(binding);
  assertRecipientKind(recipient, 'recipient');
  const encoded = encodeKey(key);
  try {
    return sealBlob(recipient, encoded, binding);
  } finally {
    wipe(encoded);
  }
}

/**
 * `kind` is what the caller expects, or several kinds when it handles each (re-wrapping data keys
 * of both suites to a new holder): the key comes back with the kind its wrapped bytes name.
 */
export function unwrapPrivateKey<K extends KeyKind>(
  kind: K | readonly K[],
  identity: PrivateKey<RecipientKind>,
  wrapped: Uint8Array,
  binding: Binding,
): PrivateKey<K> {
  requireWrappedKeyBinding(binding);
  return decodeKey(kind, openBlob(identity, wrapped, binding));
}

/** Wrap a private key under a symmetric key (KEK or session key). */
export function wrapWithSymmetricKey(key: PrivateKey, wrappingKey: SymmetricKey, aad: Uint8Array): Buffer {
  const encoded = encodeKey(key);
  const header = Buffer.of(WRAP_VERSION, 0, 0);
  header.writeUInt16BE(AEAD_AES_256_GCM, 1);
  const nonce = randomBytes(GCM_NONCE_LENGTH);
  try {
    const sealed = aesGcmEncrypt(symmetricKeyBytes(wrappingKey), nonce, encoded, Buffer.concat([header, aad]));
    return Buffer.concat([header, nonce, sealed]);
  } finally {
    wipe(encoded);
  }
}

/**
 * `kind` as for unwrapPrivateKey: a person's key is X25519 or X-Wing, and the kind byte inside the
 * authenticated plaintext says which (never the caller's guess).
 */
export function unwrapWithSymmetricKey<K extends KeyKind>(
  kind: K | readonly K[],
  wrappingKey: SymmetricKey,
  wrapped: Uint8Array,
  aad: Uint8Array,
): PrivateKey<K> {
  const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (bytes.length < 1) throw new CryptoError('Truncated', 'wrapped key is empty');
  if (bytes[0] !== WRAP_VERSION) throw new CryptoError('UnsupportedVersion', `wrapped key version ${bytes[0]}`);
  if (bytes.length < WRAP_HEADER_LENGTH) throw new CryptoError('Truncated', 'wrapped key header is cut short');
  if (bytes.readUInt16BE(1) !== AEAD_AES_256_GCM) throw new CryptoError('UnsupportedSuite', 'wrapped key AEAD');
  if (bytes.length < WRAPPED_LENGTH) throw new CryptoError('Truncated', 'wrapped key is cut short');
  if (bytes.length > WRAPPED_LENGTH) throw new CryptoError('Malformed', 'wrapped key has trailing bytes');
  const header = bytes.subarray(0, WRAP_HEADER_LENGTH);
  const nonce = bytes.subarray(WRAP_HEADER_LENGTH, WRAP_HEADER_LENGTH + GCM_NONCE_LENGTH);
  const sealed = bytes.subarray(WRAP_HEADER_LENGTH + GCM_NONCE_LENGTH);
  const encoded = aesGcmDecrypt(symmetricKeyBytes(wrappingKey), nonce, sealed, Buffer.concat([header, aad]));
  return decodeKey(kind, encoded);
}
