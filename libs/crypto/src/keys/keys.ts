/**
 * Key objects. Private keys keep their material inside a node:crypto KeyObject held in an ES
 * private field: JSON.stringify, util.inspect, template strings and string concatenation all see a
 * redacted label. Raw private bytes are reachable only through `exportPrivateBytes`, which this
 * package uses internally to wrap keys and split the recovery key and does not re-export.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { inspect } from 'node:util';
import { fromBase64url, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import {
  checkEncapsulationKey,
  expandDecapsulationKey,
  wipeDecapsulationKey,
  XWING_PUBLIC_KEY_LENGTH,
  type XWingDecapsulationKey,
} from '../kem/xwing.ts';

/**
 * `x25519` and `xwing` are HPKE recipient keys (DHKEM(X25519) and X-Wing); `ed25519` signs.
 * An xwing private key is the draft's 32-byte seed; its public key is 1216 bytes.
 */
export type KeyKind = 'x25519' | 'ed25519' | 'xwing';
/** The kinds a record, wrapped key or other sealed blob can be sealed to. */
export type RecipientKind = 'x25519' | 'xwing';

/** DER prefixes that turn 32 raw bytes into PKCS#8 for the two curves (RFC 8410). */
const PKCS8_PREFIX: Record<'x25519' | 'ed25519', Buffer> = {
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
};
const KEY_LENGTH = 32;
const PUBLIC_KEY_LENGTH: Record<KeyKind, number> = { x25519: 32, ed25519: 32, xwing: XWING_PUBLIC_KEY_LENGTH };

export class PublicKey<K extends KeyKind = KeyKind> {
  readonly kind: K;
  readonly #raw: Buffer;
  readonly #object: KeyObject | undefined;

  private constructor(kind: K, raw: Buffer, object: KeyObject | undefined) {
    this.kind = kind;
    this.#raw = raw;
    this.#object = object;
  }

  static fromBytes<K extends KeyKind>(kind: K, bytes: Uint8Array): PublicKey<K> {
    const length = PUBLIC_KEY_LENGTH[kind];
    if (length === undefined) throw new CryptoError('InvalidKey', 'unknown key kind');
    if (bytes.length !== length) throw new CryptoError('InvalidKey', `${kind} public key must be ${length} bytes`);
    const raw = Buffer.from(bytes);
    if (kind === 'xwing') {
      checkEncapsulationKey(raw);
      return new PublicKey(kind, raw, undefined);
    }
    try {
      const crv = kind === 'x25519' ? 'X25519' : 'Ed25519';
      const object = createPublicKey({ key: { kty: 'OKP', crv, x: raw.toString('base64url') }, format: 'jwk' });
      return new PublicKey(kind, raw, object);
    } catch {
      throw new CryptoError('InvalidKey', `not a valid ${kind} public key`);
    }
  }

  static fromBase64url<K extends KeyKind>(kind: K, text: string): PublicKey<K> {
    return PublicKey.fromBytes(kind, fromBase64url(text, PUBLIC_KEY_LENGTH[kind]));
  }

