/** Small byte helpers shared by the formats. None of them is a cryptographic primitive. */
import { CryptoError } from './errors.ts';

// The repo's lib is ES2023; String.prototype.isWellFormed is ES2024 but ships in Node 20.
export const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * UTF-8 bytes of a string. An unpaired surrogate would be written as U+FFFD, so two different ids
 * (or passwords) would encode alike; such strings are refused instead.
 */
export function utf8(s: string): Buffer {
  if (!isWellFormed(s)) throw new CryptoError('Malformed', 'string is not well-formed Unicode');
  return Buffer.from(s, 'utf8');
}

/**
 * Big-endian unsigned integer of `width` bytes (RFC 8017 I2OSP). A value the width cannot hold
 * exactly (negative, fractional, too large) is refused: writing it as something else would let two
 * different values sign alike.
 */
export function i2osp(value: number, width: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** (8 * width)) {
    throw new CryptoError('Malformed', `not an unsigned integer of ${width} bytes`);
  }
  const out = Buffer.alloc(width);
  let v = value;
  for (let i = width - 1; i >= 0 && v > 0; i--) {
    out[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  return out;
}

/**
 * Unambiguous concatenation for associated data and signed messages: each field is preceded by
 * its length as a 16-bit big-endian integer, so ("ab","c") and ("a","bc") never collide.
 */
export function lengthPrefixed(...fields: (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = typeof field === 'string' ? utf8(field) : Buffer.from(field);
    if (bytes.length > 0xffff) throw new CryptoError('Malformed', 'field longer than 65535 bytes');
    parts.push(i2osp(bytes.length, 2), bytes);
  }
  return Buffer.concat(parts);
}

/** Overwrite secret bytes once they are no longer needed. */
export function wipe(...buffers: (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

export function fromBase64url(s: string, expectedLength?: number): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new CryptoError('Malformed', 'not base64url');
  const out = Buffer.from(s, 'base64url');
  if (out.toString('base64url') !== s) throw new CryptoError('Malformed', 'non-canonical base64url');
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new CryptoError('Malformed', `expected ${expectedLength} bytes`);
  }
  return out;
}
