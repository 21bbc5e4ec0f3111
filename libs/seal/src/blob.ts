/**
 * Sealed blob v1 (docs/crypto.md) made with @hpke/core: HPKE base mode, HKDF-SHA256, AES-256-GCM,
 * info `coffer/record/v1`, AAD = length-prefixed (record id, type, data key id) — the same bytes
 * libs/crypto's `seal(key, value, recordBinding(id, type, keyId))` makes, so the vault and admin
 * cannot tell (and need not know) where a record was sealed. The KEM is the bundle's suite:
 * DHKEM(X25519, HKDF-SHA256) or X-Wing (0x647A, @hpke/hybridkem-x-wing, which libs/crypto's own
 * X-Wing is cross-checked against both ways).
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { concat, lengthPrefixed, utf8 } from './bytes.ts';

export const SEALED_BLOB_VERSION = 0x01;
/** The suites this module seals with, by the name a bundle gives them. */
export type SealSuite = 'x25519' | 'xwing';

const HEADERS: Record<SealSuite, Uint8Array> = {
  x25519: Uint8Array.of(SEALED_BLOB_VERSION, 0x00, 0x20, 0x00, 0x01, 0x00, 0x02),
  xwing: Uint8Array.of(SEALED_BLOB_VERSION, 0x64, 0x7a, 0x00, 0x01, 0x00, 0x02),
};
const ENC_LENGTH: Record<SealSuite, number> = { x25519: 32, xwing: 1120 };
const HEADER_LENGTH = 7;
export const SEALED_BLOB_OVERHEAD = HEADER_LENGTH + ENC_LENGTH.x25519 + 16;
export const SEALED_BLOB_OVERHEAD_XWING = HEADER_LENGTH + ENC_LENGTH.xwing + 16;
const RECORD_INFO = utf8('coffer/record/v1');

const suites: Partial<Record<SealSuite, CipherSuite>> = {};
function cipherSuite(suite: SealSuite): CipherSuite {
  suites[suite] ??= new CipherSuite({
    kem: suite === 'xwing' ? new XWing() : new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  return suites[suite];
}

export function recordAad(recordId: string, type: string, keyId: string): Uint8Array {
  return lengthPrefixed(recordId, type, keyId);
}

/**
 * Seal `plaintext` to a raw public key of `suite` (32 bytes X25519, 1216 X-Wing), bound to
 * (record id, type, data key id).
 */
export async function sealRecord(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  binding: { recordId: string; type: string; keyId: string },
  suite: SealSuite = 'x25519',
): Promise<Uint8Array> {
  const s = cipherSuite(suite);
  const recipientPublicKey = await s.kem.deserializePublicKey(new Uint8Array(publicKey).buffer);
  const copy = new Uint8Array(plaintext); // the caller wipes its own; this one is wiped here
  try {
    const { enc, ct } = await s.seal(
      { recipientPublicKey, info: RECORD_INFO.slice().buffer },
      copy.buffer,
      recordAad(binding.recordId, binding.type, binding.keyId).slice().buffer,
    );
    return concat(HEADERS[suite], new Uint8Array(enc), new Uint8Array(ct));
  } finally {
    copy.fill(0);
  }
}

/**
 * Open a v1 record blob with a raw private key of the suite its header names (an X-Wing key is its
 * 32-byte seed). Not part of the browser module (nothing in a page holds a data private key); it
 * exists so the interop tests can open libs/crypto's blobs with @hpke/core.
 */
export async function openRecord(
  privateKey: Uint8Array,
  blob: Uint8Array,
  binding: { recordId: string; type: string; keyId: string },
): Promise<Uint8Array> {
  const suite = (['x25519', 'xwing'] as const).find((s) => HEADERS[s].every((b, i) => blob[i] === b));
  if (!suite || blob.length < HEADER_LENGTH + ENC_LENGTH[suite] + 16) {
    throw new Error('not a sealed blob v1 of a Coffer suite');
  }
  const s = cipherSuite(suite);
  const recipientKey = await s.kem.deserializePrivateKey(new Uint8Array(privateKey).buffer);
  // Copies (a Buffer's slice would be a view into Node's shared pool, and .buffer all of it).
  const enc = new Uint8Array(blob.subarray(HEADER_LENGTH, HEADER_LENGTH + ENC_LENGTH[suite]));
  const ct = new Uint8Array(blob.subarray(HEADER_LENGTH + ENC_LENGTH[suite]));
  const pt = await s.open(
    { recipientKey, enc: enc.buffer, info: RECORD_INFO.slice().buffer },
    ct.buffer,
    recordAad(binding.recordId, binding.type, binding.keyId).slice().buffer,
  );
  return new Uint8Array(pt);
}
