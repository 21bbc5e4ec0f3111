/**
 * Ed25519 signatures by the org key over the two bundles of the key hierarchy. A bundle is signed
 * over its canonical encoding — a domain label and fixed-order, length-prefixed fields — so one
 * bundle has exactly one byte string whatever the field order of the JSON it arrived in.
 *
 * Two canonical versions. v1 (no `suite` field) is an X25519 key, as every bundle signed before
 * X-Wing; it stays verifiable forever. v2 has a `suite` field ('x25519' or 'xwing') whose HPKE
 * ids (KEM, KDF, AEAD) are signed, so the suite cannot be changed without breaking the signature.
 * A verifier names the suites it can seal to (`accept`, X25519 alone by default); a bundle for any
 * other suite is refused with UnsupportedSuite, never read as another.
 */
import { sign, verify } from 'node:crypto';
import { fromBase64url, i2osp, isWellFormed, lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { suiteFor } from '../hpke/hpke.ts';
import { assertKind, type PrivateKey, PublicKey, privateKeyObject, type RecipientKind } from '../keys/keys.ts';

/** The suites a bundle or certificate can name, by the kind of its key. */
export const BUNDLE_SUITES = ['x25519', 'xwing'] as const satisfies readonly RecipientKind[];
export type BundleSuite = (typeof BUNDLE_SUITES)[number];

/** The public half of a data key and its validity window (ISO 8601 UTC, as toISOString). */
export interface DataKeyBundle {
  readonly id: string;
  /** Absent in bundles signed before suites were named (canonical v1): those are X25519. */
  readonly suite?: BundleSuite;
  readonly publicKey: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Users' roles, and 'recovery' for the recovery key's own certificate. */
export const ROLES = ['viewer', 'key-admin', 'auditor', 'recovery'] as const;
export type Role = (typeof ROLES)[number];

/** A user's public key and role, as certified by the org key. */
export interface UserCertificate {
  readonly id: string;
  readonly role: Role;
  /** Absent in certificates signed before suites were named (canonical v1): those are X25519. */
  readonly suite?: BundleSuite;
  readonly publicKey: string;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SIGNATURE_LENGTH = 64;

function invalid(why: string): never {
  throw new CryptoError('InvalidBundle', why);
}

/**
 * Reads each expected field of `value` exactly once into a plain object. Everything after this works
 * on the copy: a getter or Proxy that answers differently on a second read cannot make the bytes
 * that were verified differ from the values returned. A read that throws is InvalidBundle.
 */
function readFields<F extends string>(value: unknown, fields: readonly F[]): Record<F | 'suite', unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('not an object');
  try {
    const keys = Object.keys(value);
    // `suite` is the one optional field: its presence is what selects canonical v2.
    const expected: readonly string[] = keys.includes('suite') ? [...fields, 'suite'] : fields;
    if (keys.length !== expected.length || !expected.every((f) => keys.includes(f))) {
      invalid(`expected exactly the fields ${fields.join(', ')} and optionally suite`);
    }
    const source = value as Record<string, unknown>;
    const copy = {} as Record<F | 'suite', unknown>;
    for (const f of expected) copy[f as F] = source[f];
    return copy;
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    invalid('fields cannot be read');
  }
}

function id(value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) invalid('id must be 1–128 characters');
  // An unpaired surrogate would be signed as U+FFFD, so two ids would share one signature.
  if (!isWellFormed(value)) invalid('id is not well-formed Unicode');
  return value;
}

function instant(value: unknown): number {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) invalid('time must be ISO 8601 UTC with milliseconds');
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value) invalid('time is not a real instant');
  // Times are signed as unsigned 64-bit milliseconds: an earlier time has no encoding of its own.
  if (ms < 0) invalid('time is before 1970-01-01');
  return ms;
}

/**
 * The suite field as read: absent is X25519 (canonical v1); a string naming no suite this build
 * knows is UnsupportedSuite; anything else is not a bundle.
 */
function suiteField(value: unknown): BundleSuite | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 1 || value.length > 64) invalid('suite must be a short string');
  if (!(BUNDLE_SUITES as readonly string[]).includes(value)) throw new CryptoError('UnsupportedSuite', 'unknown suite');
  return value as BundleSuite;
}

function recipientKey(value: unknown, kind: RecipientKind): PublicKey<RecipientKind> {
  if (typeof value !== 'string') invalid('publicKey must be base64url');
  try {
    return PublicKey.fromBase64url(kind, value);
  } catch {
    invalid(`publicKey is not an ${kind} public key`);
  }
}

/** The six bytes of HPKE ids (KEM, KDF, AEAD) a v2 bundle signs for its suite. */
function suiteIds(suite: BundleSuite): Buffer {
  const { kem, kdf, aead } = suiteFor(suite);
  return Buffer.concat([i2osp(kem, 2), i2osp(kdf, 2), i2osp(aead, 2)]);
}

/** A bundle or certificate as read once and checked, with its canonical bytes. */
interface Read<T> {
  readonly fields: T;
  readonly key: PublicKey<RecipientKind>;
  readonly canonical: Buffer;
}