  /** @internal the node:crypto object, for this package's DH and verify calls (not for xwing). */
  get keyObject(): KeyObject {
    if (!this.#object) throw new CryptoError('InvalidKey', `an ${this.kind} key has no single node:crypto key`);
    return this.#object;
  }

  bytes(): Buffer {
    return Buffer.from(this.#raw);
  }

  toBase64url(): string {
    return this.#raw.toString('base64url');
  }

  equals(other: PublicKey): boolean {
    return this.kind === other.kind && this.#raw.equals(other.#raw);
  }

  /**
   * A fingerprint two people can read to each other: six groups of five digits (about 99 bits)
   * from SHA-256 over a domain label, the key kind and the key, as Signal's safety numbers do.
   */
  fingerprint(): string {
    const digest = createHash('sha256').update(`coffer/fingerprint/v1/${this.kind}/`).update(this.#raw).digest();
    const groups: string[] = [];
    for (let i = 0; i < 6; i++) {
      groups.push((digest.readUIntBE(i * 5, 5) % 100000).toString().padStart(5, '0'));
    }
    return groups.join(' ');
  }

  toJSON(): string {
    return this.toBase64url();
  }
}

let exportBytes: (key: PrivateKey) => Buffer;
let objectOf: (key: PrivateKey) => KeyObject;
let decapsulationKeyOf: (key: PrivateKey) => XWingDecapsulationKey;

/** An xwing private key's seed and the expanded key the draft lets an implementation cache. */
interface XWingSecret {
  readonly seed: Buffer;
  readonly expanded: XWingDecapsulationKey;
}

export class PrivateKey<K extends KeyKind = KeyKind> {
  readonly kind: K;
  readonly publicKey: PublicKey<K>;
  // x25519 and ed25519 keys live in a KeyObject; an xwing key in buffers of its own (wiped by destroy).
  readonly #object: KeyObject | undefined;
  readonly #xwing: XWingSecret | undefined;
  #destroyed = false;

  private constructor(kind: K, object: KeyObject | undefined, publicKey: PublicKey<K>, xwing?: XWingSecret) {
    this.kind = kind;
    this.#object = object;
    this.#xwing = xwing;
    this.publicKey = publicKey;
  }

  static {
    objectOf = (key) => {
      // A KeyObject cannot be wiped, so a destroyed key is refused here, at every use.
      if (key.#destroyed) throw new CryptoError('InvalidKey', 'key was destroyed');
      if (!key.#object) throw new CryptoError('InvalidKey', `an ${key.kind} key has no single node:crypto key`);
      return key.#object;
    };
    decapsulationKeyOf = (key) => {
      if (!key.#xwing) throw new CryptoError('InvalidKey', 'not an xwing key');
      if (key.#destroyed) throw new CryptoError('InvalidKey', 'key was destroyed');
      return key.#xwing.expanded;
    };
    exportBytes = (key) => {
      if (key.#destroyed) throw new CryptoError('InvalidKey', 'key was destroyed');
      if (key.#xwing) return Buffer.from(key.#xwing.seed);
      const der = (key.#object as KeyObject).export({ format: 'der', type: 'pkcs8' });
      const raw = Buffer.from(der.subarray(der.length - KEY_LENGTH));
      wipe(der);
      return raw;
    };
  }

  static generate<K extends KeyKind>(kind: K): PrivateKey<K> {
    if (kind === 'xwing') {
      const seed = randomBytes(KEY_LENGTH);
      try {
        return PrivateKey.fromBytes(kind, seed);
      } finally {
        wipe(seed);
      }
    }
    // Ask for the public half as JWK at generation time: exporting a freshly generated X25519
    // KeyObject as JWK can deadlock on Node 20.20.
    const pair =
      kind === 'x25519'
        ? generateKeyPairSync('x25519', { publicKeyEncoding: { format: 'jwk' } })
        : generateKeyPairSync('ed25519', { publicKeyEncoding: { format: 'jwk' } });
    // @types/node has no overload for a JWK public key encoding; the runtime returns a JWK.
    const publicKey = PublicKey.fromBase64url(kind, (pair.publicKey as unknown as { x: string }).x as string);
    return new PrivateKey(kind, pair.privateKey, publicKey);
  }

  /** Import 32 raw private bytes. The caller's buffer is left as it was; wipe it when done. */
  static fromBytes<K extends KeyKind>(kind: K, bytes: Uint8Array): PrivateKey<K> {
    if (bytes.length !== KEY_LENGTH) throw new CryptoError('InvalidKey', `${kind} private key must be 32 bytes`);
    if (kind === 'xwing') {
      const seed = Buffer.alloc(KEY_LENGTH);
      seed.set(bytes);
      const expanded = expandDecapsulationKey(seed);
      return new PrivateKey(kind, undefined, PublicKey.fromBytes(kind, expanded.publicKey), { seed, expanded });
    }
    const prefix = PKCS8_PREFIX[kind as 'x25519' | 'ed25519'];
    if (!prefix) throw new CryptoError('InvalidKey', 'unknown key kind');
    // PKCS#8 DER rather than JWK: the DER buffer can be wiped, a base64 string cannot.
    const der = Buffer.concat([prefix, bytes]);
    try {
      const object = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      const jwk = createPublicKey(object).export({ format: 'jwk' });
      return new PrivateKey(kind, object, PublicKey.fromBase64url(kind, jwk.x as string));
    } catch (err) {
      if (err instanceof CryptoError) throw err;
      throw new CryptoError('InvalidKey', `not a valid ${kind} private key`);
    } finally {
      wipe(der);
    }
  }

  /**
   * Make the key unusable: every later use (sign, open, unwrap, export) throws
   * CryptoError('InvalidKey'). An xwing key's seed and expanded ML-KEM key are wiped. An x25519 or
   * ed25519 key lives in a node:crypto KeyObject, whose memory cannot be wiped from JavaScript: it
   * stays in memory until the object is garbage-collected; only its use is refused.
   */
  destroy(): void {
    this.#destroyed = true;
    if (this.#xwing) {
      wipe(this.#xwing.seed);
      wipeDecapsulationKey(this.#xwing.expanded);
    }
  }

  #label(): string {
    return `[${this.kind} private key ${this.publicKey.fingerprint()}]`;
  }

  toJSON(): string {
    return this.#label();
  }

  toString(): string {
    return this.#label();
  }

  [Symbol.toPrimitive](): string {
    return this.#label();
  }

  [inspect.custom](): string {
    return this.#label();
  }
}

/**
 * @internal Raw private bytes for wrapping and secret sharing inside this package. The caller owns
 * the returned buffer and must wipe it. Not exported from the package entry point.
 */
export function exportPrivateBytes(key: PrivateKey): Buffer {
  return exportBytes(key);
}

/** @internal The node:crypto object behind a private key, for DH and signing in this package. */
export function privateKeyObject(key: PrivateKey): KeyObject {
  return objectOf(key);
}

/** @internal An xwing key's expanded decapsulation key, for the X-Wing KEM in this package. */
export function xwingDecapsulationKey(key: PrivateKey<'xwing'>): XWingDecapsulationKey {
  return decapsulationKeyOf(key);
}

/**
 * Entry points check key kinds at runtime: the type parameter is erased, and an Ed25519 key used for
 * X25519 (or the reverse) would otherwise fail deep inside node:crypto with an unnamed error, or as
 * DecryptionFailed. Also refuses look-alike objects that are not this package's keys.
 */
export function assertKind<K extends KeyKind>(key: PublicKey | PrivateKey, kind: K, role: string): void {
  if (!(key instanceof PublicKey || key instanceof PrivateKey) || key.kind !== kind) {
    throw new CryptoError('InvalidKey', `${role} must be an ${kind} key`);
  }
}

/** A key that can be sealed to or opened with: x25519 or xwing (InvalidKey for anything else). */
export function assertRecipientKind(key: PublicKey | PrivateKey, role: string): void {
  if (!(key instanceof PublicKey || key instanceof PrivateKey) || (key.kind !== 'x25519' && key.kind !== 'xwing')) {
    throw new CryptoError('InvalidKey', `${role} must be an x25519 or xwing key`);
  }
}
