/**
 * Sealed blob v1 (docs/crypto.md) made with @hpke/core: HPKE base mode, DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM, info `coffer/record/v1`, AAD = length-prefixed (record id, type, data key
 * id) — the same bytes libs/crypto's `seal(key, value, recordBinding(id, type, keyId))` makes, so the
 * vault and admin cannot tell (and need not know) where a record was sealed.
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { concat, lengthPrefixed, utf8 } from './bytes.ts';

export const SEALED_BLOB_VERSION = 0x01;
const HEADER = Uint8Array.of(SEALED_BLOB_VERSION, 0x00, 0x20, 0x00, 0x01, 0x00, 0x02);
const ENC_LENGTH = 32;
export const SEALED_BLOB_OVERHEAD = HEADER.length + ENC_LENGTH + 16;
const RECORD_INFO = utf8('coffer/record/v1');

let suite: CipherSuite | undefined;
function cipherSuite(): CipherSuite {
  suite ??= new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  return suite;
}

export function recordAad(recordId: string, type: string, keyId: string): Uint8Array {
  return lengthPrefixed(recordId, type, keyId);
}

/** Seal `plaintext` to a raw X25519 public key, bound to (record id, type, data key id). */
export async function sealRecord(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  binding: { recordId: string; type: string; keyId: string },
): Promise<Uint8Array> {
  const s = cipherSuite();
  const recipientPublicKey = await s.kem.deserializePublicKey(new Uint8Array(publicKey).buffer);
  const copy = new Uint8Array(plaintext); // the caller wipes its own; this one is wiped here
  try {
    const { enc, ct } = await s.seal(
      { recipientPublicKey, info: RECORD_INFO.slice().buffer },
      copy.buffer,
      recordAad(binding.recordId, binding.type, binding.keyId).slice().buffer,
    );
    return concat(HEADER, new Uint8Array(enc), new Uint8Array(ct));
  } finally {
    copy.fill(0);
  }
}

/**
 * Open a v1 record blob with a raw X25519 private key. Not part of the browser module (nothing in a
 * page holds a data private key); it exists so the interop tests can open libs/crypto's blobs with
 * @hpke/core.
 */
export async function openRecord(
  privateKey: Uint8Array,
  blob: Uint8Array,
  binding: { recordId: string; type: string; keyId: string },
): Promise<Uint8Array> {
  if (blob.length < SEALED_BLOB_OVERHEAD || !HEADER.every((b, i) => blob[i] === b)) {
    throw new Error('not a sealed blob v1 of the Coffer suite');
  }
  const s = cipherSuite();
  const recipientKey = await s.kem.deserializePrivateKey(new Uint8Array(privateKey).buffer);
  // Copies (a Buffer's slice would be a view into Node's shared pool, and .buffer all of it).
  const enc = new Uint8Array(blob.subarray(HEADER.length, HEADER.length + ENC_LENGTH));
  const ct = new Uint8Array(blob.subarray(HEADER.length + ENC_LENGTH));
  const pt = await s.open(
    { recipientKey, enc: enc.buffer, info: RECORD_INFO.slice().buffer },
    ct.buffer,
    recordAad(binding.recordId, binding.type, binding.keyId).slice().buffer,
  );
  return new Uint8Array(pt);
}
