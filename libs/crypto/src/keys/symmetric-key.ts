/**
 * A 32-byte AES-256-GCM key (a KEK from a password, or a session key). Like PrivateKey, it prints
 * as a redacted label and hands its bytes only to this package. Only this package makes one, from
 * bytes it derived: a public way to build one from chosen bytes would let a caller wrap any private
 * key under a key it knows and decrypt the raw bytes itself.
 */
import { inspect } from 'node:util';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';

const KEY_LENGTH = 32;

let bytesOf: (key: SymmetricKey) => Buffer;
let fromBytes: (bytes: Uint8Array) => SymmetricKey;

export class SymmetricKey {
  readonly #bytes: Buffer;

  private constructor(bytes: Uint8Array) {
    if (bytes.length !== KEY_LENGTH) throw new CryptoError('InvalidKey', 'symmetric key must be 32 bytes');
    // A copy in memory of its own (Buffer.alloc, not the shared pool): destroy() then wipes the
    // only copy, and never a buffer someone else still holds.
    this.#bytes = Buffer.alloc(KEY_LENGTH);
    this.#bytes.set(bytes);
  }

  static {
    bytesOf = (key) => key.#bytes;
    fromBytes = (bytes) => new SymmetricKey(bytes);
  }

  destroy(): void {
    wipe(this.#bytes);
  }

  toJSON(): string {
    return '[symmetric key]';
  }

  toString(): string {
    return '[symmetric key]';
  }

  [Symbol.toPrimitive](): string {
    return '[symmetric key]';
  }

  [inspect.custom](): string {
    return '[symmetric key]';
  }
}

/**
 * @internal A key holding a copy of `bytes`. The caller still owns `bytes` and wipes them when it
 * made them. Not exported from the package entry point.
 */
export function symmetricKeyFromBytes(bytes: Uint8Array): SymmetricKey {
  return fromBytes(bytes);
}

/** @internal Not exported from the package entry point. */
export function symmetricKeyBytes(key: SymmetricKey): Buffer {
  return bytesOf(key);
}