function readDataKeyBundle(bundle: unknown): Read<DataKeyBundle> {
  const b = readFields(bundle, ['id', 'publicKey', 'notBefore', 'notAfter']);
  const bundleId = id(b.id);
  const suite = suiteField(b.suite);
  const key = recipientKey(b.publicKey, suite ?? 'x25519');
  const notBefore = instant(b.notBefore);
  const notAfter = instant(b.notAfter);
  if (notAfter <= notBefore) invalid('notAfter must be later than notBefore');
  const fields = {
    id: bundleId,
    ...(suite === undefined ? {} : { suite }),
    publicKey: b.publicKey as string,
    notBefore: b.notBefore as string,
    notAfter: b.notAfter as string,
  };
  const window = [i2osp(notBefore, 8), i2osp(notAfter, 8)];
  const canonical =
    suite === undefined
      ? lengthPrefixed('coffer/data-key-bundle/v1', fields.id, key.bytes(), ...window)
      : lengthPrefixed('coffer/data-key-bundle/v2', fields.id, suiteIds(suite), key.bytes(), ...window);
  return { fields, key, canonical };
}

function readUserCertificate(certificate: unknown): Read<UserCertificate> {
  const c = readFields(certificate, ['id', 'role', 'publicKey']);
  const certificateId = id(c.id);
  if (!ROLES.includes(c.role as Role)) invalid('unknown role');
  const suite = suiteField(c.suite);
  const key = recipientKey(c.publicKey, suite ?? 'x25519');
  const role = c.role as Role;
  const fields = {
    id: certificateId,
    role,
    ...(suite === undefined ? {} : { suite }),
    publicKey: c.publicKey as string,
  };
  const canonical =
    suite === undefined
      ? lengthPrefixed('coffer/user-certificate/v1', fields.id, role, key.bytes())
      : lengthPrefixed('coffer/user-certificate/v2', fields.id, role, suiteIds(suite), key.bytes());
  return { fields, key, canonical };
}

/** Refuse a verified key of a suite the caller cannot seal to: never downgraded, never guessed. */
function accepted<K extends RecipientKind>(key: PublicKey<RecipientKind>, accept: readonly K[]): PublicKey<K> {
  if (!(accept as readonly RecipientKind[]).includes(key.kind)) {
    throw new CryptoError('UnsupportedSuite', `a ${key.kind} key where only ${accept.join(', ')} is supported`);
  }
  return key as PublicKey<K>;
}

/** Canonical bytes of a data key bundle; throws InvalidBundle for anything not well-formed. */
export function canonicalDataKeyBundle(bundle: unknown): Buffer {
  return readDataKeyBundle(bundle).canonical;
}

/** Canonical bytes of a user certificate; throws InvalidBundle for anything not well-formed. */
export function canonicalUserCertificate(certificate: unknown): Buffer {
  return readUserCertificate(certificate).canonical;
}

function signCanonical(orgKey: PrivateKey<'ed25519'>, message: Buffer): string {
  return sign(null, message, privateKeyObject(orgKey)).toString('base64url');
}

function verifyCanonical(trustRoot: PublicKey<'ed25519'>, message: Buffer, signature: string): void {
  let sig: Buffer;
  try {
    sig = fromBase64url(signature, SIGNATURE_LENGTH);
  } catch {
    throw new CryptoError('BadSignature', 'signature is not 64 bytes of base64url');
  }
  if (!verify(null, message, trustRoot.keyObject, sig)) throw new CryptoError('BadSignature');
}

export function signDataKeyBundle(orgKey: PrivateKey<'ed25519'>, bundle: DataKeyBundle): string {
  assertKind(orgKey, 'ed25519', 'org key');
  return signCanonical(orgKey, canonicalDataKeyBundle(bundle));
}

/**
 * Verify against the pinned trust root; returns the bundle with its key ready to seal to. `accept`
 * names the suites the caller can use (X25519 alone unless it says more): a valid bundle of any
 * other suite is UnsupportedSuite. The suite is checked after the signature, so an unsigned
 * relabelling is BadSignature.
 */
export function verifyDataKeyBundle<K extends RecipientKind = 'x25519'>(
  trustRoot: PublicKey<'ed25519'>,
  bundle: unknown,
  signature: string,
  accept: readonly K[] = ['x25519'] as K[],
): DataKeyBundle & { key: PublicKey<K> } {
  assertKind(trustRoot, 'ed25519', 'trust root');
  const { fields, key, canonical } = readDataKeyBundle(bundle);
  verifyCanonical(trustRoot, canonical, signature);
  return { ...fields, key: accepted(key, accept) };
}

/** Whether `at` falls inside the bundle's validity window [notBefore, notAfter). */
export function bundleCovers(bundle: DataKeyBundle, at: Date): boolean {
  const t = at.getTime();
  return Date.parse(bundle.notBefore) <= t && t < Date.parse(bundle.notAfter);
}

export function signUserCertificate(orgKey: PrivateKey<'ed25519'>, certificate: UserCertificate): string {
  assertKind(orgKey, 'ed25519', 'org key');
  return signCanonical(orgKey, canonicalUserCertificate(certificate));
}

/** Verify a user certificate; `accept` as for verifyDataKeyBundle. */
export function verifyUserCertificate<K extends RecipientKind = 'x25519'>(
  trustRoot: PublicKey<'ed25519'>,
  certificate: unknown,
  signature: string,
  accept: readonly K[] = ['x25519'] as K[],
): UserCertificate & { key: PublicKey<K> } {
  assertKind(trustRoot, 'ed25519', 'trust root');
  const { fields, key, canonical } = readUserCertificate(certificate);
  verifyCanonical(trustRoot, canonical, signature);
  return { ...fields, key: accepted(key, accept) };
}
