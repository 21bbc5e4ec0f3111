/**
 * A 32-byte AES-256-GCM key (a KEK from a password, or a session key). Like PrivateKey, it prints
 * as a redacted label and hands its bytes only to this package.
 */
import { inspect } from 'node:util';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';

let bytesOf: (key: SymmetricKey) => Buffer;

export class SymmetricKey {
  readonly #bytes: Buffer;

  /** Takes ownership of `bytes`: the caller must not reuse or wipe them. */
  private constructor(bytes: Buffer) {
    if (bytes.length !== 32) throw new CryptoError('InvalidKey', 'symmetric key must be 32 bytes');
    this.#bytes = bytes;
  }

  static {
    bytesOf = (key) => key.#bytes;
  }

  /** @internal */
  static adopt(bytes: Buffer): SymmetricKey {
    return new SymmetricKey(bytes);
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

/** @internal Not exported from the package entry point. */
export function symmetricKeyBytes(key: SymmetricKey): Buffer {
  return bytesOf(key);
}
