/**
 * AES-GCM from node:crypto, as the AEAD of HPKE and of symmetric key wrapping. Decryption either
 * returns the whole plaintext after the tag verifies or throws DecryptionFailed; bytes produced
 * before a failed tag check are wiped, never returned.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';

export const GCM_NONCE_LENGTH = 12;
export const GCM_TAG_LENGTH = 16;

function algorithmFor(key: Uint8Array): 'aes-128-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new CryptoError('InvalidKey', 'AES-GCM key must be 16 or 32 bytes');
}

/** Returns ciphertext ‖ 16-byte tag. */
export function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const cipher = createCipheriv(algorithmFor(key), key, nonce, { authTagLength: GCM_TAG_LENGTH });
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

export function aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (sealed.length < GCM_TAG_LENGTH) throw new CryptoError('Truncated', 'ciphertext shorter than its tag');
  const split = sealed.length - GCM_TAG_LENGTH;
  const decipher = createDecipheriv(algorithmFor(key), key, nonce, { authTagLength: GCM_TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(split));
  const body = decipher.update(sealed.subarray(0, split));
  try {
    decipher.final();
  } catch {
    wipe(body);
    throw new CryptoError('DecryptionFailed');
  }
  return body;
}
